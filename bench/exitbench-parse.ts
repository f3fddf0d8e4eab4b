/*
 * Reads what guests/exitbench prints (see guests/exitbench/README.md):
 *
 *   exitbench: <name> iters=<n> ticks=<rdtime ticks, all iterations> instret=<rdinstret delta, all iterations>
 *   ...
 *   exitbench: done
 *
 * Everything else on the console (OpenSBI's banner, carriage returns) is
 * ignored. A run that panicked or never printed `done` is an error: its
 * numbers would describe a different experiment.
 */

import { TIMEBASE_HZ } from "../src/machine/memlayout.ts";

export interface ExitbenchRow {
  readonly bench: string;
  readonly iters: number;
  /** rdtime ticks for all iterations. */
  readonly ticks: number;
  /** Instructions retired for all iterations (on QEMU without -icount: host ticks, not instructions). */
  readonly instret: number;
  readonly nsPerOp: number;
  readonly instructionsPerOp: number;
}

const ROW = /^exitbench: (\S+) iters=(\d+) ticks=(\d+) instret=(\d+)\s*$/;
const DONE = /^exitbench: done\s*$/;
const PANIC = /^exitbench: panic.*$/;
const NS_PER_SECOND = 1e9;

/**
 * Parses exitbench's output into one row per benchmark, in order. `timebaseHz`
 * is the guest's rdtime frequency (QEMU virt and popek: 10 MHz).
 */
export function parseExitbench(output: string, timebaseHz: number = TIMEBASE_HZ): ExitbenchRow[] {
  const rows: ExitbenchRow[] = [];
  let done = false;
  for (const line of output.split(/\r?\n|\r/)) {
    if (PANIC.test(line)) throw new Error(`exitbench: the guest panicked: ${line}`);
    if (DONE.test(line)) {
      done = true;
      continue;
    }
    const m = ROW.exec(line);
    if (m === null) continue;
    const iters = Number(m[2]);
    const ticks = Number(m[3]);
    const instret = Number(m[4]);
    if (iters === 0) throw new Error(`exitbench: zero iterations in "${line}"`);
    rows.push({
      bench: m[1]!,
      iters,
      ticks,
      instret,
      nsPerOp: (ticks * NS_PER_SECOND) / timebaseHz / iters,
      instructionsPerOp: instret / iters,
    });
  }
  if (!done) throw new Error(`exitbench: output ends without "exitbench: done" (${rows.length} benchmarks seen)`);
  return rows;
}
