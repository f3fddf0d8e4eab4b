/*
 * A tiny assembler for tests: one function per mnemonic (dots become
 * underscores), returning the instruction word as an unsigned number
 * (32-bit forms) or a 16-bit halfword (c_* forms).
 *
 * Argument order follows the assembly syntax, data register first:
 *   enc.addi(rd, rs1, imm)       enc.ld(rd, rs1, off)      enc.sd(rs2, rs1, off)  // sd rs2, off(rs1)
 *   enc.beq(rs1, rs2, off)       enc.jal(rd, off)          enc.jalr(rd, rs1, off)
 *   enc.lui(rd, imm20)           // imm20 as in "lui a0, 0x12345" (not shifted)
 *   enc.csrrw(rd, csr, rs1)      enc.csrrwi(rd, csr, zimm)
 *   enc.amoadd_d(rd, rs1, rs2)   // rs1 = address, rs2 = operand; optional aq, rl flags
 *   enc.lr_d(rd, rs1)            enc.sc_d(rd, rs1, rs2)
 *   enc.fence(pred, succ, fm)    // defaults iorw,iorw; see FENCE_I/O/R/W
 *   enc.c_lw(rd, rs1, off)       // compact forms take real register numbers x8..x15
 * Branch and jump offsets are byte offsets from the instruction.
 *
 * Encoders check that every field fits (a RangeError names the mnemonic), but
 * not whether an encoding is reserved, so tests can build reserved ones too.
 * Opcode bits come from table.ts; the words are checked against GNU as output
 * in tests/isa/encode.test.ts.
 */

import { INSN_TABLE } from "./table.ts";
import type { OpName } from "./ops.ts";

/** fence predecessor/successor set bits (unpriv 2.7). */
const FENCE_I = 8;
const FENCE_O = 4;
const FENCE_R = 2;
const FENCE_W = 1;
const FENCE_IORW = FENCE_I | FENCE_O | FENCE_R | FENCE_W;
const FENCE_FM_TSO = 8;

const MATCH: ReadonlyMap<OpName, number> = new Map(INSN_TABLE.map((r) => [r.name, r.match]));

function match(name: OpName): number {
  return MATCH.get(name)!;
}

function fail(what: string, message: string): never {
  throw new RangeError(`enc.${what}: ${message}`);
}

function reg(what: string, r: number): number {
  if (!Number.isInteger(r) || r < 0 || r > 31) fail(what, `register ${r} is not x0..x31`);
  return r;
}

/** Compact register (rd'/rs1'/rs2'): x8..x15, encoded as 0..7. */
function creg(what: string, r: number): number {
  if (!Number.isInteger(r) || r < 8 || r > 15) fail(what, `register ${r} is not x8..x15`);
  return r - 8;
}

function signed(what: string, v: number, bits: number, align = 1): number {
  const limit = 2 ** (bits - 1);
  if (!Number.isInteger(v) || v < -limit || v >= limit || v % align !== 0) {
    fail(what, `immediate ${v} is not a signed ${bits}-bit multiple of ${align}`);
  }
  return v;
}

function unsigned(what: string, v: number, bits: number, align = 1): number {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits || v % align !== 0) {
    fail(what, `immediate ${v} is not an unsigned ${bits}-bit multiple of ${align}`);
  }
  return v;
}

const u32 = (v: number): number => v >>> 0;

