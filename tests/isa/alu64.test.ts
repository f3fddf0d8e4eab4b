import { describe, expect, it } from "vitest";
import {
  div64, divu64, divuw, divw, mul64, mulh64, mulhsu64, mulhu64, r64, rem64, remu64, remuw, remw, sar64, shl64, shr64,
} from "../../src/isa/alu64.ts";

const MASK64 = (1n << 64n) - 1n;
const signed = (v: bigint): bigint => BigInt.asIntN(64, v);
const unsigned = (v: bigint): bigint => BigInt.asUintN(64, v);
const lo = (v: bigint): number => Number(BigInt.asIntN(32, v));
const hi = (v: bigint): number => Number(BigInt.asIntN(32, v >> 32n));
const result = (): bigint => unsigned((BigInt(r64[1]!) << 32n) | BigInt(r64[0]! >>> 0));

const MIN = -(1n << 63n);
const MAX = (1n << 63n) - 1n;

/** RISC-V M-extension semantics (unpriv spec 7.1, 7.2 table 7.1), on BigInt. */
const REFERENCE: Record<string, (a: bigint, b: bigint) => bigint> = {
  mul: (a, b) => a * b,
  mulhu: (a, b) => (unsigned(a) * unsigned(b)) >> 64n,
  mulh: (a, b) => (signed(a) * signed(b)) >> 64n,
  mulhsu: (a, b) => (signed(a) * unsigned(b)) >> 64n,
  div: (a, b) => (b === 0n ? -1n : signed(a) === MIN && signed(b) === -1n ? MIN : signed(a) / signed(b)),
  divu: (a, b) => (b === 0n ? MASK64 : unsigned(a) / unsigned(b)),
  rem: (a, b) => (b === 0n ? a : signed(a) === MIN && signed(b) === -1n ? 0n : signed(a) % signed(b)),
  remu: (a, b) => (b === 0n ? a : unsigned(a) % unsigned(b)),
};

const IMPLEMENTATION: Record<string, (alo: number, ahi: number, blo: number, bhi: number) => void> = {
  mul: mul64, mulhu: mulhu64, mulh: mulh64, mulhsu: mulhsu64, div: div64, divu: divu64, rem: rem64, remu: remu64,
};

const TWO32 = 1n << 32n;
const TWO53 = 1n << 53n;
const CORNERS: readonly bigint[] = [
  0n, 1n, -1n, 2n, -2n, 3n, 7n, -7n, 10n, MIN, MAX, MIN + 1n, MAX - 1n,
  TWO32, TWO32 - 1n, TWO32 + 1n, -TWO32, -TWO32 - 1n, -TWO32 + 1n,
  1n << 31n, -(1n << 31n), (1n << 31n) - 1n,
  TWO53, TWO53 - 1n, TWO53 + 1n, -TWO53, -TWO53 - 1n, -TWO53 + 1n,
  (1n << 52n) + 12345n, 0x1fffffn << 32n, 0x200000n << 32n, -(0x200000n << 32n), -(0x200001n << 32n),
  0xdeadbeefcafebaben, 0x0123456789abcdefn,
].map(signed);

/** mulberry32: a small seeded PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Random 64-bit values of mixed magnitude (so both the 53-bit fast path and BigInt run). */
function randomValues(count: number, seed: number): bigint[] {
  const next = prng(seed);
  const values: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const raw = (BigInt(next()) << 32n) | BigInt(next());
    const bits = BigInt(1 + (next() % 64));
    values.push(signed(raw & ((1n << bits) - 1n)) * (next() & 1 ? -1n : 1n));
  }
  return values.map(signed);
}

function check(op: string, a: bigint, b: bigint): void {
  IMPLEMENTATION[op]!(lo(a), hi(a), lo(b), hi(b));
  const expected = unsigned(REFERENCE[op]!(a, b));
  if (result() !== expected) {
    throw new Error(`${op}(0x${unsigned(a).toString(16)}, 0x${unsigned(b).toString(16)}) = 0x${result().toString(16)}, expected 0x${expected.toString(16)}`);
  }
}

