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

import { spawn } from "node:child_process";
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
import type { LatencySummary } from "../src/hypervisor/vcpu-runner.ts";
import { pinLayout, pinningUnavailable } from "../src/host/affinity.ts";

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

/** One exit configuration run quietly and again beside a CPU hog on every core (the vCPU's sampled round trips). */
interface LoadedResult {
  readonly wait: WaitPolicy;
  readonly handler: ExitHandlerPlace;
  /** --pin: the main thread and the vCPU each pinned to a core of its own (src/host/affinity.ts). */
  readonly pinned: boolean;
  /** The quiet passes' p50 and p99, each the median over LOADED_PASSES runs. */
  readonly quietP50Ns: number;
  readonly quietP99Ns: number;
  /** The loaded passes' p50 and p99, each the median over LOADED_PASSES runs beside the hog. */
  readonly loadedP50Ns: number;
  readonly loadedP99Ns: number;
  /** The worst loaded pass's p99. */
  readonly loadedWorstP99Ns: number;
  /** loadedP99Ns / quietP50Ns: the goal is <= 20 for poll. */
  readonly p99OverQuietP50: number;
  /** loadedWorstP99Ns / quietP50Ns. */
  readonly worstP99OverQuietP50: number;
  readonly passes: number;
  /** Each pass's share of looks that found the vCPU on the main thread's core (host_cpu_shared), quiet then loaded. */
  readonly quietSharedCore: number[];
  readonly loadedSharedCore: number[];
}

/** Several single-vCPU VMs exiting at once, all served by the one main thread. */
interface ScalingResult {
  readonly vcpus: number;
  readonly wait: WaitPolicy;
  /** Null exits per second, summed over the vCPUs (each vCPU's rate from its own guest clock). */
  readonly exitsPerSec: number;
  /** exitsPerSec / vcpus. */
  readonly perVcpu: number;
}

