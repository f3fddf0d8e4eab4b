/*
 * `popek bench exits`, the non-virtualizable variant's rows (issue 18):
 * what running the sensitive instructions of --isa-variant nonvirt costs
 * each way, beside plain trap-and-emulate on the standard ISA.
 *
 * guests/bin/nonvirt-bench.elf (and its -DPARAVIRT build) times a status
 * read (`csrr mstatus`, pushf) and an interrupt save/disable/restore
 * (csrr, csrc, csrw of mstatus) with rdtime, as an M-mode guest:
 *
 *   config        ISA       guest build  --nonvirt-fix  correct?
 *   ------------  --------  -----------  -------------  --------------------------------
 *   native        nonvirt   plain        -              yes (real M-mode)
 *   trap          standard  plain        none           yes: every access traps, emulated
 *   trap-nonvirt  nonvirt   plain        none           NO: reads the real hart, drops writes
 *   pv            nonvirt   PARAVIRT     none           yes: a POPK hypercall per access
 *   scan          nonvirt   plain        scan           yes: patched sites trap, emulated
 *
 * Every VM runs with --wait poll --exit-handler vcpu (exits handled on the
 * vCPU thread, as KVM handles them in the kernel), so the comparison is of
 * the mechanisms, not of the thread handoff.
 */

import { existsSync } from "node:fs";
import { Hypervisor } from "../src/hypervisor/hypervisor.ts";
import type { NonvirtFix } from "../src/hypervisor/nonvirt/code-scanner.ts";
import type { IsaVariant } from "../src/machine/isa-variant.ts";
import { readImageFile } from "../src/machine/image.ts";
import { formatTable } from "../src/report/table.ts";
import { bootNative } from "./cpu.ts";
import { parseExitbench } from "./exitbench-parse.ts";

const PLAIN = "guests/bin/nonvirt-bench.elf";
const PV = "guests/bin/nonvirt-bench-pv.elf";
const MB = 2 ** 20;
/** Sensitive accesses per operation of each bench (guests/nonvirt-demo/bench.c). */
const ACCESSES: Readonly<Record<string, number>> = { "status-read": 1, "irq-save-restore": 3 };
/** Each bench also runs untimed: once in full, then a tenth of its iterations right before it is timed. */
const WARMUP = 2.1;

export const NONVIRT_CONFIGS = ["native", "trap", "trap-nonvirt", "pv", "scan"] as const;
type NonvirtConfig = (typeof NONVIRT_CONFIGS)[number];

export interface NonvirtResult {
  readonly bench: string;
  readonly config: NonvirtConfig;
  readonly nsPerOp: number;
  readonly instructionsPerOp: number;
  /**
   * The run's exits per sensitive access (hypercalls, patched-site traps, CSR exits) over both
   * benches, from the VM's counters: about 1 where each access exits, about 0 where none does; 0 natively.
   */
  readonly exitsPerAccess: number;
  /** Whether this configuration runs the guest correctly (trap-nonvirt does not: it is the broken baseline). */
  readonly correct: boolean;
}

interface TrapSpec {
  readonly image: string;
  readonly isaVariant: IsaVariant;
  readonly nonvirtFix: NonvirtFix;
}

const TRAP_SPECS: Readonly<Record<Exclude<NonvirtConfig, "native">, TrapSpec>> = {
  trap: { image: PLAIN, isaVariant: "standard", nonvirtFix: "none" },
  "trap-nonvirt": { image: PLAIN, isaVariant: "nonvirt", nonvirtFix: "none" },
  pv: { image: PV, isaVariant: "nonvirt", nonvirtFix: "none" },
  scan: { image: PLAIN, isaVariant: "nonvirt", nonvirtFix: "scan" },
};

/** Runs nonvirt-bench under the hypervisor; its rows and the VM's exit count. */
async function runTrap(spec: TrapSpec): Promise<{ output: string; exits: number }> {
  let output = "";
  const hv = new Hypervisor({ machineMemory: 48 * MB });
  const vm = hv.createVm({
    name: "nonvirt-bench",
    vcpus: 1,
    memSize: 32 * MB,
    images: { bios: { kind: "none" }, kernel: readImageFile(spec.image, "kernel") },
    wait: "poll",
    exitHandler: "vcpu",
    isaVariant: spec.isaVariant,
    nonvirtFix: spec.nonvirtFix,
    output: (b) => (output += String.fromCharCode(b)),
  });
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), 300_000);
  const r = await vm.result;
  clearTimeout(timer);
  if (r.outcome === "error") throw new Error(`nonvirt-bench (${spec.isaVariant}, fix ${spec.nonvirtFix}): ${r.message}`);
  return { output, exits: r.reports[0]?.stats.exits ?? 0 };
}

/** Every configuration's rows, or the reason they were skipped (images not built). */
export async function benchNonvirt(progress: (line: string) => void): Promise<NonvirtResult[]> {
  if (!existsSync(PLAIN) || !existsSync(PV)) throw new Error(`bench exits: ${PLAIN} or ${PV} missing (make -C guests)`);
  const results: NonvirtResult[] = [];
  const native = await bootNative({ kernel: readImageFile(PLAIN, "kernel") }, 300);
  for (const row of parseExitbench(native.output)) {
    results.push({ bench: row.bench, config: "native", nsPerOp: row.nsPerOp, instructionsPerOp: row.instructionsPerOp, exitsPerAccess: 0, correct: true });
  }
  for (const config of ["trap", "trap-nonvirt", "pv", "scan"] as const) {
    const { output, exits } = await runTrap(TRAP_SPECS[config]);
    const rows = parseExitbench(output);
    // The whole run's exits over every access, timed and warm-up: to within the few set-up exits (console, rdtime).
    const accesses = rows.reduce((n, r) => n + r.iters * WARMUP * (ACCESSES[r.bench] ?? 1), 0);
    for (const row of rows) {
      results.push({ bench: row.bench, config, nsPerOp: row.nsPerOp, instructionsPerOp: row.instructionsPerOp, exitsPerAccess: exits / accesses, correct: config !== "trap-nonvirt" });
    }
    progress(`nonvirt ${config} done`);
  }
  return results;
}

function formatNs(ns: number | undefined): string {
  if (ns === undefined) return "-";
  return ns >= 10_000 ? `${(ns / 1000).toFixed(1)}us` : `${ns.toFixed(0)}ns`;
}

/** The variant's table: a row per bench, a column per configuration. */
export function formatNonvirt(results: readonly NonvirtResult[]): string {
  const benches = [...new Set(results.map((r) => r.bench))];
  const rows: string[][] = [["bench (--isa-variant nonvirt)", ...NONVIRT_CONFIGS]];
  for (const bench of benches) {
    rows.push([bench, ...NONVIRT_CONFIGS.map((c) => formatNs(results.find((r) => r.bench === bench && r.config === c)?.nsPerOp))]);
  }
  const notes = [
    "ns per operation of guests/nonvirt-bench (M-mode), all VMs --wait poll --exit-handler vcpu:",
    "trap: standard ISA, trap-and-emulate; trap-nonvirt: the variant under plain trap (no exits, WRONG results);",
    "pv: the POPK hypercall build; scan: --nonvirt-fix scan (patched sites trap and are emulated).",
  ];
  return `${formatTable(rows)}\n\n${notes.join("\n")}\n`;
}
