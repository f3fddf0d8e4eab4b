/*
 * What the GDB command dispatcher (commands.ts) needs of a debugged
 * machine, whatever runs it: the native board's harts (target.ts) or a
 * VM's vCPUs under the hypervisor (src/hypervisor/gdb-vm-target.ts). A
 * thread is whatever the target calls one (a Hart, a vCPU index); GDB
 * numbers them from 1. Everything here runs while every thread is halted.
 */

export interface DebugTarget<T> {
  /** Every thread, in thread-id order. */
  readonly threads: readonly T[];
  /** The thread behind a thread id (1-based); undefined when none. */
  thread(tid: number): T | undefined;
  /** The thread id of t. */
  tidOf(t: T): number;
  /** One line GDB shows in `info threads`. */
  describe(t: T): string;
  /** The guest's exit status once it has ended; undefined while it runs. */
  readonly exitCode: number | undefined;

  /** Register `n` (target-xml.ts) as target-order hex; undefined when there is no such register. */
  readRegister(t: T, n: number): string | undefined;
  /** Sets register `n` from target-order hex; false when it cannot be. */
  writeRegister(t: T, n: number, hex: string): boolean;
  /** Every register, in order ('g'). */
  readRegisters(t: T): string;
  /** Sets the registers 'G' carries; false, changing nothing, when malformed. */
  writeRegisters(t: T, hex: string): boolean;

  /** Up to `length` bytes at `va` as t sees it; fewer when the range runs into memory that is not there. */
  readMemory(t: T, va: bigint, length: number): Uint8Array;
  /** Writes `bytes` at `va` as t sees it; false, writing nothing, when any byte is not RAM. */
  writeMemory(t: T, va: bigint, bytes: Uint8Array): boolean;
  /** Plants a software breakpoint at `va` for t's view; false when it cannot be. */
  insertBreakpoint(t: T, va: bigint, kind: number): boolean;
  removeBreakpoint(va: bigint): boolean;

  /**
   * One instruction on t alone, ending where it would without a debugger;
   * absent where the target cannot step by itself (GDB steps a RISC-V
   * target with a breakpoint after the instruction anyway).
   */
  readonly step?: (t: T) => void;
}