interface ExitsReport {
  readonly results: ExitResult[];
  readonly loaded: LoadedResult[];
  /** Why there are no loaded rows (no stress-ng), if so. */
  readonly loadedSkipped?: string;
  /** Why there is no pinned loaded row (pinningUnavailable), if so. */
  readonly pinnedSkipped?: string;
  readonly scaling: ScalingResult[];
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

interface TrapRun {
  readonly rows: ExitbenchRow[];
  /** The vCPU's sampled exit round trips (vcpu-runner.ts). */
  readonly latency: LatencySummary | undefined;
  /** The share of host_cpu_samples that found the vCPU on the main thread's core (stats.ts), 0..1; NaN without looks. */
  readonly sharedCore: number;
}

async function runTrap(scale: string, wait: WaitPolicy, exitHandler: ExitHandlerPlace, hw = false): Promise<ExitbenchRow[]> {
  return (await runTrapVms(1, scale, wait, exitHandler, hw))[0].rows;
}

/** Runs `count` exitbench VMs (one vCPU each) at once on one hypervisor: one main thread serves them all. */
async function runTrapVms(count: number, scale: string, wait: WaitPolicy, exitHandler: ExitHandlerPlace, hw = false, pinned = false): Promise<TrapRun[]> {
  const hv = new Hypervisor({ machineMemory: count * 80 * MB });
  const outputs: string[] = [];
  const vms = Array.from({ length: count }, (_, i) => {
    outputs.push("");
    return hv.createVm({
      name: `exitbench${i}`,
      vcpus: 1,
      memSize: 64 * MB,
      images: { bios: { kind: "hv" }, kernel: readImageFile(IMAGE, "kernel"), append: `iters=${scale}` },
      wait,
      exitHandler,
      hw,
      pin: pinned ? pinLayout(true, 1) : undefined,
      output: (b) => (outputs[i] += String.fromCharCode(b)),
    });
  });
  for (const vm of vms) hv.start(vm);
  const timer = setTimeout(() => vms.forEach((vm) => vm.stop("stopped", 124, "timeout")), 600_000);
  const results = await Promise.all(vms.map((vm) => vm.result));
  clearTimeout(timer);
  return results.map((r, i) => {
    if (r.outcome === "error") throw new Error(`exitbench under --virt ${hw ? "hw" : "trap"} (${wait}, ${exitHandler}): ${r.message}`);
    const stats = r.reports[0]?.stats;
    const sharedCore = stats === undefined ? Number.NaN : stats.host_cpu_shared / stats.host_cpu_samples;
    return { rows: parseExitbench(outputs[i]), latency: r.reports[0]?.latency, sharedCore };
  });
}

const STRESS_NG = "/usr/bin/stress-ng";

/** Runs `work` beside a CPU hog on every core (stress-ng --cpu N), then stops the hog and waits until it is gone. */
async function withCpuHog<T>(cores: number, work: () => Promise<T>): Promise<T> {
  const hog = spawn(STRESS_NG, ["--cpu", String(cores), "--timeout", "900s", "--quiet"], { stdio: "ignore" });
  const gone = new Promise<void>((resolve) => hog.once("close", () => resolve()));
  try {
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the hogs get going
    return await work();
  } finally {
    // The next configuration's quiet passes must not meet hogs still winding down.
    hog.kill("SIGTERM");
    await gone;
  }
}

/**
 * Runs beside the hog per loaded case: one pass can meet a scheduler that
 * happens to favour or starve the pair of threads for its whole length, so
 * the table gives the median pass and, beside it, the worst. The quiet side
 * is a median of as many passes: on a quiet 2-core host about one pass in
 * five finds the vCPU and the main thread sharing one core for its whole
 * length (futex handoffs, p50 ~4 µs instead of ~0.5 µs), and one such pass
 * would flatter the ratio eightfold.
 */
const LOADED_PASSES = 3;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

interface LatencyPass extends LatencySummary {
  readonly sharedCore: number;
}

/** LOADED_PASSES runs of one configuration: each run's sampled round trips, and how often its two threads shared a core. */
async function latencyPasses(scale: string, wait: WaitPolicy, handler: ExitHandlerPlace, pinned: boolean): Promise<LatencyPass[]> {
  const passes: LatencyPass[] = [];
  for (let i = 0; i < LOADED_PASSES; i++) {
    const run = (await runTrapVms(1, scale, wait, handler, false, pinned))[0];
    if (run.latency === undefined) throw new Error("exitbench: the vCPU reported no latency");
    passes.push({ ...run.latency, sharedCore: run.sharedCore });
  }
  return passes;
}

/** Quiet, then loaded (LOADED_PASSES runs each, the loaded ones beside one hog): the sampled round trips of one configuration. */
async function loadedCase(scale: string, wait: WaitPolicy, handler: ExitHandlerPlace, cores: number, pinned = false): Promise<LoadedResult> {
  const quietPasses = await latencyPasses(scale, wait, handler, pinned);
  const loaded = await withCpuHog(cores, () => latencyPasses(scale, wait, handler, pinned));
  const quiet = { p50Ns: median(quietPasses.map((l) => l.p50Ns)), p99Ns: median(quietPasses.map((l) => l.p99Ns)) };
  const p99 = median(loaded.map((l) => l.p99Ns));
  const worstP99 = Math.max(...loaded.map((l) => l.p99Ns));
  return {
    wait,
    handler,
    pinned,
    quietP50Ns: quiet.p50Ns,
    quietP99Ns: quiet.p99Ns,
    loadedP50Ns: median(loaded.map((l) => l.p50Ns)),
    loadedP99Ns: p99,
    loadedWorstP99Ns: worstP99,
    p99OverQuietP50: p99 / quiet.p50Ns,
    worstP99OverQuietP50: worstP99 / quiet.p50Ns,
    passes: loaded.length,
    quietSharedCore: quietPasses.map((l) => l.sharedCore),
    loadedSharedCore: loaded.map((l) => l.sharedCore),
  };
}

/** Aggregate null-exit rate with 1, 2, 4 and 8 vCPUs exiting at once (one VM each, one main thread). */
async function scaling(scale: string, wait: WaitPolicy): Promise<ScalingResult[]> {
  const out: ScalingResult[] = [];
  for (const vcpus of SCALING_VCPUS) {
    const runs = await runTrapVms(vcpus, scale, wait, "main");
    let exitsPerSec = 0;
    for (const run of runs) {
      const nul = run.rows.find((r) => r.bench === "null");
      if (nul === undefined) throw new Error("exitbench: no null row");
      exitsPerSec += 1e9 / nul.nsPerOp;
    }
    out.push({ vcpus, wait, exitsPerSec, perVcpu: exitsPerSec / vcpus });
  }
  return out;
}

const SCALING_VCPUS = [1, 2, 4, 8] as const;

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
  const cores = cpus().length;
  const loaded: LoadedResult[] = [];
  let loadedSkipped: string | undefined;
  let pinnedSkipped: string | undefined;
  if (existsSync(STRESS_NG)) {
    for (const wait of WAIT_POLICIES) {
      // Short runs: beside a hog every round trip may cost a scheduler time slice.
      loaded.push(await loadedCase(opts.scale ?? (wait === "block" ? "1/1000" : "1/200"), wait, "main", cores));
      progress(`loaded ${wait}/main done`);
    }
    // The same poll case with the two threads pinned apart: what the scheduler's placement costs the tail.
    pinnedSkipped = pinningUnavailable();
    if (pinnedSkipped === undefined) {
      loaded.push(await loadedCase(opts.scale ?? "1/200", "poll", "main", cores, true));
      progress("loaded poll/main pinned done");
    }
  } else {
    loadedSkipped = `${STRESS_NG} not installed (apt-get install stress-ng)`;
  }
  const scalingRows: ScalingResult[] = [];
  for (const wait of ["spin", "poll"] as const) {
    // 8 spinning vCPUs on a 2-core host time-share the cores with the main thread: keep their runs short.
    scalingRows.push(...(await scaling(opts.scale ?? (wait === "spin" ? "1/1000" : "1/100"), wait)));
    progress(`scaling ${wait} done`);
  }
  return { results, loaded, loadedSkipped, pinnedSkipped, scaling: scalingRows, floorNs, cores, nativeSkipped, nonvirt };
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
  return `${table}\n\n${notes.join("\n")}\n\n${formatLoaded(report)}\n${formatScaling(report)}\n${formatNonvirt(report.nonvirt)}`;
}

