/*
 * RV64I base integer instructions (unpriv spec ch. 2 and 5), executed by the
 * hart one at a time and compared with a BigInt reference model over values
 * chosen to sit on the edges (0, ±1, the 32-bit boundary, INT64_MIN/MAX),
 * plus named cases for the corners the spec calls out.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import { AD, CODE_BASE, HartHarness, PageTables, RWX, hex } from "../helpers/hart-harness.ts";
import * as R from "../../src/machine/riscv.ts";

const M64 = (1n << 64n) - 1n;
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const sx32 = (v: bigint): bigint => u64(BigInt.asIntN(32, v));

/** Operand values on the edges of the 32-bit halves and of the signed range. */
const EDGES: readonly bigint[] = [
  0n, 1n, 2n, M64, M64 - 1n,
  0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n, 0x1_0000_0001n,
  0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0xffff_ffff_8000_0000n, 0xffff_ffff_7fff_ffffn,
  0x0123_4567_89ab_cdefn, 0xfedc_ba98_7654_3210n,
];

type Binary = (a: bigint, b: bigint) => bigint;

/** Reference semantics of the register-register ops (unpriv 2.4.2, 5.2). */
const RR: Record<string, [(rd: number, rs1: number, rs2: number) => number, Binary]> = {
  add: [enc.add, (a, b) => u64(a + b)],
  sub: [enc.sub, (a, b) => u64(a - b)],
  sll: [enc.sll, (a, b) => u64(a << (b & 63n))],
  slt: [enc.slt, (a, b) => (s64(a) < s64(b) ? 1n : 0n)],
  sltu: [enc.sltu, (a, b) => (a < b ? 1n : 0n)],
  xor: [enc.xor, (a, b) => a ^ b],
  srl: [enc.srl, (a, b) => a >> (b & 63n)],
  sra: [enc.sra, (a, b) => u64(s64(a) >> (b & 63n))],
  or: [enc.or, (a, b) => a | b],
  and: [enc.and, (a, b) => a & b],
  addw: [enc.addw, (a, b) => sx32(a + b)],
  subw: [enc.subw, (a, b) => sx32(a - b)],
  sllw: [enc.sllw, (a, b) => sx32((a & 0xffff_ffffn) << (b & 31n))],
  srlw: [enc.srlw, (a, b) => sx32((a & 0xffff_ffffn) >> (b & 31n))],
  sraw: [enc.sraw, (a, b) => sx32(u64(BigInt.asIntN(32, a) >> (b & 31n)))],
};

const IMMS = [0, 1, -1, 2047, -2048, 0x555, -0x556];
const RI: Record<string, [(rd: number, rs1: number, imm: number) => number, Binary]> = {
  addi: [enc.addi, (a, i) => u64(a + i)],
  slti: [enc.slti, (a, i) => (s64(a) < i ? 1n : 0n)],
  sltiu: [enc.sltiu, (a, i) => (a < u64(i) ? 1n : 0n)],
  xori: [enc.xori, (a, i) => a ^ u64(i)],
  ori: [enc.ori, (a, i) => a | u64(i)],
  andi: [enc.andi, (a, i) => a & u64(i)],
  addiw: [enc.addiw, (a, i) => sx32(a + i)],
};

const SHAMT64 = [0, 1, 31, 32, 33, 63];
const SHAMT32 = [0, 1, 15, 31];
const SHIFT_IMM: Record<string, [(rd: number, rs1: number, sh: number) => number, Binary, number[]]> = {
  slli: [enc.slli, (a, s) => u64(a << s), SHAMT64],
  srli: [enc.srli, (a, s) => a >> s, SHAMT64],
  srai: [enc.srai, (a, s) => u64(s64(a) >> s), SHAMT64],
  slliw: [enc.slliw, (a, s) => sx32((a & 0xffff_ffffn) << s), SHAMT32],
  srliw: [enc.srliw, (a, s) => sx32((a & 0xffff_ffffn) >> s), SHAMT32],
  sraiw: [enc.sraiw, (a, s) => sx32(u64(BigInt.asIntN(32, a) >> s)), SHAMT32],
};

const RS1 = 5, RS2 = 6, RD = 7;

/** Runs one instruction at CODE_BASE with the given registers; returns the harness. */
function exec1(t: HartHarness, regs: Record<number, bigint>): HartHarness {
  t.hart.pc = CODE_BASE;
  t.setRegs(regs);
  expect(t.run(1)).toBe(1);
  return t;
}

