/*
 * `popek bench exits`: the cost of VM exits, measured by a guest.
 *
 * guests/bin/exitbench.elf (an S-mode kernel) times five operations with
 * rdtime: a CSR read that traps under a hypervisor (null exit), a system call
 * round trip through its own trap handler, an SBI call, an MMIO read of a
 * UART register, and the delivery of an IPI to itself. It runs once natively
 * (on Debian's OpenSBI, when installed) and then under the hypervisor for
 * every wait policy and both exit-handler places, and under --virt hw (the
 * kernel in VS-mode), all in this invocation.
 * The floor — a bare worker→main→worker handoff over one SAB word — is
 * measured in the same run, so each exit's cost is also a ratio to what this
 * machine can do at best.
 */

import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { Hypervisor } from "../src/hypervisor/hypervisor.ts";
import type { ExitHandlerPlace } from "../src/hypervisor/vm.ts";
import { WAIT_POLICIES, type WaitPolicy } from "../src/hypervisor/wait.ts";
import { readImageFile } from "../src/machine/image.ts";
import { parseExitbench, type ExitbenchRow } from "./exitbench-parse.ts";
import { measureHandoff } from "./handoff.ts";
import { bootNative } from "./cpu.ts";
import { formatTable } from "../src/report/table.ts";
import { benchNonvirt, formatNonvirt, type NonvirtResult } from "./exits-nonvirt.ts";

const IMAGE = "guests/bin/exitbench.elf";
const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const MB = 2 ** 20;

interface ExitResult {
  readonly bench: string;
  /** hw: --virt hw, the kernel in VS-mode (the H extension): its CSR accesses and own traps do not exit. */
  readonly mode: "native" | "trap" | "hw";
  readonly wait: WaitPolicy | "-";
  readonly handler: ExitHandlerPlace | "-";
  readonly nsPerOp: number;
  readonly instructionsPerOp: number;
  /** nsPerOp over the bare handoff floor of the same wait policy (trap only). */
  readonly ratioToFloor?: number;
}

interface ExitsReport {
  readonly results: ExitResult[];
  /** Median bare worker→main→worker handoff (main thread spinning), ns, per worker wait policy. */
  readonly floorNs: Record<WaitPolicy, number>;
  readonly cores: number;
  readonly nativeSkipped?: string;
  /** The non-virtualizable variant's rows (exits-nonvirt.ts): each fix beside plain trap-and-emulate. */
  readonly nonvirt: NonvirtResult[];
}

interface ExitsOptions {
  /** Iteration scale for exitbench under the hypervisor (its bootargs iters=); by default 1, or less where exits sleep. */
  readonly scale?: string;
  readonly nativeScale?: string;
  readonly progress?: (line: string) => void;
}

async function runNativeExitbench(scale: string): Promise<ExitbenchRow[]> {
  const r = await bootNative(
    { firmware: readImageFile(OPENSBI, "bios"), kernel: readImageFile(IMAGE, "kernel"), append: `iters=${scale}` },
    300,
  );
  return parseExitbench(r.output);
}

async function runTrap(scale: string, wait: WaitPolicy, exitHandler: ExitHandlerPlace, hw = false): Promise<ExitbenchRow[]> {
  let output = "";
  const hv = new Hypervisor({ machineMemory: 80 * MB });
  const vm = hv.createVm({
    name: "exitbench",
    vcpus: 1,
    memSize: 64 * MB,
    images: { bios: { kind: "hv" }, kernel: readImageFile(IMAGE, "kernel"), append: `iters=${scale}` },
    wait,
    exitHandler,
    hw,
    output: (b) => (output += String.fromCharCode(b)),
  });
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), 300_000);
  const r = await vm.result;
  clearTimeout(timer);
  if (r.outcome === "error") throw new Error(`exitbench under --virt ${hw ? "hw" : "trap"} (${wait}, ${exitHandler}): ${r.message}`);
  return parseExitbench(output);
}