function formatShare(share: number): string {
  return Number.isNaN(share) ? "-" : `${Math.round(share * 100)}%`;
}

function formatLoaded(report: ExitsReport): string {
  if (report.loadedSkipped !== undefined) return `loaded: skipped, ${report.loadedSkipped}\n`;
  const rows = [["wait/handler", "quiet p50", "quiet p99", "loaded p50", "loaded p99", "worst p99", "loaded p99 / quiet p50", "worst", "one core (loaded passes)"]];
  for (const r of report.loaded) {
    rows.push([
      `${r.wait}/${r.handler}${r.pinned ? " --pin" : ""}`,
      formatNs(r.quietP50Ns),
      formatNs(r.quietP99Ns),
      formatNs(r.loadedP50Ns),
      formatNs(r.loadedP99Ns),
      formatNs(r.loadedWorstP99Ns),
      `${r.p99OverQuietP50.toFixed(1)}x`,
      `${r.worstP99OverQuietP50.toFixed(1)}x`,
      r.loadedSharedCore.map(formatShare).join(" "),
    ]);
  }
  const passes = report.loaded[0]?.passes ?? LOADED_PASSES;
  return `${formatTable(rows)}\n\nexit round trips sampled by the vCPU (1 in 16), quiet and then beside stress-ng --cpu ${report.cores} (a hog on every core): quiet and loaded figures are medians of ${passes} passes each, worst p99 the worst loaded pass's. one core: in each loaded pass, the share of looks (host_cpu_shared) that found the vCPU on the main thread's core. --pin: the main thread and the vCPU pinned to cores of their own${report.pinnedSkipped === undefined ? "" : ` (skipped: ${report.pinnedSkipped})`}.\n`;
}

function formatScaling(report: ExitsReport): string {
  const rows = [["vCPUs", ...report.scaling.filter((r) => r.vcpus === 1).map((r) => `${r.wait}: exits/s`), "per vCPU"]];
  for (const vcpus of SCALING_VCPUS) {
    const at = report.scaling.filter((r) => r.vcpus === vcpus);
    rows.push([String(vcpus), ...at.map((r) => r.exitsPerSec.toFixed(0)), at.map((r) => r.perVcpu.toFixed(0)).join(" / ")]);
  }
  return `${formatTable(rows)}\n\nnull exits per second summed over vCPUs exiting at once (one single-vCPU VM each), all served by the one main thread.\n`;
}

export async function benchExitsCommand(flags: { json?: boolean; scale?: string }): Promise<number> {
  const report = await benchExits({ scale: flags.scale, progress: (l) => process.stderr.write(`  ${l}\n`) });
  process.stdout.write(formatExits(report));
  if (flags.json) process.stdout.write(JSON.stringify(report) + "\n");
  return 0;
}
