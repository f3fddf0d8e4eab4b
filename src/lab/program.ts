/*
 * A small program builder for generated guests (the fuzzer's, and tests'
 * own small guests): instruction words from src/isa/encode.ts laid end to
 * end, `li` for any 64-bit constant, and a flat image that loads at
 * 0x8000_0000 (as `popek run IMAGE` loads a flat binary, in M-mode).
 */

import { enc } from "../isa/encode.ts";

export class Program {
  private readonly bytes: number[] = [];

  /** Byte offset of the next instruction from the image's start. */
  get here(): number {
    return this.bytes.length;
  }

  /** A 32-bit instruction word. */
  word(w: number): this {
    for (let i = 0; i < 4; i++) this.bytes.push((w >>> (8 * i)) & 0xff);
    return this;
  }

  /** A 16-bit (compressed) instruction. */
  half(h: number): this {
    this.bytes.push(h & 0xff, (h >>> 8) & 0xff);
    return this;
  }

  /** rd = value (any 64-bit value, as GNU as expands `li`). */
  li(rd: number, value: number | bigint): this {
    const v = BigInt.asIntN(64, BigInt(value));
    if (v >= -2048n && v < 2048n) return this.word(enc.addi(rd, 0, Number(v)));
    if (v >= -(2n ** 31n) && v < 2n ** 31n) {
      const lo = Number(BigInt.asIntN(12, v));
      const hi = Number(BigInt.asUintN(20, (v - BigInt(lo)) >> 12n));
      this.word(enc.lui(rd, hi));
      return lo === 0 ? this : this.word(enc.addiw(rd, rd, lo));
    }
    // Upper bits first, then shift in 12 at a time (lo sign-extends, so the upper part absorbs its borrow).
    const lo = BigInt.asIntN(12, v);
    this.li(rd, (v - lo) >> 12n);
    this.word(enc.slli(rd, rd, 12));
    return lo === 0n ? this : this.word(enc.addi(rd, rd, Number(lo)));
  }

  /** Overwrites the 32-bit word at byte offset `at` (a branch whose target was not known when it was emitted). */
  patch(at: number, w: number): this {
    for (let i = 0; i < 4; i++) this.bytes[at + i] = (w >>> (8 * i)) & 0xff;
    return this;
  }

  /** Raw bytes (data in the image). */
  data(bytes: Uint8Array): this {
    for (const b of bytes) this.bytes.push(b);
    return this;
  }

  /** The flat image. */
  image(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}