async function benchExits(opts: ExitsOptions = {}): Promise<ExitsReport> {
  const progress = opts.progress ?? (() => {});
  const floorNs = {} as Record<WaitPolicy, number>;
  for (const policy of WAIT_POLICIES) {
    const h = await measureHandoff(policy, 20_000);
    floorNs[policy] = h.medianNs;
    progress(`floor (${policy}): ${h.medianNs.toFixed(0)} ns`);
  }
  const results: ExitResult[] = [];
  let nativeSkipped: string | undefined;
  if (existsSync(OPENSBI)) {
    for (const row of await runNativeExitbench(opts.nativeScale ?? "1")) {
      results.push({ bench: row.bench, mode: "native", wait: "-", handler: "-", nsPerOp: row.nsPerOp, instructionsPerOp: row.instructionsPerOp });
    }
    progress("native done");
  } else {
    nativeSkipped = `${OPENSBI} not installed (apt-get install opensbi)`;
  }
  for (const wait of WAIT_POLICIES) {
    for (const handler of ["main", "vcpu"] as const) {
      // Every configuration gets enough iterations for the vCPU thread's JIT to settle (a fresh worker is
      // cold: short runs overstate an exit's cost several times); where each exit sleeps and wakes a
      // thread, fewer, or the run would take minutes.
      const scale = wait === "spin" ? "1" : wait === "poll" ? "1/10" : "1/100";
      for (const row of await runTrap(opts.scale ?? scale, wait, handler)) {
        results.push({
          bench: row.bench,
          mode: "trap",
          wait,
          handler,
          nsPerOp: row.nsPerOp,
          instructionsPerOp: row.instructionsPerOp,
          ratioToFloor: row.nsPerOp / floorNs[wait],
        });
      }
      progress(`trap ${wait}/${handler} done`);
    }
  }
  // --virt hw under the default wait policy: what still exits costs what it costs under trap; the rest is native.
  for (const handler of ["main", "vcpu"] as const) {
    for (const row of await runTrap(opts.scale ?? "1/10", "poll", handler, true)) {
      results.push({ bench: row.bench, mode: "hw", wait: "poll", handler, nsPerOp: row.nsPerOp, instructionsPerOp: row.instructionsPerOp, ratioToFloor: row.nsPerOp / floorNs.poll });
    }
    progress(`hw poll/${handler} done`);
  }
  const nonvirt = await benchNonvirt(progress);
  return { results, floorNs, cores: cpus().length, nativeSkipped, nonvirt };
}

function formatNs(ns: number | undefined): string {
  if (ns === undefined) return "-";
  return ns >= 10_000 ? `${(ns / 1000).toFixed(1)}us` : `${ns.toFixed(0)}ns`;
}

function formatExits(report: ExitsReport): string {
  const columns: { title: string; pick: (r: ExitResult) => boolean }[] = [
    { title: "native", pick: (r) => r.mode === "native" },
  ];
  for (const wait of WAIT_POLICIES) {
    for (const handler of ["main", "vcpu"] as const) {
      columns.push({ title: `${wait}/${handler}`, pick: (r) => r.mode === "trap" && r.wait === wait && r.handler === handler });
    }
  }
  for (const handler of ["main", "vcpu"] as const) {
    columns.push({ title: `hw/${handler}`, pick: (r) => r.mode === "hw" && r.handler === handler });
  }
  const benches = [...new Set(report.results.map((r) => r.bench))];
  const rows: string[][] = [["bench", ...columns.map((c) => c.title)]];
  for (const bench of benches) {
    rows.push([bench, ...columns.map((c) => formatNs(report.results.find((r) => r.bench === bench && c.pick(r))?.nsPerOp))]);
  }
  rows.push(["floor", "-", ...WAIT_POLICIES.flatMap((w) => [formatNs(report.floorNs[w]), formatNs(report.floorNs[w])]), formatNs(report.floorNs.poll), formatNs(report.floorNs.poll)]);
  const table = formatTable(rows);
  const notes = [
    `ns per operation, timed by the guest with rdtime; columns under the hypervisor are --wait/--exit-handler (trap), hw/--exit-handler (--virt hw, --wait poll).`,
    `floor: median bare worker->main->worker handoff with the main thread spinning, per worker wait policy.`,
    `host: ${report.cores} cores; each VM has 1 vCPU thread plus the hypervisor's main thread.`,
  ];
  if (report.nativeSkipped !== undefined) notes.push(`native: skipped, ${report.nativeSkipped}`);
  return `${table}\n\n${notes.join("\n")}\n\n${formatNonvirt(report.nonvirt)}`;
}

export async function benchExitsCommand(flags: { json?: boolean; scale?: string }): Promise<number> {
  const report = await benchExits({ scale: flags.scale, progress: (l) => process.stderr.write(`  ${l}\n`) });
  process.stdout.write(formatExits(report));
  if (flags.json) process.stdout.write(JSON.stringify(report) + "\n");
  return 0;
}
