/*
 * The one seam through which anything outside a hart touches guest memory:
 * the native board's loader and devices, a VM's SBI calls and device DMA, and
 * (later) shadow-page fills and virtqueues on vCPU or back-end threads.
 *
 * A view answers in guest-physical addresses and never allocates: translate
 * turns a range into an offset in machine memory (the shared
 * WebAssembly.Memory) or a fault code, and the accessors are little-endian
 * whatever the host. Faults are return values, not exceptions, so hot paths
 * stay exception-free; GuestMemoryFault turns one into an error where a
 * caller wants to throw.
 *
 * Return conventions (values are unsigned, so a negative result is a fault):
 *   translate        machine offset >= 0, or a FAULT_* code
 *   readU8/16/32     the value (0..2^32-1), or a FAULT_* code
 *   readU64          the value as a bigint (0..2^64-1), or BigInt(FAULT_*)
 *   write*, copy*    GUEST_OK (0), or a FAULT_* code; nothing is written
 *                    when any byte of the range faults
 *
 * RAM a VM has never touched has no machine frame yet (see
 * src/hypervisor/guest-memory.ts). A view does not back it: translate and
 * writes report FAULT_UNBACKED, and reads return zeros, which is what the
 * guest itself would read there. Backing a page is the owner's explicit
 * `ensure` on the main thread; the main thread's own view calls it before a
 * write, a view on any other thread reports the fault for its caller to
 * forward (as an exit).
 */

import type { CodeWriteShare } from "./code-writes.ts";

/** The access succeeded. */
export const GUEST_OK = 0;
/** Some byte of the range is not guest RAM (an MMIO hole, or past the end): the guest's access fault. */
export const FAULT_OUTSIDE = -1;
/** All guest RAM, but some page has no machine frame yet; its owner must `ensure` it. */
export const FAULT_UNBACKED = -2;
/** All guest RAM and backed, but the frames are not contiguous in machine memory: use the accessors, which split. */
export const FAULT_SPLIT = -3;

export type GuestFaultCode = typeof FAULT_OUTSIDE | typeof FAULT_UNBACKED | typeof FAULT_SPLIT;

const FAULT_TEXT: Record<GuestFaultCode, string> = {
  [FAULT_OUTSIDE]: "not guest RAM",
  [FAULT_UNBACKED]: "guest RAM not yet backed by a machine frame",
  [FAULT_SPLIT]: "range spans frames that are not contiguous in machine memory",
};

/** A guest-physical access that failed, as an error (for callers that throw rather than return the code). */
export class GuestMemoryFault extends Error {
  override readonly name = "GuestMemoryFault";
  constructor(
    readonly code: GuestFaultCode,
    readonly gpa: number,
    readonly length: number,
  ) {
    super(`guest memory: [0x${gpa.toString(16)}, +${length}) ${FAULT_TEXT[code]}`);
  }
}

export interface GuestMemoryView {
  /** Guest RAM: [ramBase, ramBase + ramSize). Everything else faults with FAULT_OUTSIDE. */
  readonly ramBase: number;
  readonly ramSize: number;
  /** Offset into machine memory of [gpa, gpa + length), contiguous there; or a FAULT_* code. Never allocates. A length of 0 is taken as 1. */
  translate(gpa: number, length: number): number;
  readU8(gpa: number): number;
  readU16(gpa: number): number;
  readU32(gpa: number): number;
  readU64(gpa: number): bigint;
  writeU8(gpa: number, value: number): number;
  writeU16(gpa: number, value: number): number;
  writeU32(gpa: number, value: number): number;
  writeU64(gpa: number, value: bigint): number;
  /** Copies guest bytes [gpa, gpa + into.length) into `into`. */
  copyOut(gpa: number, into: Uint8Array): number;
  /** Copies `from` into guest memory at gpa. */
  copyIn(gpa: number, from: Uint8Array): number;
  /**
   * For DMA by another thread (a block back-end's I/O worker): machine
   * memory itself, translate for a write (backing unbacked pages first where
   * this view may, as the write accessors do), and the note to give once the
   * other thread has written machine bytes [off, off + length).
   */
  readonly machine: SharedArrayBuffer;
  translateForWrite(gpa: number, length: number): number;
  machineWritten(off: number, length: number): void;
  /**
   * Where a thread that writes machine memory without this view (an I/O
   * worker) marks what it wrote before the guest can see the write done
   * (code-writes.ts); undefined where machineWritten afterwards is enough.
   */
  readonly codeWrites?: CodeWriteShare;
}

/** Whether [gpa, gpa + length) is a well-formed range inside [base, base + size). */
export function rangeInside(gpa: number, length: number, base: number, size: number): boolean {
  return Number.isSafeInteger(gpa) && Number.isSafeInteger(length) && length >= 0 && gpa >= base && gpa + length <= base + size;
}