function rType(name: OpName, rd: number, rs1: number, rs2: number): number {
  return u32(match(name) | (reg(name, rd) << 7) | (reg(name, rs1) << 15) | (reg(name, rs2) << 20));
}
function iType(name: OpName, rd: number, rs1: number, imm: number): number {
  return u32(match(name) | (reg(name, rd) << 7) | (reg(name, rs1) << 15) | (signed(name, imm, 12) << 20));
}
function shiftType(name: OpName, rd: number, rs1: number, shamt: number, bits: number): number {
  return u32(match(name) | (reg(name, rd) << 7) | (reg(name, rs1) << 15) | (unsigned(name, shamt, bits) << 20));
}
function sType(name: OpName, rs2: number, rs1: number, imm: number): number {
  const v = signed(name, imm, 12);
  return u32(match(name) | ((v & 0x1f) << 7) | (reg(name, rs1) << 15) | (reg(name, rs2) << 20) | ((v >> 5) << 25));
}
function bType(name: OpName, rs1: number, rs2: number, off: number): number {
  const v = signed(name, off, 13, 2);
  const imm = (((v >> 12) & 1) << 31) | (((v >> 5) & 0x3f) << 25) | (((v >> 1) & 0xf) << 8) | (((v >> 11) & 1) << 7);
  return u32(match(name) | imm | (reg(name, rs1) << 15) | (reg(name, rs2) << 20));
}
function uType(name: OpName, rd: number, imm20: number): number {
  if (!Number.isInteger(imm20) || imm20 < -0x80000 || imm20 > 0xfffff) fail(name, `upper immediate ${imm20} does not fit 20 bits`);
  return u32(match(name) | (reg(name, rd) << 7) | ((imm20 & 0xfffff) << 12));
}
function jType(name: OpName, rd: number, off: number): number {
  const v = signed(name, off, 21, 2);
  const imm = (((v >> 20) & 1) << 31) | (((v >> 1) & 0x3ff) << 21) | (((v >> 11) & 1) << 20) | (v & 0xff000);
  return u32(match(name) | imm | (reg(name, rd) << 7));
}
function csrType(name: OpName, rd: number, csr: number, rs1OrZimm: number): number {
  return u32(match(name) | (reg(name, rd) << 7) | (reg(name, rs1OrZimm) << 15) | (unsigned(name, csr, 12) << 20));
}
function amoType(name: OpName, rd: number, rs1: number, rs2: number, aq: boolean, rl: boolean): number {
  return u32(rType(name, rd, rs1, rs2) | (aq ? 1 << 26 : 0) | (rl ? 1 << 25 : 0));
}

function fenceType(pred: number, succ: number, fm: number): number {
  const f = "fence";
  return u32(match(f) | (unsigned(f, fm, 4) << 28) | (unsigned(f, pred, 4) << 24) | (unsigned(f, succ, 4) << 20));
}

/* Compressed helpers: the inverse of the scrambles in decode.ts (unpriv 16.3-16.5). */
function ci(h: number, imm6: number): number {
  return h | ((imm6 & 0x20) << 7) | ((imm6 & 0x1f) << 2);
}
function cRdFull(what: string, h: number, rd: number): number {
  return h | (reg(what, rd) << 7);
}
function cjOffset(v: number): number {
  return ((v & 0x800) << 1) | ((v & 0x10) << 7) | ((v & 0x300) << 1) | ((v & 0x400) >> 2) |
    ((v & 0x40) << 1) | ((v & 0x80) >> 1) | ((v & 0xe) << 2) | ((v & 0x20) >> 3);
}
function cbOffset(v: number): number {
  return ((v & 0x100) << 4) | ((v & 0x18) << 7) | ((v & 0xc0) >> 1) | ((v & 0x6) << 2) | ((v & 0x20) >> 3);
}
function clwOffset(u: number): number {
  return ((u & 0x38) << 7) | ((u & 0x4) << 4) | ((u & 0x40) >> 1);
}
function cldOffset(u: number): number {
  return ((u & 0x38) << 7) | ((u & 0xc0) >> 1);
}
function cArith(what: string, h: number, rd: number, rs2: number): number {
  return h | (creg(what, rd) << 7) | (creg(what, rs2) << 2);
}
function cShift(what: string, h: number, shamt: number): number {
  const s = unsigned(what, shamt, 6);
  return h | ((s & 0x20) << 7) | ((s & 0x1f) << 2);
}

