/*
 * The C extension (unpriv ch. 16): every compressed form executes exactly
 * like its 32-bit expansion, except that pc advances by 2 and c.jal(r) links
 * pc+2. Each case runs the compressed instruction and its expansion from the
 * same register state and compares all 31 registers and the bytes stored.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import * as R from "../../src/machine/riscv.ts";
import { CODE_BASE, DATA_BASE, HartHarness, hex } from "../helpers/hart-harness.ts";

const SP = 2;
/** Register state both runs start from: x8..x15 and sp point into the data area or hold edge values. */
function initialRegs(): Record<number, bigint> {
  const regs: Record<number, bigint> = {};
  for (let r = 1; r < 32; r++) regs[r] = BigInt(r) * 0x0101_0101_0101n;
  regs[SP] = BigInt(DATA_BASE + 0x100);
  regs[8] = BigInt(DATA_BASE + 0x200);
  regs[9] = 0xffff_ffff_8000_0001n;
  regs[10] = 0x7fff_ffffn;
  regs[11] = 0x8000_0000_0000_0000n;
  regs[12] = 0xffff_ffff_ffff_fff0n;
  return regs;
}

function fillData(t: HartHarness): void {
  for (let i = 0; i < 0x400; i += 8) t.write64(DATA_BASE + i, 0x8877_6655_4433_2211n ^ BigInt(i));
}

interface Outcome {
  regs: bigint[];
  pc: number;
  data: bigint[];
}

function runOne(insn: number): Outcome {
  const t = new HartHarness();
  fillData(t);
  t.program([insn]);
  t.setRegs(initialRegs());
  t.run(1);
  const regs: bigint[] = [];
  for (let r = 0; r < 32; r++) regs.push(t.reg(r));
  const data: bigint[] = [];
  for (let i = 0; i < 0x400; i += 8) data.push(t.read64(DATA_BASE + i));
  return { regs, pc: t.pc, data };
}

/** [name, compressed, expansion] */
const SAME: [string, number, number][] = [
  ["c.addi4spn", enc.c_addi4spn(9, 1020), enc.addi(9, SP, 1020)],
  ["c.lw", enc.c_lw(13, 8, 124), enc.lw(13, 8, 124)],
  ["c.ld", enc.c_ld(13, 8, 248), enc.ld(13, 8, 248)],
  ["c.sw", enc.c_sw(9, 8, 64), enc.sw(9, 8, 64)],
  ["c.sd", enc.c_sd(11, 8, 136), enc.sd(11, 8, 136)],
  ["c.nop", enc.c_nop(), enc.addi(0, 0, 0)],
  ["c.addi -32", enc.c_addi(9, -32), enc.addi(9, 9, -32)],
  ["c.addi 31", enc.c_addi(10, 31), enc.addi(10, 10, 31)],
  ["c.addiw (sign-extends)", enc.c_addiw(10, 1), enc.addiw(10, 10, 1)],
  ["c.li -1", enc.c_li(20, -1), enc.addi(20, 0, -1)],
  ["c.addi16sp -512", enc.c_addi16sp(-512), enc.addi(SP, SP, -512)],
  ["c.addi16sp 496", enc.c_addi16sp(496), enc.addi(SP, SP, 496)],
  ["c.lui -32 (sign-extended)", enc.c_lui(17, -32), enc.lui(17, 0xfffe0)],
  ["c.lui 31", enc.c_lui(17, 31), enc.lui(17, 31)],
  ["c.srli 63", enc.c_srli(11, 63), enc.srli(11, 11, 63)],
  ["c.srli 32", enc.c_srli(9, 32), enc.srli(9, 9, 32)],
  ["c.srai 1", enc.c_srai(11, 1), enc.srai(11, 11, 1)],
  ["c.srai 33", enc.c_srai(9, 33), enc.srai(9, 9, 33)],
  ["c.andi -16", enc.c_andi(9, -16), enc.andi(9, 9, -16)],
  ["c.sub", enc.c_sub(9, 10), enc.sub(9, 9, 10)],
  ["c.xor", enc.c_xor(11, 12), enc.xor(11, 11, 12)],
  ["c.or", enc.c_or(11, 12), enc.or(11, 11, 12)],
  ["c.and", enc.c_and(11, 12), enc.and(11, 11, 12)],
  ["c.subw", enc.c_subw(10, 9), enc.subw(10, 10, 9)],
  ["c.addw", enc.c_addw(10, 10), enc.addw(10, 10, 10)],
  ["c.slli 63", enc.c_slli(20, 63), enc.slli(20, 20, 63)],
  ["c.slli 1", enc.c_slli(10, 1), enc.slli(10, 10, 1)],
  ["c.lwsp", enc.c_lwsp(20, 252), enc.lw(20, SP, 252)],
  ["c.ldsp", enc.c_ldsp(20, 504), enc.ld(20, SP, 504)],
  ["c.mv", enc.c_mv(20, 9), enc.add(20, 0, 9)],
  ["c.add", enc.c_add(20, 9), enc.add(20, 20, 9)],
  ["c.swsp", enc.c_swsp(9, 252), enc.sw(9, SP, 252)],
  ["c.sdsp", enc.c_sdsp(11, 504), enc.sd(11, SP, 504)],
];

