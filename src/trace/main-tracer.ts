/*
 * Tracing on the main thread: an ExitObserver (exit-observer.ts) that times
 * every exit the main thread serves and writes it into that vCPU's RING_MAIN.
 * Like the vCPU side, it learns the exit's reason from the counters the
 * main thread moved while serving it (page.mainStats).
 *
 * The exit that stops the VM is never "served" (the observer's contract):
 * it is recorded when the trace is drained after the stop, with no duration.
 */

import type { ExitObserver } from "../hypervisor/exit-observer.ts";
import * as P from "../hypervisor/runpage.ts";
import { RING_MAIN, ringsOf } from "./buffers.ts";
import { movedMask, reasonOf, snapshot, WHERE_MAIN } from "./record.ts";
import type { TraceRing } from "./ring.ts";

export class MainTracer implements ExitObserver {
  private readonly rings: TraceRing[];
  private readonly before = new Float64Array(64);
  private readonly mask = new Int32Array(2);
  /** The exit being served: its vCPU (-1: none), when it began, and what the vCPU posted. */
  private hart = -1;
  private t0 = 0;
  private cause = 0;
  private pc = 0;
  private tval = 0;

  constructor(
    buffers: readonly SharedArrayBuffer[],
    private readonly pages: readonly P.RunPage[],
    /** Added to performance.now() to give ms since the VM started. */
    private readonly offsetMs: number,
  ) {
    this.rings = buffers.map((b) => ringsOf(b)[RING_MAIN]);
  }

  exitPosted(hart: number, page: P.RunPage): void {
    snapshot(page.mainStats, this.before);
    this.hart = hart;
    this.cause = page.exit[P.EXIT_REASON] === P.REASON_INTERRUPT ? -1 : page.exit[P.EXIT_CAUSE];
    this.pc = page.pc[0];
    this.tval = this.cause === -1 ? 0 : page.exitTval[0];
    this.t0 = performance.now();
  }

  exitServed(): void {
    const durNs = Math.round((performance.now() - this.t0) * 1e6);
    this.write(durNs);
  }

  /** After the VM stopped: records the exit that stopped it, if one was being served. */
  flushUnserved(): void {
    if (this.hart >= 0) this.write(0);
  }

  private write(durNs: number): void {
    const h = this.hart;
    if (h < 0) return;
    this.hart = -1;
    const mask = this.mask;
    movedMask(this.before, this.pages[h].mainStats, mask);
    this.rings[h].write(this.t0 + this.offsetMs, this.pc, this.tval, durNs, WHERE_MAIN, reasonOf(mask[0], mask[1]), this.cause, mask[0], mask[1]);
  }
}
