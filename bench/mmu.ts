/*
 * `popek bench mmu`: what memory virtualization costs, measured by a guest,
 * in the spirit of Adams & Agesen's nanobenchmarks (ASPLOS 2006).
 *
 * guests/bin/mmubench.elf (M-mode setup, an S-mode kernel) times pgfault,
 * ptemod, ctxsw and tlbwalk (see its main.c). Two row sets, each natively
 * and under --virt trap with both exit-handler places, in this invocation:
 *
 *   sv39    the hardware walker natively; under trap the guest's page tables
 *           need shadow paging. Until the hypervisor has it, the guest finds
 *           that satp will not take Sv39 and says so: those rows read
 *           "needs shadow paging" (no number). They fill in by themselves
 *           once the hypervisor virtualizes guest paging.
 *   swtlb   --mmu swtlb: the guest refills a software-managed TLB, which the
 *           hypervisor virtualizes (src/hypervisor/swtlb-virt.ts).
 *
 * Sv39 also has --virt hw rows: the guest kernel in VS-mode, its tables
 * walked by the H extension's two-stage translation (no shadow), so a
 * page-table update costs no exit and a TLB miss costs a longer walk.
 *
 * Each trap and hw row is also a ratio to its native row of the same MMU.
 */

import { cpus } from "node:os";
import { Hypervisor } from "../src/hypervisor/hypervisor.ts";
import type { ExitHandlerPlace } from "../src/hypervisor/vm.ts";
import { Board } from "../src/machine/board.ts";
import { readImageFile } from "../src/machine/image.ts";
import { runBoard } from "../src/machine/runner.ts";
import type { MmuMode } from "../src/machine/swtlb.ts";
import { SHADOW_COHERENCE, type ShadowCoherence } from "../src/hypervisor/shadow/shadow-state.ts";
import { formatTable } from "../src/report/table.ts";
import { MMU_BENCHES, parseMmubench, type MmubenchOutcome } from "./mmubench-parse.ts";

const MMUBENCH_IMAGE = "guests/bin/mmubench.elf";
const MB = 2 ** 20;
const NEEDS_SHADOW = "needs shadow paging";

export interface MmuResult {
  readonly bench: string;
  readonly mmu: MmuMode;
  /** hw: --virt hw (the H extension's two-stage translation; Sv39 only). */
  readonly mode: "native" | "trap" | "hw";
  readonly handler: ExitHandlerPlace | "-";
  /** Under trap with sv39: how the shadow stays coherent (--shadow-coherence); "-" natively and with swtlb. */
  readonly coherence: ShadowCoherence | "-";
  /** ns per operation; null when the configuration cannot run the bench (see status). */
  readonly nsPerOp: number | null;
  /** nsPerOp over the native row of the same bench and MMU. */
  readonly ratio: number | null;
  readonly instructionsPerOp: number | null;
  /** "ok", or why there is no number ("needs shadow paging"). */
  readonly status: string;
}

export interface MmuReport {
  readonly results: MmuResult[];
  readonly cores: number;
  readonly nativeScale: string;
  readonly trapScale: string;
}

export interface MmuOptions {
  /** iters= for native runs (the guest's passes scale). */
  readonly nativeScale?: string;
  /** iters= under the hypervisor (exits are costly: fewer passes). */
  readonly trapScale?: string;
  /** Which MMUs (row sets) to run; both by default. */
  readonly mmus?: readonly MmuMode[];
  /** Which exit-handler places under trap; both by default. */
  readonly handlers?: readonly ExitHandlerPlace[];
  /** Also the --virt hw rows (Sv39); default true. */
  readonly hw?: boolean;
  readonly progress?: (line: string) => void;
}

async function runNative(mmu: MmuMode, scale: string): Promise<MmubenchOutcome> {
  let output = "";
  const board = new Board({ harts: 1, memSize: 128 * MB, clock: "real", mmu, output: (b) => (output += String.fromCharCode(b)) });
  board.boot({ kernel: readImageFile(MMUBENCH_IMAGE, "kernel"), append: `iters=${scale}` });
  await runBoard(board, { timeoutSeconds: 300 });
  return parseMmubench(output);
}

async function runTrap(mmu: MmuMode, scale: string, exitHandler: ExitHandlerPlace, shadowCoherence: ShadowCoherence, hw = false): Promise<MmubenchOutcome> {
  let output = "";
  const hv = new Hypervisor({ machineMemory: 80 * MB });
  const vm = hv.createVm({
    name: "mmubench",
    vcpus: 1,
    memSize: 64 * MB,
    images: { bios: { kind: "none" }, kernel: readImageFile(MMUBENCH_IMAGE, "kernel"), append: `iters=${scale}` },
    wait: "poll",
    exitHandler,
    mmu,
    hw,
    shadowCoherence,
    output: (b) => (output += String.fromCharCode(b)),
  });
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), 600_000);
  const r = await vm.result;
  clearTimeout(timer);
  // A hypervisor that stops a paging guest outright says so in its message: the same answer.
  if (r.outcome === "error" && /paging/.test(r.message ?? "")) return { kind: "unsupported", reason: r.message ?? "" };
  if (r.outcome === "error") throw new Error(`mmubench under --virt ${hw ? "hw" : "trap"} --mmu ${mmu} (${exitHandler}): ${r.message}`);
  return parseMmubench(output);
}