describe("compressed forms execute like their expansion, with pc += 2 (unpriv 16.3-16.6)", () => {
  for (const [name, c, full] of SAME) {
    it(name, () => {
      expect((c & 3) !== 3, `${name} is a 16-bit encoding`).toBe(true);
      const a = runOne(c);
      const b = runOne(full);
      expect(hex(a.pc), `${name}: pc`).toBe(hex(CODE_BASE + 2));
      expect(hex(b.pc), `${name} expansion: pc`).toBe(hex(CODE_BASE + 4));
      for (let r = 0; r < 32; r++) expect(hex(a.regs[r]), `${name}: x${r}`).toBe(hex(b.regs[r]));
      for (let i = 0; i < a.data.length; i++) expect(hex(a.data[i]), `${name}: data +${i * 8}`).toBe(hex(b.data[i]));
    });
  }
});

describe("compressed control transfer (unpriv 16.4)", () => {
  const t = new HartHarness();
  it("c.j jumps forward and backward", () => {
    t.program([enc.c_j(0x40)]);
    t.load([enc.c_j(-0x40)], CODE_BASE + 0x40);
    t.run(1);
    t.expectPc("c.j +0x40", CODE_BASE + 0x40);
    t.run(1);
    t.expectPc("c.j -0x40", CODE_BASE);
  });
  it("c.beqz / c.bnez both ways", () => {
    for (const [insn, value, taken] of [
      [enc.c_beqz(9, 16), 0n, true], [enc.c_beqz(9, 16), 0x1_0000_0000n, false],
      [enc.c_bnez(9, -16), 0x1_0000_0000n, true], [enc.c_bnez(9, -16), 0n, false],
    ] as const) {
      const at = CODE_BASE + 0x40;
      t.hart.reset(at);
      t.load([insn], at);
      t.setReg(9, value);
      t.run(1);
      const off = insn === enc.c_beqz(9, 16) ? 16 : -16;
      t.expectPc(`c.b${off > 0 ? "eq" : "ne"}z x9=${hex(value)}`, taken ? at + off : at + 2);
    }
  });
  it("c.jr jumps to rs1 without linking", () => {
    t.program([enc.c_jr(9)]);
    t.setRegs({ 9: CODE_BASE + 0x80, 1: 0x1234n });
    t.run(1);
    t.expectPc("c.jr", CODE_BASE + 0x80);
    t.expectReg("c.jr leaves ra", 1, 0x1234n);
  });
  it("c.jalr links pc+2 into ra and clears bit 0 of the target", () => {
    t.program([enc.c_jalr(9)]);
    t.setReg(9, CODE_BASE + 0x81);
    t.run(1);
    t.expectPc("c.jalr", CODE_BASE + 0x80);
    t.expectReg("c.jalr link", 1, BigInt(CODE_BASE + 2));
  });
  it("c.jalr ra (rs1 = ra) jumps to the old ra", () => {
    t.program([enc.c_jalr(1)]);
    t.setReg(1, CODE_BASE + 0x80);
    t.run(1);
    t.expectPc("c.jalr ra", CODE_BASE + 0x80);
    t.expectReg("c.jalr ra link", 1, BigInt(CODE_BASE + 2));
  });
  it("c.ebreak raises breakpoint with tval = pc", () => {
    t.program([enc.c_nop(), enc.c_ebreak()]);
    t.setCsr(R.CSR_MTVEC, CODE_BASE + 0x100);
    t.run(2);
    t.expectMTrap("c.ebreak", R.CAUSE_BREAKPOINT, CODE_BASE + 2, CODE_BASE + 2);
  });
  it("a mix of 16- and 32-bit instructions keeps pc on the right parcel", () => {
    t.program([enc.c_li(9, 1), enc.addi(9, 9, 2), enc.c_addi(9, 4), enc.c_slli(9, 1), enc.addi(10, 9, 0)]);
    t.run(5);
    t.expectReg("mixed", 10, 14n);
    t.expectPc("mixed", CODE_BASE + 2 + 4 + 2 + 2 + 4);
  });
});

describe("reserved compressed encodings are illegal, with tval = the 16 bits (priv spec 3.1.16)", () => {
  const cases: [string, number][] = [
    ["all-zero parcel", 0x0000],
    ["c.addi4spn with nzuimm = 0", 0x0004],
    ["c.lui with imm = 0", 0x6081 & ~0x107c],
    ["c.addi16sp with imm = 0", 0x6101],
    ["c.addiw rd = x0", 0x2001 | (1 << 2)],
    ["c.lwsp rd = x0", 0x4002],
    ["c.jr rs1 = x0", 0x8002],
  ];
  for (const [what, bits] of cases) {
    it(what, () => {
      const t = new HartHarness();
      t.setCsr(R.CSR_MTVEC, CODE_BASE + 0x100);
      t.load([bits]);
      t.run(1);
      t.expectMTrap(what, R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE, bits);
    });
  }
});
