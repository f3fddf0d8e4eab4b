/*
 * Tracing on the vCPU thread: a HostTrapHandler put in front of the vCPU's
 * own (vcpu-runner.ts), only when the run is traced. The untraced exit path
 * is untouched — the hart calls the runner directly, with no test of a
 * "tracing?" flag anywhere — so tracing off costs nothing.
 *
 * Around each trap it snapshots the vCPU thread's counters and reads the
 * clock; afterwards the counters that moved say what the exit was (its
 * reason, record.ts) and whether it crossed to the main thread (main_exits).
 * An exit handled here becomes a WHERE_VCPU record; one the main thread
 * handled is recorded there (main-tracer.ts), and what this thread still did
 * for it afterwards (an swtlb install, a shadow space switch) becomes a
 * WHERE_VCPU_AFTER_MAIN record with no duration of its own.
 */

import type { Hart, HostTrapHandler } from "../machine/hart.ts";
import * as R from "../machine/riscv.ts";
import { pairToNumber } from "../machine/u64.ts";
import { STAT } from "../hypervisor/stats.ts";
import type { RunPage } from "../hypervisor/runpage.ts";
import { RING_VCPU, ringsOf } from "./buffers.ts";
import { movedMask, reasonOf, snapshot, WHERE_VCPU, WHERE_VCPU_AFTER_MAIN } from "./record.ts";
import type { TraceRing } from "./ring.ts";

/** What the tracer needs of a vCPU runner: its hart, run page and trap handlers. */
export interface TracedVcpu {
  readonly hart: Hart;
  readonly page: RunPage;
  trap: HostTrapHandler["trap"];
  csrAccess(hart: Hart, w0: number, imm: number, pc: number): number;
}

class TracingTraps implements HostTrapHandler {
  private readonly before = new Float64Array(64);
  private readonly mask = new Int32Array(2);
  private readonly stats: Float64Array;

  constructor(
    private readonly inner: TracedVcpu,
    private readonly ring: TraceRing,
    /** Added to performance.now() to give ms since the VM started. */
    private readonly offsetMs: number,
  ) {
    this.stats = inner.page.stats;
  }

  trap(h: Hart, cause: number, tvalLo: number, tvalHi: number, pcLo: number, pcHi: number, w0: number, imm: number): boolean {
    snapshot(this.stats, this.before);
    const t0 = performance.now();
    const go = this.inner.trap(h, cause, tvalLo, tvalHi, pcLo, pcHi, w0, imm);
    this.record(t0, performance.now(), cause, pairToNumber(pcLo, pcHi), pairToNumber(tvalLo, tvalHi));
    return go;
  }

  csrAccess(h: Hart, w0: number, imm: number, pc: number): number {
    snapshot(this.stats, this.before);
    const t0 = performance.now();
    const next = this.inner.csrAccess(h, w0, imm, pc);
    // -1: declined; the hart raises the trap, which comes back through trap().
    if (next !== -1) this.record(t0, performance.now(), R.CAUSE_ILLEGAL_INSTRUCTION, pc, h.instructionBits(pc));
    return next;
  }

  private record(t0: number, t1: number, cause: number, pc: number, tval: number): void {
    const stats = this.stats;
    const mask = this.mask;
    movedMask(this.before, stats, mask);
    const crossed = stats[STAT.main_exits] !== this.before[STAT.main_exits];
    if (!crossed) {
      this.ring.write(t0 + this.offsetMs, pc, tval, Math.round((t1 - t0) * 1e6), WHERE_VCPU, reasonOf(mask[0], mask[1]), cause, mask[0], mask[1]);
    } else if ((mask[0] | mask[1]) !== 0) {
      this.ring.write(t1 + this.offsetMs, pc, tval, 0, WHERE_VCPU_AFTER_MAIN, reasonOf(mask[0], mask[1]), cause, mask[0], mask[1]);
    }
  }
}

/** ms since the VM started at `vmStartMs` (VmClock's origin) = performance.now() + this, on the calling thread. */
export function clockOffsetMs(vmStartMs: number): number {
  return performance.timeOrigin - vmStartMs;
}

/** Starts tracing a vCPU: its hart's traps go through the tracer into the buffer's RING_VCPU. */
export function traceVcpu(runner: TracedVcpu, buffer: SharedArrayBuffer, vmStartMs: number): void {
  runner.hart.hostTraps = new TracingTraps(runner, ringsOf(buffer)[RING_VCPU], clockOffsetMs(vmStartMs));
}
