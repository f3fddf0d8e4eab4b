/*
 * The debugger's breakpoints, as the vCPU threads see them: the
 * guest-physical addresses where GDB planted an ebreak (src/gdb/breakpoints.ts
 * keeps the original bytes; this is only the set). One SharedArrayBuffer
 * per VM, written by the main thread while every vCPU is halted, read by a
 * vCPU thread only when its guest executed an ebreak (the breakpoint
 * exception path, vcpu-runner.ts): no cost anywhere else, none at all with
 * no debugger attached (the count is 0).
 *
 *   Int32   [0]        how many addresses follow (published last, Atomics)
 *   Float64 [1, +MAX)  guest-physical addresses
 */

/** Breakpoints one VM can hold: GDB plants a few, one per `break` (a second planted there is one). */
export const MAX_DEBUG_BREAKPOINTS = 64;

const HEADER_BYTES = 8;

export class DebugBreakpoints {
  private readonly count: Int32Array;
  private readonly addresses: Float64Array;

  /** Over `buffer` (new when absent: no breakpoints). */
  constructor(readonly buffer = new SharedArrayBuffer(HEADER_BYTES + 8 * MAX_DEBUG_BREAKPOINTS)) {
    if (buffer.byteLength !== HEADER_BYTES + 8 * MAX_DEBUG_BREAKPOINTS) throw new RangeError("debug breakpoints: the shared buffer has the wrong size");
    this.count = new Int32Array(buffer, 0, 1);
    this.addresses = new Float64Array(buffer, HEADER_BYTES, MAX_DEBUG_BREAKPOINTS);
  }

  /** Replaces the set (the main thread, with every vCPU halted); false, changing nothing, when there are too many. */
  publish(gpas: readonly number[]): boolean {
    if (gpas.length > MAX_DEBUG_BREAKPOINTS) return false;
    gpas.forEach((gpa, i) => (this.addresses[i] = gpa));
    Atomics.store(this.count, 0, gpas.length);
    return true;
  }

  /** Whether none is planted: the breakpoint path's first and, undebugged, only question. */
  get empty(): boolean {
    return Atomics.load(this.count, 0) === 0;
  }

  /** Whether the debugger planted one at guest-physical `gpa`. */
  has(gpa: number): boolean {
    const n = Atomics.load(this.count, 0);
    for (let i = 0; i < n; i++) if (this.addresses[i] === gpa) return true;
    return false;
  }
}
