/*
 * One load or store to device memory, as the board performs it: the one
 * place that cuts an access into device-sized pieces and narrows the data.
 * The hart's slow path (hart.ts) and the hypervisor's MMIO exits
 * (src/hypervisor/exits/mmio.ts) both call it, so a guest sees the same
 * device accesses natively and under trap-and-emulate.
 *
 * The rule is QEMU's (TCG softmmu, accel/tcg/cputlb.c, int_ld_mmio_beN and
 * int_st_mmio_leN): QEMU's RISC-V CPU raises no misaligned exception for a
 * plain load or store; it cuts the access into naturally aligned pieces,
 * each the largest power of two up to 8 that divides both its address and
 * the bytes still to go, in ascending address order:
 *
 *   sw to UART+1 (4 bytes)    -> 1@+1 1@+2 1@+3 1@+4   (IER FCR LCR MCR)
 *   lw at +2                  -> 2@+2 2@+4
 *   ld at a 4-aligned address -> 4@+0 4@+4
 *   ld at an 8-aligned one    -> 8@+0
 *
 * A device takes 1, 2 or 4 bytes (AccessWidth); an 8-byte piece reaches it
 * as two 4-byte accesses, low half first. A device sees only the bytes
 * stored (sb carries the low 8 bits of rs2, and so on).
 *
 * Every piece must land inside one device window, else nothing is done and
 * the access faults: the result is the byte offset, within the access, of
 * the first piece that does not — the guest's xtval is the address of that
 * piece ("the portion of the access that caused the fault", priv spec,
 * mtval). Checking every piece before performing any keeps a faulting
 * access free of side effects. RAM is not on the bus: an access that is
 * partly RAM and partly device memory faults at its first RAM piece.
 *
 * An access crossing a page boundary has its two parts translated
 * separately: bytes [0, split) are at `pa`, bytes [split, width) at
 * `paNext`. Pieces never cross a page boundary (they are aligned, at most 8
 * bytes), and their sizes depend only on the address's low bits, which
 * translation keeps.
 */

import type { AccessWidth } from "../devices/device.ts";
import type { Bus } from "./bus.ts";

/** The access was performed. Otherwise the result is the byte offset of the first piece nothing answers. */
export const MMIO_OK = -1;

/** Size in bytes of the piece at byte `k` of an access of `width` bytes starting at an address with low bits `low`. */
function pieceSize(low: number, width: number, k: number): number {
  const bits = (width - k) | ((low + k) & 7) | 8;
  return bits & -bits;
}

/** Physical address of byte k of the access. */
function byteAddress(pa: number, paNext: number, split: number, k: number): number {
  return k < split ? pa + k : paNext + (k - split);
}

/** The offset of the first piece no device window holds whole, or MMIO_OK. */
function firstUnanswered(bus: Bus, pa: number, paNext: number, split: number, width: number): number {
  const low = pa & 7;
  for (let k = 0; k < width; ) {
    const size = pieceSize(low, width, k);
    const at = byteAddress(pa, paNext, split, k);
    const w = bus.find(at);
    if (w === undefined || at + size > w.end) return k;
    k += size;
  }
  return MMIO_OK;
}

/**
 * Loads `width` (1..8) bytes of device memory into out[0] (low word) and
 * out[1] (high word), zero-extended. Returns MMIO_OK, or the byte offset of
 * the first piece nothing answers (then nothing was read).
 */
export function mmioLoad(bus: Bus, pa: number, width: number, out: Int32Array, paNext = pa + width, split = width): number {
  const bad = firstUnanswered(bus, pa, paNext, split, width);
  if (bad !== MMIO_OK) return bad;
  const low = pa & 7;
  let lo = 0;
  let hi = 0;
  for (let k = 0; k < width; ) {
    const size = pieceSize(low, width, k);
    const at = byteAddress(pa, paNext, split, k);
    if (size === 8) {
      lo = bus.read(at, 4) | 0;
      hi = bus.read(at + 4, 4) | 0;
    } else {
      const v = bus.read(at, size as AccessWidth);
      // Place the piece's bytes at offsets k.. of the 64-bit value (a piece may straddle the two words).
      for (let b = 0; b < size; b++) {
        const byte = (v >>> (8 * b)) & 0xff;
        const at64 = k + b;
        if (at64 < 4) lo |= byte << (8 * at64);
        else hi |= byte << (8 * (at64 - 4));
      }
    }
    k += size;
  }
  out[0] = lo;
  out[1] = hi;
  return MMIO_OK;
}

/**
 * Stores the low `width` (1..8) bytes of the pair (lo, hi) to device memory.
 * Returns MMIO_OK, or the byte offset of the first piece nothing answers
 * (then nothing was written).
 */
export function mmioStore(bus: Bus, pa: number, width: number, lo: number, hi: number, paNext = pa + width, split = width): number {
  const bad = firstUnanswered(bus, pa, paNext, split, width);
  if (bad !== MMIO_OK) return bad;
  const low = pa & 7;
  for (let k = 0; k < width; ) {
    const size = pieceSize(low, width, k);
    const at = byteAddress(pa, paNext, split, k);
    if (size === 8) {
      bus.write(at, 4, lo >>> 0);
      bus.write(at + 4, 4, hi >>> 0);
    } else {
      let v = 0;
      for (let b = 0; b < size; b++) {
        const at64 = k + b;
        const byte = (at64 < 4 ? lo >>> (8 * at64) : hi >>> (8 * (at64 - 4))) & 0xff;
        v |= byte << (8 * b);
      }
      bus.write(at, size as AccessWidth, v >>> 0);
    }
    k += size;
  }
  return MMIO_OK;
}
