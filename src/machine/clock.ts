/*
 * The board's time base (mtime at 10 MHz). Two clocks, as DESIGN.md asks:
 * real time, for interactive use and benchmarks, and a deterministic clock
 * derived from instructions retired, so a test or a lesson runs identically
 * every time.
 */

import type { Clock } from "../devices/device.ts";
import { TICKS_PER_MS } from "./memlayout.ts";

export type ClockKind = "real" | "icount";

/** Instructions per mtime tick on the deterministic clock: a nominal 100 MIPS hart. */
const INSTRUCTIONS_PER_TICK = 10;

export class RealClock implements Clock {
  private readonly start = performance.now();
  mtime(): number {
    return Math.floor((performance.now() - this.start) * TICKS_PER_MS);
  }
}

/** mtime = instructions retired / INSTRUCTIONS_PER_TICK, plus time skipped while every hart waited. */
export class InstructionClock implements Clock {
  private skipped = 0;
  constructor(private readonly retired: () => number) {}
  mtime(): number {
    return Math.floor(this.retired() / INSTRUCTIONS_PER_TICK) + this.skipped;
  }
  /** All harts wait for a timer: jump to it instead of sleeping. */
  advanceTo(tick: number): void {
    const now = this.mtime();
    if (tick > now) this.skipped += tick - now;
  }
}