describe("RV64I register-register (unpriv 2.4.2, 5.2) against a reference model", () => {
  const t = new HartHarness();
  for (const [name, [encode, ref]] of Object.entries(RR)) {
    it(`${name} on edge values, incl. carries and borrows across bit 31/32 and sign extension of W forms`, () => {
      t.program([encode(RD, RS1, RS2)]);
      for (const a of EDGES) {
        for (const b of [...EDGES, 31n, 32n, 63n, 64n]) {
          exec1(t, { [RS1]: a, [RS2]: b });
          t.expectReg(`${name} x${RD}, ${hex(a)}, ${hex(b)}`, RD, ref(a, b));
          t.expectPc(name, CODE_BASE + 4);
        }
      }
    });
  }
  it("rd = rs1 = rs2 reads the operands before writing", () => {
    t.program([enc.add(RS1, RS1, RS1)]);
    exec1(t, { [RS1]: 0x8000_0000n });
    t.expectReg("add x5, x5, x5", RS1, 0x1_0000_0000n);
  });
  it("writes to x0 are discarded", () => {
    t.program([enc.add(0, RS1, RS2), enc.addi(0, 0, 5), enc.lui(0, 0x12345)]);
    t.setRegs({ [RS1]: 3n, [RS2]: 4n });
    t.run(3);
    t.expectReg("add/addi/lui x0", 0, 0n);
  });
});

describe("RV64I register-immediate (unpriv 2.4.1, 5.2) against a reference model", () => {
  const t = new HartHarness();
  for (const [name, [encode, ref]] of Object.entries(RI)) {
    it(`${name} with sign-extended 12-bit immediates`, () => {
      for (const imm of IMMS) {
        t.program([encode(RD, RS1, imm)]);
        for (const a of EDGES) {
          exec1(t, { [RS1]: a });
          t.expectReg(`${name} x${RD}, ${hex(a)}, ${imm}`, RD, ref(a, BigInt(imm)));
        }
      }
    });
  }
  for (const [name, [encode, ref, amounts]] of Object.entries(SHIFT_IMM)) {
    it(`${name} by ${amounts.join("/")}`, () => {
      for (const sh of amounts) {
        t.program([encode(RD, RS1, sh)]);
        for (const a of EDGES) {
          exec1(t, { [RS1]: a });
          t.expectReg(`${name} x${RD}, ${hex(a)}, ${sh}`, RD, ref(a, BigInt(sh)));
        }
      }
    });
  }
  it("addiw x, x, 0 (sext.w) sign-extends bit 31", () => {
    t.program([enc.addiw(RD, RS1, 0)]);
    exec1(t, { [RS1]: 0x1234_5678_8000_0000n });
    t.expectReg("sext.w", RD, 0xffff_ffff_8000_0000n);
  });
  it("sltiu x, x, 1 (seqz) is 1 only for zero", () => {
    t.program([enc.sltiu(RD, RS1, 1)]);
    exec1(t, { [RS1]: 0n });
    t.expectReg("seqz 0", RD, 1n);
    exec1(t, { [RS1]: 0x1_0000_0000n });
    t.expectReg("seqz 2^32", RD, 0n);
  });
});

describe("lui and auipc (unpriv 2.4.1)", () => {
  const t = new HartHarness();
  it("lui sign-extends its 32-bit result", () => {
    t.program([enc.lui(RD, 0x80000), enc.lui(RS1, 0x7ffff), enc.lui(RS2, 0xfffff)]);
    t.run(3);
    t.expectReg("lui 0x80000", RD, 0xffff_ffff_8000_0000n);
    t.expectReg("lui 0x7ffff", RS1, 0x7fff_f000n);
    t.expectReg("lui 0xfffff", RS2, 0xffff_ffff_ffff_f000n);
  });
  it("auipc adds to the 64-bit pc without truncating to 32 bits", () => {
    // pc = 0x8000_0000: adding 0x7ffff000 gives 0xffff_f000, not a sign-extended value.
    t.program([enc.auipc(RD, 0x7ffff), enc.auipc(RS1, 0x80000), enc.auipc(RS2, 0)]);
    t.run(3);
    t.expectReg("auipc 0x7ffff @0x80000000", RD, 0xffff_f000n);
    t.expectReg("auipc 0x80000 @0x80000004", RS1, 0x4n);
    t.expectReg("auipc 0 @0x80000008", RS2, 0x8000_0008n);
  });
  it("auipc and jal at a high kernel address (Sv39, 0xffff_ffff_c000_0000) produce sign-extended 64-bit values", () => {
    const hi = -0x4000_0000; // 0xffff_ffff_c000_0000
    const pt = new PageTables(t);
    t.hart.reset(CODE_BASE);
    pt.map(hi, CODE_BASE + 0x8000, RWX | AD);
    t.load([enc.auipc(RD, 0x1), enc.jal(RS1, 8), enc.addi(0, 0, 0), enc.auipc(RS2, 0xfffff)], CODE_BASE + 0x8000);
    t.setCsr(R.CSR_SATP, pt.satp());
    t.setPriv(R.PRV_S);
    t.pc = hi;
    t.run(3);
    t.expectReg("auipc 1 @high", RD, 0xffff_ffff_c000_1000n);
    t.expectReg("jal link @high", RS1, 0xffff_ffff_c000_0008n);
    t.expectReg("auipc -1 @high+0xc", RS2, 0xffff_ffff_bfff_f00cn);
    t.expectPc("after jal", hi + 12 + 4);
  });
});

