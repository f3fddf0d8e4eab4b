/*
 * Reads what guests/mmubench prints (see its main.c):
 *
 *   mmubench: <bench> mmu=<sv39|swtlb> iters=<n> ticks=<rdtime ticks, all iterations> instret=<rdinstret delta>
 *   ...
 *   mmubench: done
 *
 * or `mmubench: unsupported: ...` when the machine does not take Sv39 in
 * satp (a hypervisor without guest paging): that is an answer, not an error.
 * A panic, or output without `done`, is an error: its numbers would
 * describe a different experiment.
 */

import { TIMEBASE_HZ } from "../src/machine/memlayout.ts";

export const MMU_BENCHES = ["pgfault", "ptemod", "ctxsw", "tlbwalk"] as const;
type MmuBench = (typeof MMU_BENCHES)[number];

interface MmubenchRow {
  readonly bench: MmuBench;
  readonly mmu: "sv39" | "swtlb";
  readonly iters: number;
  readonly ticks: number;
  readonly instret: number;
  readonly nsPerOp: number;
  readonly instructionsPerOp: number;
}

export type MmubenchOutcome =
  | { readonly kind: "rows"; readonly rows: MmubenchRow[] }
  | { readonly kind: "unsupported"; readonly reason: string };

const ROW = /^mmubench: (\S+) mmu=(sv39|swtlb) iters=(\d+) ticks=(\d+) instret=(\d+)\s*$/;
const DONE = /^mmubench: done\s*$/;
const UNSUPPORTED = /^mmubench: unsupported: (.*?)\s*$/;
const PANIC = /^mmubench: panic.*$/;

function isBench(name: string): name is MmuBench {
  return (MMU_BENCHES as readonly string[]).includes(name);
}

/** Parses mmubench's output; `timebaseHz` is rdtime's frequency (10 MHz on popek and QEMU virt). */
export function parseMmubench(output: string, timebaseHz: number = TIMEBASE_HZ): MmubenchOutcome {
  const rows: MmubenchRow[] = [];
  let done = false;
  for (const line of output.split(/\r?\n|\r/)) {
    if (PANIC.test(line)) throw new Error(`mmubench: the guest panicked: ${line}`);
    const unsupported = UNSUPPORTED.exec(line);
    if (unsupported !== null) return { kind: "unsupported", reason: unsupported[1]! };
    if (DONE.test(line)) {
      done = true;
      continue;
    }
    const m = ROW.exec(line);
    if (m === null) continue;
    const bench = m[1]!;
    if (!isBench(bench)) throw new Error(`mmubench: unknown benchmark "${bench}"`);
    const iters = Number(m[3]);
    if (iters === 0) throw new Error(`mmubench: zero iterations in "${line}"`);
    const ticks = Number(m[4]);
    const instret = Number(m[5]);
    rows.push({
      bench,
      mmu: m[2] as "sv39" | "swtlb",
      iters,
      ticks,
      instret,
      nsPerOp: (ticks * 1e9) / timebaseHz / iters,
      instructionsPerOp: instret / iters,
    });
  }
  if (!done) throw new Error(`mmubench: output ends without "mmubench: done" (${rows.length} benchmarks seen)`);
  const missing = MMU_BENCHES.filter((b) => !rows.some((r) => r.bench === b));
  if (missing.length > 0) throw new Error(`mmubench: no result for ${missing.join(", ")}`);
  return { kind: "rows", rows };
}
