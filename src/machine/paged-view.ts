/*
 * The accessors of a GuestMemoryView, written once over `translate`: the
 * native board's view and a VM's differ only in how a guest-physical address
 * becomes a machine offset (and in what a write must do besides). The fast
 * case is one translate and one DataView access; a range that crosses into a
 * non-contiguous or unbacked page falls back to page-sized pieces.
 */

import {
  FAULT_OUTSIDE,
  FAULT_SPLIT,
  FAULT_UNBACKED,
  GUEST_OK,
  type GuestMemoryView,
} from "./guest-memory-view.ts";
import { PAGE_SIZE } from "./memlayout.ts";

export abstract class PagedGuestView implements GuestMemoryView {
  protected readonly u8: Uint8Array;
  private readonly dv: DataView;

  constructor(
    readonly machine: SharedArrayBuffer,
    readonly ramBase: number,
    readonly ramSize: number,
  ) {
    this.u8 = new Uint8Array(machine);
    this.dv = new DataView(machine);
  }

  abstract translate(gpa: number, length: number): number;

  /** Backs unbacked pages of [gpa, gpa + length) before a write; false where this view may not (off the main thread). */
  protected back(_gpa: number, _length: number): boolean {
    return false;
  }

  /** Machine bytes [off, off + length) were just written (the native board forgets decoded code there). */
  protected written(_off: number, _length: number): void {}

  readU8(gpa: number): number {
    const off = this.translate(gpa, 1);
    if (off >= 0) return this.u8[off];
    return off === FAULT_UNBACKED ? 0 : off;
  }

  readU16(gpa: number): number {
    const off = this.translate(gpa, 2);
    return off >= 0 ? this.dv.getUint16(off, true) : this.readPieces(gpa, 2, off);
  }

  readU32(gpa: number): number {
    const off = this.translate(gpa, 4);
    return off >= 0 ? this.dv.getUint32(off, true) : this.readPieces(gpa, 4, off);
  }

  readU64(gpa: number): bigint {
    const off = this.translate(gpa, 8);
    if (off >= 0) return this.dv.getBigUint64(off, true);
    if (off === FAULT_OUTSIDE) return BigInt(off);
    const lo = this.readPieces(gpa, 4, FAULT_SPLIT);
    const hi = this.readPieces(gpa + 4, 4, FAULT_SPLIT);
    if (lo < 0 || hi < 0) return BigInt(FAULT_OUTSIDE);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  writeU8(gpa: number, value: number): number {
    const off = this.writable(gpa, 1);
    if (off < 0) return off;
    this.u8[off] = value;
    this.written(off, 1);
    return GUEST_OK;
  }

  writeU16(gpa: number, value: number): number {
    const off = this.writable(gpa, 2);
    if (off === FAULT_SPLIT) return this.writePieces(gpa, 2, value, 0);
    if (off < 0) return off;
    this.dv.setUint16(off, value, true);
    this.written(off, 2);
    return GUEST_OK;
  }

  writeU32(gpa: number, value: number): number {
    const off = this.writable(gpa, 4);
    if (off === FAULT_SPLIT) return this.writePieces(gpa, 4, value >>> 0, 0);
    if (off < 0) return off;
    this.dv.setUint32(off, value >>> 0, true);
    this.written(off, 4);
    return GUEST_OK;
  }

  writeU64(gpa: number, value: bigint): number {
    const off = this.writable(gpa, 8);
    const lo = Number(BigInt.asUintN(32, value));
    const hi = Number(BigInt.asUintN(32, value >> 32n));
    if (off === FAULT_SPLIT) return this.writePieces(gpa, 8, lo, hi);
    if (off < 0) return off;
    this.dv.setUint32(off, lo, true);
    this.dv.setUint32(off + 4, hi, true);
    this.written(off, 8);
    return GUEST_OK;
  }

  copyOut(gpa: number, into: Uint8Array): number {
    if (into.length === 0) return GUEST_OK;
    const off = this.translate(gpa, into.length);
    if (off >= 0) {
      into.set(this.u8.subarray(off, off + into.length));
      return GUEST_OK;
    }
    if (off === FAULT_OUTSIDE) return off;
    for (let done = 0; done < into.length; ) {
      const n = pieceLength(gpa + done, into.length - done);
      const at = this.translate(gpa + done, n);
      if (at >= 0) into.set(this.u8.subarray(at, at + n), done);
      else into.fill(0, done, done + n); // unbacked: never written, so zero
      done += n;
    }
    return GUEST_OK;
  }

  copyIn(gpa: number, from: Uint8Array): number {
    if (from.length === 0) return GUEST_OK;
    const off = this.writable(gpa, from.length);
    if (off >= 0) {
      this.u8.set(from, off);
      this.written(off, from.length);
      return GUEST_OK;
    }
    if (off !== FAULT_SPLIT) return off;
    for (let done = 0; done < from.length; ) {
      const n = pieceLength(gpa + done, from.length - done);
      const at = this.translate(gpa + done, n);
      this.u8.set(from.subarray(done, done + n), at);
      this.written(at, n);
      done += n;
    }
    return GUEST_OK;
  }

  translateForWrite(gpa: number, length: number): number {
    return this.writable(gpa, length);
  }

  machineWritten(off: number, length: number): void {
    this.written(off, length);
  }

  /** translate for a write: unbacked pages are backed first where this view may. */
  private writable(gpa: number, length: number): number {
    const off = this.translate(gpa, length);
    if (off !== FAULT_UNBACKED || !this.back(gpa, length)) return off;
    return this.translate(gpa, length);
  }

  /** A read that did not translate as one piece: byte by byte, unbacked bytes reading 0. */
  private readPieces(gpa: number, width: number, fault: number): number {
    if (fault === FAULT_OUTSIDE) return fault;
    let value = 0;
    for (let i = width - 1; i >= 0; i--) {
      const b = this.readU8(gpa + i);
      if (b < 0) return b;
      value = value * 256 + b;
    }
    return value;
  }

  /** A write whose bytes are all backed but not contiguous: byte by byte, low half `lo`, high half `hi`. */
  private writePieces(gpa: number, width: number, lo: number, hi: number): number {
    for (let i = 0; i < width; i++) {
      const byte = i < 4 ? (lo >>> (8 * i)) & 0xff : (hi >>> (8 * (i - 4))) & 0xff;
      const at = this.translate(gpa + i, 1);
      this.u8[at] = byte;
      this.written(at, 1);
    }
    return GUEST_OK;
  }
}

/** Bytes from gpa to the end of its page, at most `left`. */
function pieceLength(gpa: number, left: number): number {
  return Math.min(left, PAGE_SIZE - (gpa % PAGE_SIZE));
}