export async function benchMmu(opts: MmuOptions = {}): Promise<MmuReport> {
  const progress = opts.progress ?? (() => {});
  const nativeScale = opts.nativeScale ?? "1";
  const trapScale = opts.trapScale ?? "1/10";
  const results: MmuResult[] = [];
  for (const mmu of opts.mmus ?? (["sv39", "swtlb"] as const)) {
    const native = await runNative(mmu, nativeScale);
    if (native.kind !== "rows") throw new Error(`mmubench natively with --mmu ${mmu}: ${native.reason}`);
    const nativeNs = new Map(native.rows.map((r) => [r.bench, r.nsPerOp]));
    for (const r of native.rows) {
      results.push({ bench: r.bench, mmu, mode: "native", handler: "-", coherence: "-", nsPerOp: r.nsPerOp, ratio: 1, instructionsPerOp: r.instructionsPerOp, status: "ok" });
    }
    progress(`native ${mmu} done`);
    // Shadow paging runs with both coherence policies (the TLB-lifetime default and write-protection);
    // --virt hw has rows for Sv39 only: the H extension's two-stage walk has no software-refilled twin.
    const runs: { mode: "trap" | "hw"; coherence: ShadowCoherence | "-" }[] =
      mmu === "sv39" ? [...SHADOW_COHERENCE.map((c) => ({ mode: "trap" as const, coherence: c })), ...(opts.hw !== false ? [{ mode: "hw" as const, coherence: "-" as const }] : [])] : [{ mode: "trap", coherence: "-" }];
    for (const { mode, coherence } of runs) {
      for (const handler of opts.handlers ?? (["main", "vcpu"] as const)) {
        const trap = await runTrap(mmu, trapScale, handler, coherence === "-" ? "tlb" : coherence, mode === "hw");
        for (const bench of MMU_BENCHES) {
          const row = trap.kind === "rows" ? trap.rows.find((r) => r.bench === bench) : undefined;
          const base = nativeNs.get(bench);
          results.push({
            bench,
            mmu,
            mode,
            handler,
            coherence,
            nsPerOp: row?.nsPerOp ?? null,
            ratio: row !== undefined && base !== undefined && base > 0 ? row.nsPerOp / base : null,
            instructionsPerOp: row?.instructionsPerOp ?? null,
            status: row !== undefined ? "ok" : NEEDS_SHADOW,
          });
        }
        progress(`${mode} ${mmu}${coherence === "-" ? "" : `, ${coherence}`}/${handler} ${trap.kind === "rows" ? "done" : `: ${NEEDS_SHADOW} (${trap.reason})`}`);
      }
    }
  }
  return { results, cores: cpus().length, nativeScale, trapScale };
}

function formatNs(ns: number | null): string {
  if (ns === null) return "-";
  return ns >= 10_000 ? `${(ns / 1000).toFixed(1)}us` : `${ns.toFixed(0)}ns`;
}

function formatCell(r: MmuResult | undefined): string {
  if (r === undefined) return "-";
  if (r.nsPerOp === null) return r.status;
  return r.mode === "native" ? formatNs(r.nsPerOp) : `${formatNs(r.nsPerOp)} (${r.ratio === null ? "?" : r.ratio.toFixed(1)}x)`;
}

export function formatMmu(report: MmuReport): string {
  const mmus = [...new Set(report.results.map((r) => r.mmu))];
  const columns: { title: string; mode: MmuResult["mode"]; handler: ExitHandlerPlace | "-" }[] = [
    { title: "native", mode: "native", handler: "-" },
    { title: "trap/main", mode: "trap", handler: "main" },
    { title: "trap/vcpu", mode: "trap", handler: "vcpu" },
    { title: "hw/main", mode: "hw", handler: "main" },
    { title: "hw/vcpu", mode: "hw", handler: "vcpu" },
  ];
  const rows: string[][] = [["bench", ...columns.map((c) => c.title)]];
  for (const mmu of mmus) {
    const coherences = [...new Set(report.results.filter((r) => r.mmu === mmu && r.mode === "trap").map((r) => r.coherence))];
    for (const coherence of coherences) {
      for (const bench of MMU_BENCHES) {
        const pick = (c: (typeof columns)[number]) => (r: MmuResult) =>
          r.bench === bench && r.mmu === mmu && r.mode === c.mode && r.handler === c.handler && (c.mode !== "trap" || r.coherence === coherence);
        rows.push([`${bench} (${mmu}${coherence === "-" ? "" : `, ${coherence}`})`, ...columns.map((c) => formatCell(report.results.find(pick(c))))]);
      }
    }
  }
  const notes = [
    "ns per operation, timed by the guest with rdtime; (Nx) is the ratio to the native row of the same MMU.",
    "sv39: the hardware walker (under trap: shadow paging, --shadow-coherence tlb or wp; under hw: the H extension's two-stage walk, no shadow, the same figures in both rows); swtlb: --mmu swtlb, the guest refills a software-managed TLB.",
    `iters= native ${report.nativeScale}, under trap ${report.trapScale} (--wait poll); host: ${report.cores} cores.`,
  ];
  return `${formatTable(rows)}\n\n${notes.join("\n")}\n`;
}

export async function benchMmuCommand(flags: { json?: boolean; scale?: string; nativeScale?: string }): Promise<number> {
  const report = await benchMmu({ trapScale: flags.scale, nativeScale: flags.nativeScale, progress: (l) => process.stderr.write(`  ${l}\n`) });
  process.stdout.write(formatMmu(report));
  if (flags.json) process.stdout.write(JSON.stringify(report) + "\n");
  return 0;
}
