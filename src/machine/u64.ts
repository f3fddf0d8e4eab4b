/*
 * 64-bit values as the hart keeps them: an int32 (lo, hi) pair. Addresses and
 * pc travel as JS numbers holding the signed 64-bit value, exact while below
 * 2^53 in magnitude — which covers every Sv39 address and every physical
 * address popek's board has. A value beyond that (a "wild" address: a jump
 * to 0x7ffffffffffffffe, a load from -2) names no memory, so it only ever
 * ends up in a trap's xepc/xtval: those paths keep it as a pair
 * (isExactPair says when a number would round it).
 */

const TWO_32 = 4294967296;

/** The signed 64-bit value of a pair, as a number. */
export function pairToNumber(lo: number, hi: number): number {
  return hi * TWO_32 + (lo >>> 0);
}

/** Whether the pair's value fits a number exactly: -2^53 <= value < 2^53. */
export function isExactPair(lo: number, hi: number): boolean {
  return (hi << 10) >> 10 === hi;
}

/** The high word of a (signed, integral) number's 64-bit two's complement form. */
export function hiOf(value: number): number {
  return Math.floor(value / TWO_32) | 0;
}

/** The low word of a number's 64-bit two's complement form. */
export function loOf(value: number): number {
  return value | 0;
}

/** Formats a pair as 0x%016x. */
export function hex64(lo: number, hi: number): string {
  return "0x" + (hi >>> 0).toString(16).padStart(8, "0") + (lo >>> 0).toString(16).padStart(8, "0");
}

/** Formats a number as an unsigned 64-bit hex string. */
export function hexNum(value: number): string {
  return hex64(loOf(value), hiOf(value));
}