describe("64-bit multiply and divide on int32 pairs", () => {
  for (const op of Object.keys(REFERENCE)) {
    it(`${op} matches BigInt on every pair of corner values`, () => {
      for (const a of CORNERS) for (const b of CORNERS) check(op, a, b);
    });
    it(`${op} matches BigInt on 3000 seeded random pairs`, () => {
      const values = randomValues(6000, 0x5eed + op.length);
      for (let i = 0; i < values.length; i += 2) check(op, values[i]!, values[i + 1]!);
    });
  }

  it("divides by zero to all ones and returns the dividend as remainder", () => {
    div64(5, 0, 0, 0);
    expect([...r64]).toEqual([-1, -1]);
    divu64(5, 0, 0, 0);
    expect([...r64]).toEqual([-1, -1]);
    rem64(-5, -1, 0, 0);
    expect([...r64]).toEqual([-5, -1]);
    remu64(5, 7, 0, 0);
    expect([...r64]).toEqual([5, 7]);
  });

  it("overflows MIN / -1 to MIN with remainder 0", () => {
    div64(0, -0x80000000, -1, -1);
    expect([...r64]).toEqual([0, -0x80000000]);
    rem64(0, -0x80000000, -1, -1);
    expect([...r64]).toEqual([0, 0]);
  });

  it("accepts lo words given as uint32", () => {
    mul64(0xffffffff, 0, 0xffffffff, 0);
    expect(result()).toBe(0xfffffffe00000001n);
  });
});

describe("32-bit (*w) divide", () => {
  const I32_CORNERS = [0, 1, -1, 2, -2, 7, -7, 0x7fffffff, -0x80000000, 0x12345678, -0x12345678, 0x10000];
  const ref = {
    divw: (a: number, b: number) => (b === 0 ? -1 : a === -0x80000000 && b === -1 ? a : Math.trunc(a / b) | 0),
    divuw: (a: number, b: number) => (b === 0 ? -1 : Number(BigInt(a >>> 0) / BigInt(b >>> 0)) | 0),
    remw: (a: number, b: number) => (b === 0 ? a : a === -0x80000000 && b === -1 ? 0 : Number(BigInt(a) % BigInt(b)) | 0),
    remuw: (a: number, b: number) => (b === 0 ? a : Number(BigInt(a >>> 0) % BigInt(b >>> 0)) | 0),
  };
  const impl = { divw, divuw, remw, remuw };
  for (const name of ["divw", "divuw", "remw", "remuw"] as const) {
    it(`${name} follows the M-extension rules on corner values`, () => {
      for (const a of I32_CORNERS) for (const b of I32_CORNERS) expect(impl[name](a, b), `${name}(${a}, ${b})`).toBe(ref[name](a, b));
    });
  }
});

describe("64-bit shifts on int32 pairs", () => {
  const values = [...CORNERS, ...randomValues(40, 77)];
  const cases = [
    ["shl64", shl64, (v: bigint, s: bigint) => v << s],
    ["shr64", shr64, (v: bigint, s: bigint) => unsigned(v) >> s],
    ["sar64", sar64, (v: bigint, s: bigint) => signed(v) >> s],
  ] as const;
  for (const [name, fn, reference] of cases) {
    it(`${name} matches BigInt for every shift 0..63`, () => {
      for (const v of values) {
        for (let s = 0; s < 64; s++) {
          fn(lo(v), hi(v), s);
          expect(result(), `${name}(0x${unsigned(v).toString(16)}, ${s})`).toBe(unsigned(reference(v, BigInt(s))));
        }
      }
    });
  }

  it("uses only the low 6 bits of the shift amount, as sll/srl/sra do", () => {
    shl64(1, 0, 65);
    expect(result()).toBe(2n);
  });
});
