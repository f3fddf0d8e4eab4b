/*
 * 64-bit arithmetic on int32 (lo, hi) pairs, for the hart's hot loop.
 *
 * The hart keeps each x register as two int32s (DESIGN.md: "int32 pairs,
 * 64-bit only where an instruction needs it"). These helpers cover the
 * operations that need more than a line of inline code: the M extension's
 * multiply/divide (unpriv spec ch. 7) and the 64-bit shifts. They allocate
 * nothing (except the rare BigInt fallback of a wide division) and return
 * their result in the shared scratch pair `r64`: r64[0] = lo, r64[1] = hi.
 *
 * All arguments are int32 (a lo word may also be given as uint32).
 */

export const r64 = new Int32Array(2);

const TWO16 = 0x10000;
const LIMB = 0xffff;
const TWO32 = 0x1_0000_0000;
const INT32_MIN = -0x8000_0000;
/** A pair whose value is below 2^53 in magnitude converts to a double exactly: |hi| < 2^21. */
const SAFE_HI = 0x20_0000;

/** High word of the unsigned 32x32 product, by 16-bit limbs (every partial product < 2^32). */
function mulhu32(a: number, b: number): number {
  const a0 = a & LIMB;
  const a1 = a >>> 16;
  const b0 = b & LIMB;
  const b1 = b >>> 16;
  const cross1 = a1 * b0;
  const cross2 = a0 * b1;
  const mid = ((a0 * b0) >>> 16) + (cross1 & LIMB) + (cross2 & LIMB);
  return (a1 * b1 + (cross1 >>> 16) + (cross2 >>> 16) + (mid >>> 16)) | 0;
}

/** mul: low 64 bits of a * b (same for signed and unsigned). */
export function mul64(alo: number, ahi: number, blo: number, bhi: number): void {
  r64[0] = Math.imul(alo, blo);
  r64[1] = (mulhu32(alo, blo) + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

/**
 * mulhu: high 64 bits of the unsigned 128-bit product. Schoolbook on four
 * 16-bit limbs per operand; a column sums at most four products < 2^32 plus a
 * carry, far below 2^53, so plain doubles stay exact.
 */
export function mulhu64(alo: number, ahi: number, blo: number, bhi: number): void {
  const a0 = alo & LIMB, a1 = alo >>> 16, a2 = ahi & LIMB, a3 = ahi >>> 16;
  const b0 = blo & LIMB, b1 = blo >>> 16, b2 = bhi & LIMB, b3 = bhi >>> 16;
  let c = a0 * b0;
  c = Math.floor(c / TWO16) + a0 * b1 + a1 * b0;
  c = Math.floor(c / TWO16) + a0 * b2 + a1 * b1 + a2 * b0;
  c = Math.floor(c / TWO16) + a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  c = Math.floor(c / TWO16) + a1 * b3 + a2 * b2 + a3 * b1;
  const limb4 = c % TWO16;
  c = Math.floor(c / TWO16) + a2 * b3 + a3 * b2;
  const limb5 = c % TWO16;
  c = Math.floor(c / TWO16) + a3 * b3;
  const limb6 = c % TWO16;
  const limb7 = Math.floor(c / TWO16);
  r64[0] = limb4 | (limb5 << 16);
  r64[1] = limb6 | (limb7 << 16);
}

/** r64 -= (lo, hi), modulo 2^64. */
function subFromResult(lo: number, hi: number): void {
  const rlo = r64[0]!;
  const borrow = (rlo >>> 0) < (lo >>> 0) ? 1 : 0;
  r64[0] = rlo - lo;
  r64[1] = r64[1]! - hi - borrow;
}

/**
 * mulh: high 64 bits of signed * signed. From the unsigned product:
 * hi_s = hi_u - (a < 0 ? b : 0) - (b < 0 ? a : 0)  (mod 2^64).
 */
export function mulh64(alo: number, ahi: number, blo: number, bhi: number): void {
  mulhu64(alo, ahi, blo, bhi);
  if (ahi < 0) subFromResult(blo, bhi);
  if (bhi < 0) subFromResult(alo, ahi);
}

/** mulhsu: high 64 bits of signed a * unsigned b: hi_u - (a < 0 ? b : 0). */
export function mulhsu64(alo: number, ahi: number, blo: number, bhi: number): void {
  mulhu64(alo, ahi, blo, bhi);
  if (ahi < 0) subFromResult(blo, bhi);
}

function setPair(lo: number, hi: number): void {
  r64[0] = lo;
  r64[1] = hi;
}

/** Stores an integer-valued double with |v| <= 2^53 as a pair. */
function setNumber(v: number): void {
  r64[0] = v % TWO32; // Int32Array stores modulo 2^32
  r64[1] = Math.floor(v / TWO32);
}

const safeSigned = (hi: number): boolean => hi >= -SAFE_HI && hi < SAFE_HI;
const safeUnsigned = (hi: number): boolean => hi >>> 0 < SAFE_HI;
const signedValue = (lo: number, hi: number): number => hi * TWO32 + (lo >>> 0);
const unsignedValue = (lo: number, hi: number): number => (hi >>> 0) * TWO32 + (lo >>> 0);

const BIG32 = 32n;
const toBigSigned = (lo: number, hi: number): bigint => (BigInt(hi) << BIG32) | BigInt(lo >>> 0);
const toBigUnsigned = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << BIG32) | BigInt(lo >>> 0);
function setBig(v: bigint): void {
  r64[0] = Number(BigInt.asIntN(32, v));
  r64[1] = Number(BigInt.asIntN(32, v >> BIG32));
}

const isZero = (lo: number, hi: number): boolean => (lo | hi) === 0;
const isMinusOne = (lo: number, hi: number): boolean => (lo & hi) === -1;
const isInt64Min = (lo: number, hi: number): boolean => lo === 0 && hi === INT32_MIN;

/*
 * Division (unpriv spec 7.2, table 7.1): x/0 = all ones and x%0 = x; the
 * signed overflow MIN/-1 = MIN and MIN%-1 = 0. When both operands fit in 53
 * bits the double quotient truncates to the exact integer quotient (|a| <= 2^53
 * keeps a/b from rounding up to the next integer); otherwise BigInt.
 */

/** div: signed 64-bit quotient, rounded toward zero. */
export function div64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (isZero(blo, bhi)) return setPair(-1, -1);
  if (isInt64Min(alo, ahi) && isMinusOne(blo, bhi)) return setPair(alo, ahi);
  if (safeSigned(ahi) && safeSigned(bhi)) {
    return setNumber(Math.trunc(signedValue(alo, ahi) / signedValue(blo, bhi)));
  }
  setBig(toBigSigned(alo, ahi) / toBigSigned(blo, bhi));
}