export const enc = {
  lui: (rd: number, imm20: number) => uType("lui", rd, imm20),
  auipc: (rd: number, imm20: number) => uType("auipc", rd, imm20),
  jal: (rd: number, off: number) => jType("jal", rd, off),
  jalr: (rd: number, rs1: number, off: number) => iType("jalr", rd, rs1, off),

  beq: (rs1: number, rs2: number, off: number) => bType("beq", rs1, rs2, off),
  bne: (rs1: number, rs2: number, off: number) => bType("bne", rs1, rs2, off),
  blt: (rs1: number, rs2: number, off: number) => bType("blt", rs1, rs2, off),
  bge: (rs1: number, rs2: number, off: number) => bType("bge", rs1, rs2, off),
  bltu: (rs1: number, rs2: number, off: number) => bType("bltu", rs1, rs2, off),
  bgeu: (rs1: number, rs2: number, off: number) => bType("bgeu", rs1, rs2, off),

  lb: (rd: number, rs1: number, off: number) => iType("lb", rd, rs1, off),
  lh: (rd: number, rs1: number, off: number) => iType("lh", rd, rs1, off),
  lw: (rd: number, rs1: number, off: number) => iType("lw", rd, rs1, off),
  ld: (rd: number, rs1: number, off: number) => iType("ld", rd, rs1, off),
  lbu: (rd: number, rs1: number, off: number) => iType("lbu", rd, rs1, off),
  lhu: (rd: number, rs1: number, off: number) => iType("lhu", rd, rs1, off),
  lwu: (rd: number, rs1: number, off: number) => iType("lwu", rd, rs1, off),

  sb: (rs2: number, rs1: number, off: number) => sType("sb", rs2, rs1, off),
  sh: (rs2: number, rs1: number, off: number) => sType("sh", rs2, rs1, off),
  sw: (rs2: number, rs1: number, off: number) => sType("sw", rs2, rs1, off),
  sd: (rs2: number, rs1: number, off: number) => sType("sd", rs2, rs1, off),

  addi: (rd: number, rs1: number, imm: number) => iType("addi", rd, rs1, imm),
  slti: (rd: number, rs1: number, imm: number) => iType("slti", rd, rs1, imm),
  sltiu: (rd: number, rs1: number, imm: number) => iType("sltiu", rd, rs1, imm),
  xori: (rd: number, rs1: number, imm: number) => iType("xori", rd, rs1, imm),
  ori: (rd: number, rs1: number, imm: number) => iType("ori", rd, rs1, imm),
  andi: (rd: number, rs1: number, imm: number) => iType("andi", rd, rs1, imm),
  slli: (rd: number, rs1: number, shamt: number) => shiftType("slli", rd, rs1, shamt, 6),
  srli: (rd: number, rs1: number, shamt: number) => shiftType("srli", rd, rs1, shamt, 6),
  srai: (rd: number, rs1: number, shamt: number) => shiftType("srai", rd, rs1, shamt, 6),

  add: (rd: number, rs1: number, rs2: number) => rType("add", rd, rs1, rs2),
  sub: (rd: number, rs1: number, rs2: number) => rType("sub", rd, rs1, rs2),
  sll: (rd: number, rs1: number, rs2: number) => rType("sll", rd, rs1, rs2),
  slt: (rd: number, rs1: number, rs2: number) => rType("slt", rd, rs1, rs2),
  sltu: (rd: number, rs1: number, rs2: number) => rType("sltu", rd, rs1, rs2),
  xor: (rd: number, rs1: number, rs2: number) => rType("xor", rd, rs1, rs2),
  srl: (rd: number, rs1: number, rs2: number) => rType("srl", rd, rs1, rs2),
  sra: (rd: number, rs1: number, rs2: number) => rType("sra", rd, rs1, rs2),
  or: (rd: number, rs1: number, rs2: number) => rType("or", rd, rs1, rs2),
  and: (rd: number, rs1: number, rs2: number) => rType("and", rd, rs1, rs2),

  addiw: (rd: number, rs1: number, imm: number) => iType("addiw", rd, rs1, imm),
  slliw: (rd: number, rs1: number, shamt: number) => shiftType("slliw", rd, rs1, shamt, 5),
  srliw: (rd: number, rs1: number, shamt: number) => shiftType("srliw", rd, rs1, shamt, 5),
  sraiw: (rd: number, rs1: number, shamt: number) => shiftType("sraiw", rd, rs1, shamt, 5),
  addw: (rd: number, rs1: number, rs2: number) => rType("addw", rd, rs1, rs2),
  subw: (rd: number, rs1: number, rs2: number) => rType("subw", rd, rs1, rs2),
  sllw: (rd: number, rs1: number, rs2: number) => rType("sllw", rd, rs1, rs2),
  srlw: (rd: number, rs1: number, rs2: number) => rType("srlw", rd, rs1, rs2),
  sraw: (rd: number, rs1: number, rs2: number) => rType("sraw", rd, rs1, rs2),

  fence: (pred = FENCE_IORW, succ = FENCE_IORW, fm = 0) => fenceType(pred, succ, fm),
  /** fence.tso: fm = TSO, rw,rw (unpriv 2.7). */
  fence_tso: () => fenceType(FENCE_R | FENCE_W, FENCE_R | FENCE_W, FENCE_FM_TSO),
  /** pause (Zihintpause): fence w,0. */
  pause: () => fenceType(FENCE_W, 0, 0),
  fence_i: () => u32(match("fence.i")),
  ecall: () => u32(match("ecall")),
  ebreak: () => u32(match("ebreak")),
  mret: () => u32(match("mret")),
  sret: () => u32(match("sret")),
  wfi: () => u32(match("wfi")),
  sfence_vma: (rs1 = 0, rs2 = 0) => rType("sfence.vma", 0, rs1, rs2),
  // H extension: hlv*/hlvx* rd, (rs1); hsv* rs2, (rs1) taken as (rs1, rs2); hfence.* rs1, rs2.
  hfence_vvma: (rs1 = 0, rs2 = 0) => rType("hfence.vvma", 0, rs1, rs2),
  hfence_gvma: (rs1 = 0, rs2 = 0) => rType("hfence.gvma", 0, rs1, rs2),
  hlv_b: (rd: number, rs1: number) => rType("hlv.b", rd, rs1, 0),
  hlv_bu: (rd: number, rs1: number) => rType("hlv.bu", rd, rs1, 0),
  hlv_h: (rd: number, rs1: number) => rType("hlv.h", rd, rs1, 0),
  hlv_hu: (rd: number, rs1: number) => rType("hlv.hu", rd, rs1, 0),
  hlv_w: (rd: number, rs1: number) => rType("hlv.w", rd, rs1, 0),
  hlv_wu: (rd: number, rs1: number) => rType("hlv.wu", rd, rs1, 0),
  hlv_d: (rd: number, rs1: number) => rType("hlv.d", rd, rs1, 0),
  hlvx_hu: (rd: number, rs1: number) => rType("hlvx.hu", rd, rs1, 0),
  hlvx_wu: (rd: number, rs1: number) => rType("hlvx.wu", rd, rs1, 0),
  hsv_b: (rs1: number, rs2: number) => rType("hsv.b", 0, rs1, rs2),
  hsv_h: (rs1: number, rs2: number) => rType("hsv.h", 0, rs1, rs2),
  hsv_w: (rs1: number, rs2: number) => rType("hsv.w", 0, rs1, rs2),
  hsv_d: (rs1: number, rs2: number) => rType("hsv.d", 0, rs1, rs2),

  csrrw: (rd: number, csr: number, rs1: number) => csrType("csrrw", rd, csr, rs1),
  csrrs: (rd: number, csr: number, rs1: number) => csrType("csrrs", rd, csr, rs1),
  csrrc: (rd: number, csr: number, rs1: number) => csrType("csrrc", rd, csr, rs1),
  csrrwi: (rd: number, csr: number, zimm: number) => csrType("csrrwi", rd, csr, zimm),
  csrrsi: (rd: number, csr: number, zimm: number) => csrType("csrrsi", rd, csr, zimm),
  csrrci: (rd: number, csr: number, zimm: number) => csrType("csrrci", rd, csr, zimm),

  mul: (rd: number, rs1: number, rs2: number) => rType("mul", rd, rs1, rs2),
  mulh: (rd: number, rs1: number, rs2: number) => rType("mulh", rd, rs1, rs2),
  mulhsu: (rd: number, rs1: number, rs2: number) => rType("mulhsu", rd, rs1, rs2),
  mulhu: (rd: number, rs1: number, rs2: number) => rType("mulhu", rd, rs1, rs2),
  div: (rd: number, rs1: number, rs2: number) => rType("div", rd, rs1, rs2),
  divu: (rd: number, rs1: number, rs2: number) => rType("divu", rd, rs1, rs2),
  rem: (rd: number, rs1: number, rs2: number) => rType("rem", rd, rs1, rs2),
  remu: (rd: number, rs1: number, rs2: number) => rType("remu", rd, rs1, rs2),
  mulw: (rd: number, rs1: number, rs2: number) => rType("mulw", rd, rs1, rs2),
  divw: (rd: number, rs1: number, rs2: number) => rType("divw", rd, rs1, rs2),
  divuw: (rd: number, rs1: number, rs2: number) => rType("divuw", rd, rs1, rs2),
  remw: (rd: number, rs1: number, rs2: number) => rType("remw", rd, rs1, rs2),
  remuw: (rd: number, rs1: number, rs2: number) => rType("remuw", rd, rs1, rs2),

  lr_w: (rd: number, rs1: number, aq = false, rl = false) => amoType("lr.w", rd, rs1, 0, aq, rl),
  sc_w: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("sc.w", rd, rs1, rs2, aq, rl),
  amoswap_w: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amoswap.w", rd, rs1, rs2, aq, rl),
  amoadd_w: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amoadd.w", rd, rs1, rs2, aq, rl),
  amoxor_w: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amoxor.w", rd, rs1, rs2, aq, rl),
  amoand_w: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amoand.w", rd, rs1, rs2, aq, rl),
  amoor_w: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amoor.w", rd, rs1, rs2, aq, rl),
  amomin_w: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amomin.w", rd, rs1, rs2, aq, rl),
  amomax_w: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amomax.w", rd, rs1, rs2, aq, rl),
  amominu_w: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amominu.w", rd, rs1, rs2, aq, rl),
  amomaxu_w: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amomaxu.w", rd, rs1, rs2, aq, rl),
  lr_d: (rd: number, rs1: number, aq = false, rl = false) => amoType("lr.d", rd, rs1, 0, aq, rl),
  sc_d: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("sc.d", rd, rs1, rs2, aq, rl),
  amoswap_d: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amoswap.d", rd, rs1, rs2, aq, rl),
  amoadd_d: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amoadd.d", rd, rs1, rs2, aq, rl),
  amoxor_d: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amoxor.d", rd, rs1, rs2, aq, rl),
  amoand_d: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amoand.d", rd, rs1, rs2, aq, rl),
  amoor_d: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amoor.d", rd, rs1, rs2, aq, rl),
  amomin_d: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amomin.d", rd, rs1, rs2, aq, rl),
  amomax_d: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amomax.d", rd, rs1, rs2, aq, rl),
  amominu_d: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amominu.d", rd, rs1, rs2, aq, rl),
  amomaxu_d: (rd: number, rs1: number, rs2: number, aq = false, rl = false) => amoType("amomaxu.d", rd, rs1, rs2, aq, rl),

  // Compressed (RV64C, unpriv ch. 16). Quadrant 0.
  c_addi4spn: (rd: number, uimm: number) => {
    const u = unsigned("c_addi4spn", uimm, 10, 4);
    return 0x0000 | (creg("c_addi4spn", rd) << 2) | ((u & 0x30) << 7) | ((u & 0x3c0) << 1) | ((u & 0x4) << 4) | ((u & 0x8) << 2);
  },
  c_lw: (rd: number, rs1: number, off: number) =>
    0x4000 | (creg("c_lw", rd) << 2) | (creg("c_lw", rs1) << 7) | clwOffset(unsigned("c_lw", off, 7, 4)),
  c_ld: (rd: number, rs1: number, off: number) =>
    0x6000 | (creg("c_ld", rd) << 2) | (creg("c_ld", rs1) << 7) | cldOffset(unsigned("c_ld", off, 8, 8)),
  c_sw: (rs2: number, rs1: number, off: number) =>
    0xc000 | (creg("c_sw", rs2) << 2) | (creg("c_sw", rs1) << 7) | clwOffset(unsigned("c_sw", off, 7, 4)),
  c_sd: (rs2: number, rs1: number, off: number) =>
    0xe000 | (creg("c_sd", rs2) << 2) | (creg("c_sd", rs1) << 7) | cldOffset(unsigned("c_sd", off, 8, 8)),
  // Quadrant 1.
  c_nop: () => 0x0001,
  c_addi: (rd: number, imm: number) => ci(cRdFull("c_addi", 0x0001, rd), signed("c_addi", imm, 6)),
  c_addiw: (rd: number, imm: number) => ci(cRdFull("c_addiw", 0x2001, rd), signed("c_addiw", imm, 6)),
  c_li: (rd: number, imm: number) => ci(cRdFull("c_li", 0x4001, rd), signed("c_li", imm, 6)),
  c_addi16sp: (imm: number) => {
    const v = signed("c_addi16sp", imm, 10, 16);
    return 0x6101 | ((v & 0x200) << 3) | ((v & 0x10) << 2) | ((v & 0x40) >> 1) | ((v & 0x180) >> 4) | ((v & 0x20) >> 3);
  },
  /** c.lui rd, imm6: rd = sext(imm6) << 12; imm6 in -32..31 (GAS's 0xfffe0..0xfffff also accepted). */
  c_lui: (rd: number, imm: number) => {
    const imm6 = imm >= 0xfffe0 && imm <= 0xfffff ? imm - 0x100000 : imm;
    return ci(cRdFull("c_lui", 0x6001, rd), signed("c_lui", imm6, 6));
  },
  c_srli: (rd: number, shamt: number) => cShift("c_srli", 0x8001 | (creg("c_srli", rd) << 7), shamt),
  c_srai: (rd: number, shamt: number) => cShift("c_srai", 0x8401 | (creg("c_srai", rd) << 7), shamt),
  c_andi: (rd: number, imm: number) => ci(0x8801 | (creg("c_andi", rd) << 7), signed("c_andi", imm, 6)),
  c_sub: (rd: number, rs2: number) => cArith("c_sub", 0x8c01, rd, rs2),
  c_xor: (rd: number, rs2: number) => cArith("c_xor", 0x8c21, rd, rs2),
  c_or: (rd: number, rs2: number) => cArith("c_or", 0x8c41, rd, rs2),
  c_and: (rd: number, rs2: number) => cArith("c_and", 0x8c61, rd, rs2),
  c_subw: (rd: number, rs2: number) => cArith("c_subw", 0x9c01, rd, rs2),
  c_addw: (rd: number, rs2: number) => cArith("c_addw", 0x9c21, rd, rs2),
  c_j: (off: number) => 0xa001 | cjOffset(signed("c_j", off, 12, 2)),
  c_beqz: (rs1: number, off: number) => 0xc001 | (creg("c_beqz", rs1) << 7) | cbOffset(signed("c_beqz", off, 9, 2)),
  c_bnez: (rs1: number, off: number) => 0xe001 | (creg("c_bnez", rs1) << 7) | cbOffset(signed("c_bnez", off, 9, 2)),
  // Quadrant 2.
  c_slli: (rd: number, shamt: number) => cShift("c_slli", cRdFull("c_slli", 0x0002, rd), shamt),
  c_lwsp: (rd: number, off: number) => {
    const u = unsigned("c_lwsp", off, 8, 4);
    return cRdFull("c_lwsp", 0x4002, rd) | ((u & 0x20) << 7) | ((u & 0x1c) << 2) | ((u & 0xc0) >> 4);
  },
  c_ldsp: (rd: number, off: number) => {
    const u = unsigned("c_ldsp", off, 9, 8);
    return cRdFull("c_ldsp", 0x6002, rd) | ((u & 0x20) << 7) | ((u & 0x18) << 2) | ((u & 0x1c0) >> 4);
  },
  c_jr: (rs1: number) => cRdFull("c_jr", 0x8002, rs1),
  c_mv: (rd: number, rs2: number) => cRdFull("c_mv", 0x8002, rd) | (reg("c_mv", rs2) << 2),
  c_ebreak: () => 0x9002,
  c_jalr: (rs1: number) => cRdFull("c_jalr", 0x9002, rs1),
  c_add: (rd: number, rs2: number) => cRdFull("c_add", 0x9002, rd) | (reg("c_add", rs2) << 2),
  c_swsp: (rs2: number, off: number) => {
    const u = unsigned("c_swsp", off, 8, 4);
    return 0xc002 | (reg("c_swsp", rs2) << 2) | ((u & 0x3c) << 7) | ((u & 0xc0) << 1);
  },
  c_sdsp: (rs2: number, off: number) => {
    const u = unsigned("c_sdsp", off, 9, 8);
    return 0xe002 | (reg("c_sdsp", rs2) << 2) | ((u & 0x38) << 7) | ((u & 0x1c0) << 1);
  },
};