describe("jal and jalr (unpriv 2.5.1)", () => {
  const t = new HartHarness();
  it("jal links pc+4 and jumps forward and backward", () => {
    t.program([enc.jal(1, 12), enc.addi(RD, 0, 1), enc.addi(RD, 0, 2), enc.jal(RS1, -8)]);
    t.run(1);
    t.expectReg("jal ra, +12", 1, BigInt(CODE_BASE + 4));
    t.expectPc("jal +12", CODE_BASE + 12);
    t.run(1);
    t.expectReg("jal x5, -8", RS1, BigInt(CODE_BASE + 16));
    t.expectPc("jal -8", CODE_BASE + 4);
  });
  it("jalr clears bit 0 of the target and links pc+4", () => {
    t.program([enc.jalr(1, RS1, 3)]);
    t.setReg(RS1, CODE_BASE + 0x100); // target 0x...103 -> 0x...102
    t.load([enc.c_nop()], CODE_BASE + 0x102);
    t.run(1);
    t.expectPc("jalr target & ~1", CODE_BASE + 0x102);
    t.expectReg("jalr ra", 1, BigInt(CODE_BASE + 4));
  });
  it("jalr with rd = rs1 uses the old rs1 for the target", () => {
    t.program([enc.jalr(RS1, RS1, -4)]);
    t.setReg(RS1, CODE_BASE + 0x2004);
    t.run(1);
    t.expectPc("jalr x5, -4(x5)", CODE_BASE + 0x2000);
    t.expectReg("jalr x5 link", RS1, BigInt(CODE_BASE + 4));
  });
  it("jalr with a negative offset crossing 2^32 in the addition", () => {
    t.program([enc.jalr(0, RS1, -2048)]);
    t.setReg(RS1, CODE_BASE + 0x800 + 0x40);
    t.run(1);
    t.expectPc("jalr -2048", CODE_BASE + 0x40);
  });
});

type Cmp = (a: bigint, b: bigint) => boolean;
const BRANCHES: Record<string, [(rs1: number, rs2: number, off: number) => number, Cmp]> = {
  beq: [enc.beq, (a, b) => a === b],
  bne: [enc.bne, (a, b) => a !== b],
  blt: [enc.blt, (a, b) => s64(a) < s64(b)],
  bge: [enc.bge, (a, b) => s64(a) >= s64(b)],
  bltu: [enc.bltu, (a, b) => a < b],
  bgeu: [enc.bgeu, (a, b) => a >= b],
};

describe("conditional branches (unpriv 2.5.2), both ways, signed and unsigned corners", () => {
  const t = new HartHarness();
  const values = [0n, 1n, M64, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n,
    0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn, 0x1_0000_0001n, 0x2_0000_0001n];
  for (const [name, [encode, cmp]] of Object.entries(BRANCHES)) {
    it(`${name} forward +16 and backward -16`, () => {
      for (const off of [16, -16]) {
        const at = CODE_BASE + 0x40;
        t.hart.reset(at);
        t.load([encode(RS1, RS2, off)], at);
        for (const a of values) {
          for (const b of values) {
            t.pc = at;
            t.setRegs({ [RS1]: a, [RS2]: b });
            t.run(1);
            const taken = cmp(a, b);
            t.expectPc(`${name} ${hex(a)}, ${hex(b)} (${taken ? "taken" : "not taken"})`, taken ? at + off : at + 4);
          }
        }
      }
    });
  }
  it("a branch comparing a register with itself (beq x5, x5) is always taken", () => {
    t.program([enc.beq(RS1, RS1, 8)]);
    t.setReg(RS1, 0x8000_0000_0000_0000n);
    t.run(1);
    t.expectPc("beq x5, x5", CODE_BASE + 8);
  });
});

describe("straight-line programs", () => {
  it("a loop summing 1..100 with a backward branch", () => {
    const t = new HartHarness().program([
      enc.addi(RS1, 0, 100), // i = 100
      enc.addi(RD, 0, 0), // sum = 0
      enc.add(RD, RD, RS1), // loop: sum += i
      enc.addi(RS1, RS1, -1),
      enc.bne(RS1, 0, -8),
      enc.addi(RS2, 0, 1),
    ]);
    t.run(2 + 3 * 100 + 1);
    t.expectReg("loop sum", RD, 5050n);
    t.expectReg("loop exit", RS2, 1n);
    expect(Number(t.hart.retired())).toBe(303);
  });
  it("fence is a no-op that advances pc", () => {
    const t = new HartHarness().program([enc.fence(), enc.fence_tso(), enc.pause()]);
    t.run(3);
    t.expectPc("fence", CODE_BASE + 12);
  });
});

