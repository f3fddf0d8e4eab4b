/*
 * The M extension (unpriv ch. 7): multiplication, division and remainder,
 * 64-bit and W forms, against a BigInt reference model over edge values,
 * plus the table of special cases (unpriv 7.2, table 7.1): division by zero
 * and signed overflow never trap.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import { CODE_BASE, HartHarness, hex } from "../helpers/hart-harness.ts";

const M64 = (1n << 64n) - 1n;
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);
const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);
const sx32 = (v: bigint): bigint => u64(s32(v));
const MIN64 = 0x8000_0000_0000_0000n;

function div(a: bigint, b: bigint): bigint {
  if (b === 0n) return M64;
  if (s64(a) === -MIN64 && s64(b) === -1n) return MIN64; // overflow: the dividend
  return u64(s64(a) / s64(b));
}
function rem(a: bigint, b: bigint): bigint {
  if (b === 0n) return a;
  if (s64(a) === -MIN64 && s64(b) === -1n) return 0n;
  return u64(s64(a) % s64(b));
}
function divw(a: bigint, b: bigint): bigint {
  if (u32(b) === 0n) return M64;
  if (s32(a) === -0x8000_0000n && s32(b) === -1n) return sx32(0x8000_0000n);
  return sx32(s32(a) / s32(b));
}
function remw(a: bigint, b: bigint): bigint {
  if (u32(b) === 0n) return sx32(a);
  if (s32(a) === -0x8000_0000n && s32(b) === -1n) return 0n;
  return sx32(s32(a) % s32(b));
}

type Binary = (a: bigint, b: bigint) => bigint;
const OPS: Record<string, [(rd: number, rs1: number, rs2: number) => number, Binary]> = {
  mul: [enc.mul, (a, b) => u64(a * b)],
  mulh: [enc.mulh, (a, b) => u64((s64(a) * s64(b)) >> 64n)],
  mulhsu: [enc.mulhsu, (a, b) => u64((s64(a) * b) >> 64n)],
  mulhu: [enc.mulhu, (a, b) => (a * b) >> 64n],
  div: [enc.div, div],
  divu: [enc.divu, (a, b) => (b === 0n ? M64 : a / b)],
  rem: [enc.rem, rem],
  remu: [enc.remu, (a, b) => (b === 0n ? a : a % b)],
  mulw: [enc.mulw, (a, b) => sx32(a * b)],
  divw: [enc.divw, divw],
  divuw: [enc.divuw, (a, b) => (u32(b) === 0n ? M64 : sx32(u32(a) / u32(b)))],
  remw: [enc.remw, remw],
  remuw: [enc.remuw, (a, b) => (u32(b) === 0n ? sx32(a) : sx32(u32(a) % u32(b)))],
};

const EDGES: readonly bigint[] = [
  0n, 1n, 2n, 3n, 7n, M64, M64 - 1n, u64(-7n),
  0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n, 0xffff_ffff_8000_0000n,
  0x7fff_ffff_ffff_ffffn, MIN64, 0x0123_4567_89ab_cdefn, 0xfedc_ba98_7654_3210n, 0x1_0000_0003n,
];

const RS1 = 5, RS2 = 6, RD = 7;

describe("M extension against a reference model (unpriv 7.1, 7.2)", () => {
  const t = new HartHarness();
  for (const [name, [encode, ref]] of Object.entries(OPS)) {
    it(`${name} on edge values`, () => {
      t.program([encode(RD, RS1, RS2)]);
      for (const a of EDGES) {
        for (const b of EDGES) {
          t.pc = CODE_BASE;
          t.setRegs({ [RS1]: a, [RS2]: b });
          t.run(1);
          t.expectReg(`${name} ${hex(a)}, ${hex(b)}`, RD, ref(a, b));
          t.expectPc(name, CODE_BASE + 4);
        }
      }
    });
  }
});

describe("M extension special cases (unpriv table 7.1): no trap, defined results", () => {
  const cases: [string, (rd: number, rs1: number, rs2: number) => number, bigint, bigint, bigint][] = [
    ["div by zero gives all ones", enc.div, 42n, 0n, M64],
    ["divu by zero gives 2^64-1", enc.divu, 42n, 0n, M64],
    ["rem by zero gives the dividend", enc.rem, u64(-42n), 0n, u64(-42n)],
    ["remu by zero gives the dividend", enc.remu, 42n, 0n, 42n],
    ["div MIN / -1 overflows to MIN", enc.div, MIN64, M64, MIN64],
    ["rem MIN % -1 is 0", enc.rem, MIN64, M64, 0n],
    ["divw by zero gives all ones", enc.divw, 42n, 0x1_0000_0000n, M64],
    ["divuw by zero gives all ones (0xffffffff sign-extended)", enc.divuw, 42n, 0n, M64],
    ["remw by zero gives the sign-extended 32-bit dividend", enc.remw, 0x1_8000_0001n, 0n, 0xffff_ffff_8000_0001n],
    ["remuw by zero gives the sign-extended 32-bit dividend", enc.remuw, 0x8000_0001n, 0n, 0xffff_ffff_8000_0001n],
    ["divw MIN32 / -1 overflows to MIN32", enc.divw, 0x8000_0000n, M64, 0xffff_ffff_8000_0000n],
    ["remw MIN32 % -1 is 0", enc.remw, 0x8000_0000n, M64, 0n],
    ["div rounds toward zero: -7 / 2 = -3", enc.div, u64(-7n), 2n, u64(-3n)],
    ["rem takes the dividend's sign: -7 % 2 = -1", enc.rem, u64(-7n), 2n, M64],
    ["mulw sign-extends the low 32 bits", enc.mulw, 0x1_0000_ffffn, 0x1_0001_0000n, 0xffff_ffff_ffff_0000n],
    ["divuw uses only the low 32 bits of both operands", enc.divuw, 0xffff_ffff_0000_0010n, 0xffff_ffff_0000_0004n, 4n],
  ];
  const t = new HartHarness();
  for (const [title, encode, a, b, want] of cases) {
    it(title, () => {
      t.program([encode(RD, RS1, RS2)]);
      t.setRegs({ [RS1]: a, [RS2]: b });
      expect(t.run(1)).toBe(1);
      t.expectReg(title, RD, want);
      t.expectPc(title, CODE_BASE + 4);
    });
  }
});