/** divu: unsigned 64-bit quotient. */
export function divu64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (isZero(blo, bhi)) return setPair(-1, -1);
  if (safeUnsigned(ahi) && safeUnsigned(bhi)) {
    return setNumber(Math.floor(unsignedValue(alo, ahi) / unsignedValue(blo, bhi)));
  }
  setBig(toBigUnsigned(alo, ahi) / toBigUnsigned(blo, bhi));
}

/** rem: signed remainder, with the sign of the dividend. */
export function rem64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (isZero(blo, bhi)) return setPair(alo, ahi);
  if (isInt64Min(alo, ahi) && isMinusOne(blo, bhi)) return setPair(0, 0);
  if (safeSigned(ahi) && safeSigned(bhi)) {
    return setNumber(signedValue(alo, ahi) % signedValue(blo, bhi)); // % on doubles is exact
  }
  setBig(toBigSigned(alo, ahi) % toBigSigned(blo, bhi));
}

/** remu: unsigned remainder. */
export function remu64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (isZero(blo, bhi)) return setPair(alo, ahi);
  if (safeUnsigned(ahi) && safeUnsigned(bhi)) {
    return setNumber(unsignedValue(alo, ahi) % unsignedValue(blo, bhi));
  }
  setBig(toBigUnsigned(alo, ahi) % toBigUnsigned(blo, bhi));
}

/*
 * RV64 *W division (unpriv 7.2): operate on the low 32 bits and return the
 * int32 result; the hart sign-extends it (hi = result >> 31).
 */

/** divw: signed 32-bit quotient. */
export function divw(a: number, b: number): number {
  if (b === 0) return -1;
  if ((a | 0) === INT32_MIN && b === -1) return INT32_MIN;
  return ((a | 0) / (b | 0)) | 0; // ToInt32 truncates toward zero
}

/** divuw: unsigned 32-bit quotient, as int32. */
export function divuw(a: number, b: number): number {
  if ((b | 0) === 0) return -1;
  return ((a >>> 0) / (b >>> 0)) | 0;
}

/** remw: signed 32-bit remainder. */
export function remw(a: number, b: number): number {
  if ((b | 0) === 0) return a | 0;
  return ((a | 0) % (b | 0)) | 0;
}

/** remuw: unsigned 32-bit remainder, as int32. */
export function remuw(a: number, b: number): number {
  if ((b | 0) === 0) return a | 0;
  return ((a >>> 0) % (b >>> 0)) | 0;
}

/** sll: (lo, hi) << shift, shift 0..63 (higher bits ignored, as the hart masks rs2). */
export function shl64(lo: number, hi: number, shift: number): void {
  const s = shift & 63;
  if (s === 0) return setPair(lo, hi);
  if (s < 32) return setPair(lo << s, (hi << s) | (lo >>> (32 - s)));
  setPair(0, lo << (s - 32));
}

/** srl: logical right shift, shift 0..63. */
export function shr64(lo: number, hi: number, shift: number): void {
  const s = shift & 63;
  if (s === 0) return setPair(lo, hi);
  if (s < 32) return setPair((lo >>> s) | (hi << (32 - s)), hi >>> s);
  setPair(hi >>> (s - 32), 0);
}

/** sra: arithmetic right shift, shift 0..63. */
export function sar64(lo: number, hi: number, shift: number): void {
  const s = shift & 63;
  if (s === 0) return setPair(lo, hi);
  if (s < 32) return setPair((lo >>> s) | (hi << (32 - s)), hi >> s);
  setPair(hi >> (s - 32), hi >> 31);
}
