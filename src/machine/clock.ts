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
  private start = performance.now();
  private pausedAt = Number.NaN;
  mtime(): number {
    const now = Number.isNaN(this.pausedAt) ? performance.now() : this.pausedAt;
    return Math.floor((now - this.start) * TICKS_PER_MS);
  }
  /** The board is halted (a debugger holds it): mtime stands still until resume. */
  pause(): void {
    if (Number.isNaN(this.pausedAt)) this.pausedAt = performance.now();
  }
  resume(): void {
    if (Number.isNaN(this.pausedAt)) return;
    this.start += performance.now() - this.pausedAt;
    this.pausedAt = Number.NaN;
  }
}

/** mtime = instructions retired / INSTRUCTIONS_PER_TICK, plus time skipped while every hart waited. */
export class InstructionClock implements Clock {
  private skipped = 0;
  constructor(private readonly retired: () => number) {}
  mtime(): number {
    return Math.floor(this.retired() / INSTRUCTIONS_PER_TICK) + this.skipped;
  }
  /** Instructions stand still while the board is halted: nothing to do. */
  pause(): void {}
  resume(): void {}
  /** All harts wait for a timer: jump to it instead of sleeping. */
  advanceTo(tick: number): void {
    const now = this.mtime();
    if (tick > now) this.skipped += tick - now;
  }
}
