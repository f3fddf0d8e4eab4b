/*
 * The instruction table: one row per instruction, from which the decoder
 * (decode.ts), the disassembler (disasm.ts) and the test encoder (encode.ts)
 * are all built — QEMU's "tables over branches" (target/riscv/insn32.decode).
 *
 * A 32-bit row matches when (inst & mask) === match. Rows for one major opcode
 * (inst[6:2]) are tried in table order, so a more specific row (ecall) must
 * come before a broader one sharing its opcode. The format says which fields
 * the instruction carries and how its immediate is laid out (unpriv spec 2.3,
 * "Immediate Encoding Variants").
 *
 * Compressed rows (RVC_TABLE) match a 16-bit parcel the same way and name the
 * base op they expand to (unpriv spec ch. 16, "C" Standard Extension); their
 * format says how to extract the operands and which encodings are reserved.
 *
 * All masks and matches are stored as int32 (`| 0`) so that they compare
 * directly with `inst & mask` in the decoder.
 */

import { OP } from "./ops.ts";
import type { OpName } from "./ops.ts";

/** Operand layout of a 32-bit instruction. */
export const Fmt = {
  /** lui, auipc: rd, imm = inst[31:12] << 12. */
  U: 0,
  /** jal: rd, imm = J-type byte offset. */
  J: 1,
  /** jalr: rd, rs1, I-type immediate. */
  JALR: 2,
  /** branches: rs1, rs2, B-type byte offset. */
  B: 3,
  /** loads: rd, rs1, I-type offset. */
  LOAD: 4,
  /** stores: rs1 (base), rs2 (data), S-type offset. */
  STORE: 5,
  /** register-immediate ALU: rd, rs1, I-type immediate. */
  I: 6,
  /** slli/srli/srai: rd, rs1, shamt = inst[25:20]. */
  SHIFT64: 7,
  /** slliw/srliw/sraiw: rd, rs1, shamt = inst[24:20]. */
  SHIFT32: 8,
  /** register-register: rd, rs1, rs2. */
  R: 9,
  /** AMOs and sc: rd, rs1 (address), rs2 (data); aq/rl (inst[26:25]) ignored. */
  AMO: 10,
  /** lr: rd, rs1 (address). */
  LR: 11,
  /** csrrw/csrrs/csrrc: rd, rs1, imm = CSR number. */
  CSR: 12,
  /** csrrwi/csrrsi/csrrci: rd, rs1 field = zimm[4:0], imm = CSR number. */
  CSRI: 13,
  /** fence: imm = inst[31:20] (fm, pred, succ); rd and rs1 ignored (unpriv 2.7). */
  FENCE: 14,
  /** no operands: fence.i, ecall, ebreak, mret, sret, wfi. */
  NONE: 15,
  /** sfence.vma: rs1 (vaddr), rs2 (asid). */
  SFENCE: 16,
  /** hlv, hlvx: rd, rs1 (guest virtual address). */
  HLV: 17,
  /** hsv: rs1 (guest virtual address), rs2 (data). */
  HSV: 18,
} as const;
export type Fmt = (typeof Fmt)[keyof typeof Fmt];

export interface InsnRow {
  readonly name: OpName;
  readonly op: number;
  readonly mask: number;
  readonly match: number;
  readonly fmt: Fmt;
}

/** Major opcodes, inst[6:0] (unpriv spec table 24.1). */
const OPCODE = {
  LOAD: 0x03,
  MISC_MEM: 0x0f,
  OP_IMM: 0x13,
  AUIPC: 0x17,
  OP_IMM_32: 0x1b,
  STORE: 0x23,
  AMO: 0x2f,
  OP: 0x33,
  LUI: 0x37,
  OP_32: 0x3b,
  BRANCH: 0x63,
  JALR: 0x67,
  JAL: 0x6f,
  SYSTEM: 0x73,
} as const;

/** Masks selecting the fields that identify an instruction. */
const MASK_OPCODE = 0x7f;
const MASK_FUNCT3 = 0x707f;
const MASK_FUNCT6 = 0xfc00707f | 0; // RV64 shifts: funct6 + 6-bit shamt
const MASK_FUNCT7 = 0xfe00707f | 0;
const MASK_AMO = 0xf800707f | 0; // funct5; aq/rl free
const MASK_LR = 0xf9f0707f | 0; // funct5 and rs2 = 0; aq/rl free
const MASK_SFENCE = 0xfe007fff | 0; // funct7, rd = 0, funct3 = 0
const MASK_ALL = 0xffffffff | 0;
const MASK_HLV = 0xfff0707f | 0; // funct7 and rs2 (the width/variant), funct3
const MASK_SFENCE_F3 = MASK_SFENCE; // hsv: funct7, rd = 0, funct3 (4) — the same fields as sfence.vma

/** match = opcode | funct3 << 12 | funct7 << 25 (funct7 also carries funct6/funct5 << 2). */
function enc(opcode: number, funct3 = 0, funct7 = 0): number {
  return (opcode | (funct3 << 12) | (funct7 << 25)) | 0;
}

function row(name: OpName, mask: number, match: number, fmt: Fmt): InsnRow {
  return { name, op: OP[name], mask: mask | 0, match: match | 0, fmt };
}

/** AMO funct5 values (unpriv spec 8.4, table of AMO encodings). */
const AMO_FUNCT5 = {
  lr: 0x02, sc: 0x03, amoswap: 0x01, amoadd: 0x00, amoxor: 0x04, amoand: 0x0c,
  amoor: 0x08, amomin: 0x10, amomax: 0x14, amominu: 0x18, amomaxu: 0x1c,
} as const;
const AMO_WIDTH_W = 2;
const AMO_WIDTH_D = 3;

function amoRows(width: number, suffix: "w" | "d"): InsnRow[] {
  const rows: InsnRow[] = [];
  for (const [base, funct5] of Object.entries(AMO_FUNCT5)) {
    const name = `${base}.${suffix}` as OpName;
    const isLr = base === "lr";
    rows.push(row(name, isLr ? MASK_LR : MASK_AMO, enc(OPCODE.AMO, width, funct5 << 2), isLr ? Fmt.LR : Fmt.AMO));
  }
  return rows;
}

const { LOAD, MISC_MEM, OP_IMM, AUIPC, OP_IMM_32, STORE, LUI, OP_32, BRANCH, JALR, JAL, SYSTEM } = OPCODE;
const OP_ = OPCODE.OP;
const F7_ALT = 0x20; // sub, sra, srai...: inst[30] set
const F7_MULDIV = 0x01; // M extension

/** Every 32-bit instruction of RV64IMA + Zicsr + Zifencei + the privileged ones. */
export const INSN_TABLE: readonly InsnRow[] = [
  row("lui", MASK_OPCODE, LUI, Fmt.U),
  row("auipc", MASK_OPCODE, AUIPC, Fmt.U),
  row("jal", MASK_OPCODE, JAL, Fmt.J),
  row("jalr", MASK_FUNCT3, enc(JALR, 0), Fmt.JALR),

  row("beq", MASK_FUNCT3, enc(BRANCH, 0), Fmt.B),
  row("bne", MASK_FUNCT3, enc(BRANCH, 1), Fmt.B),
  row("blt", MASK_FUNCT3, enc(BRANCH, 4), Fmt.B),
  row("bge", MASK_FUNCT3, enc(BRANCH, 5), Fmt.B),
  row("bltu", MASK_FUNCT3, enc(BRANCH, 6), Fmt.B),
  row("bgeu", MASK_FUNCT3, enc(BRANCH, 7), Fmt.B),

  row("lb", MASK_FUNCT3, enc(LOAD, 0), Fmt.LOAD),
  row("lh", MASK_FUNCT3, enc(LOAD, 1), Fmt.LOAD),
  row("lw", MASK_FUNCT3, enc(LOAD, 2), Fmt.LOAD),
  row("ld", MASK_FUNCT3, enc(LOAD, 3), Fmt.LOAD),
  row("lbu", MASK_FUNCT3, enc(LOAD, 4), Fmt.LOAD),
  row("lhu", MASK_FUNCT3, enc(LOAD, 5), Fmt.LOAD),
  row("lwu", MASK_FUNCT3, enc(LOAD, 6), Fmt.LOAD),

  row("sb", MASK_FUNCT3, enc(STORE, 0), Fmt.STORE),
  row("sh", MASK_FUNCT3, enc(STORE, 1), Fmt.STORE),
  row("sw", MASK_FUNCT3, enc(STORE, 2), Fmt.STORE),
  row("sd", MASK_FUNCT3, enc(STORE, 3), Fmt.STORE),

  row("addi", MASK_FUNCT3, enc(OP_IMM, 0), Fmt.I),
  row("slti", MASK_FUNCT3, enc(OP_IMM, 2), Fmt.I),
  row("sltiu", MASK_FUNCT3, enc(OP_IMM, 3), Fmt.I),
  row("xori", MASK_FUNCT3, enc(OP_IMM, 4), Fmt.I),
  row("ori", MASK_FUNCT3, enc(OP_IMM, 6), Fmt.I),
  row("andi", MASK_FUNCT3, enc(OP_IMM, 7), Fmt.I),
  // RV64I 4.2.1: shamt is inst[25:20]; funct6 other than 000000/010000 is reserved.
  row("slli", MASK_FUNCT6, enc(OP_IMM, 1), Fmt.SHIFT64),
  row("srli", MASK_FUNCT6, enc(OP_IMM, 5), Fmt.SHIFT64),
  row("srai", MASK_FUNCT6, enc(OP_IMM, 5, F7_ALT), Fmt.SHIFT64),

  row("add", MASK_FUNCT7, enc(OP_, 0), Fmt.R),
  row("sub", MASK_FUNCT7, enc(OP_, 0, F7_ALT), Fmt.R),
  row("sll", MASK_FUNCT7, enc(OP_, 1), Fmt.R),
  row("slt", MASK_FUNCT7, enc(OP_, 2), Fmt.R),
  row("sltu", MASK_FUNCT7, enc(OP_, 3), Fmt.R),
  row("xor", MASK_FUNCT7, enc(OP_, 4), Fmt.R),
  row("srl", MASK_FUNCT7, enc(OP_, 5), Fmt.R),
  row("sra", MASK_FUNCT7, enc(OP_, 5, F7_ALT), Fmt.R),
  row("or", MASK_FUNCT7, enc(OP_, 6), Fmt.R),
  row("and", MASK_FUNCT7, enc(OP_, 7), Fmt.R),

  row("addiw", MASK_FUNCT3, enc(OP_IMM_32, 0), Fmt.I),
  // RV64I 4.2.1: *iw with inst[25] = 1 (shamt[5]) is reserved, so funct7 is matched whole.
  row("slliw", MASK_FUNCT7, enc(OP_IMM_32, 1), Fmt.SHIFT32),
  row("srliw", MASK_FUNCT7, enc(OP_IMM_32, 5), Fmt.SHIFT32),
  row("sraiw", MASK_FUNCT7, enc(OP_IMM_32, 5, F7_ALT), Fmt.SHIFT32),

  row("addw", MASK_FUNCT7, enc(OP_32, 0), Fmt.R),
  row("subw", MASK_FUNCT7, enc(OP_32, 0, F7_ALT), Fmt.R),
  row("sllw", MASK_FUNCT7, enc(OP_32, 1), Fmt.R),
  row("srlw", MASK_FUNCT7, enc(OP_32, 5), Fmt.R),
  row("sraw", MASK_FUNCT7, enc(OP_32, 5, F7_ALT), Fmt.R),

  // Unpriv 2.7 / Zifencei: unused fields of fence and fence.i are ignored.
  row("fence", MASK_FUNCT3, enc(MISC_MEM, 0), Fmt.FENCE),
  row("fence.i", MASK_FUNCT3, enc(MISC_MEM, 1), Fmt.NONE),

  // SYSTEM: exact encodings first (priv spec 3.3, 4.2.1), then the CSR ops.
  row("ecall", MASK_ALL, 0x00000073, Fmt.NONE),
  row("ebreak", MASK_ALL, 0x00100073, Fmt.NONE),
  row("sret", MASK_ALL, 0x10200073, Fmt.NONE),
  row("mret", MASK_ALL, 0x30200073, Fmt.NONE),
  row("wfi", MASK_ALL, 0x10500073, Fmt.NONE),
  row("sfence.vma", MASK_SFENCE, enc(SYSTEM, 0, 0x09), Fmt.SFENCE),
  // H extension: funct3 4 with funct7 and the rs2 field choosing the width (priv spec, H chapter).
  row("hfence.vvma", MASK_SFENCE, enc(SYSTEM, 0, 0x11), Fmt.SFENCE),
  row("hfence.gvma", MASK_SFENCE, enc(SYSTEM, 0, 0x31), Fmt.SFENCE),
  row("hlv.b", MASK_HLV, enc(SYSTEM, 4, 0x30), Fmt.HLV),
  row("hlv.bu", MASK_HLV, enc(SYSTEM, 4, 0x30) | (1 << 20), Fmt.HLV),
  row("hlv.h", MASK_HLV, enc(SYSTEM, 4, 0x32), Fmt.HLV),
  row("hlv.hu", MASK_HLV, enc(SYSTEM, 4, 0x32) | (1 << 20), Fmt.HLV),
  row("hlvx.hu", MASK_HLV, enc(SYSTEM, 4, 0x32) | (3 << 20), Fmt.HLV),
  row("hlv.w", MASK_HLV, enc(SYSTEM, 4, 0x34), Fmt.HLV),
  row("hlv.wu", MASK_HLV, enc(SYSTEM, 4, 0x34) | (1 << 20), Fmt.HLV),
  row("hlvx.wu", MASK_HLV, enc(SYSTEM, 4, 0x34) | (3 << 20), Fmt.HLV),
  row("hlv.d", MASK_HLV, enc(SYSTEM, 4, 0x36), Fmt.HLV),
  row("hsv.b", MASK_SFENCE_F3, enc(SYSTEM, 4, 0x31), Fmt.HSV),
  row("hsv.h", MASK_SFENCE_F3, enc(SYSTEM, 4, 0x33), Fmt.HSV),
  row("hsv.w", MASK_SFENCE_F3, enc(SYSTEM, 4, 0x35), Fmt.HSV),
  row("hsv.d", MASK_SFENCE_F3, enc(SYSTEM, 4, 0x37), Fmt.HSV),
  row("csrrw", MASK_FUNCT3, enc(SYSTEM, 1), Fmt.CSR),
  row("csrrs", MASK_FUNCT3, enc(SYSTEM, 2), Fmt.CSR),
  row("csrrc", MASK_FUNCT3, enc(SYSTEM, 3), Fmt.CSR),
  row("csrrwi", MASK_FUNCT3, enc(SYSTEM, 5), Fmt.CSRI),
  row("csrrsi", MASK_FUNCT3, enc(SYSTEM, 6), Fmt.CSRI),
  row("csrrci", MASK_FUNCT3, enc(SYSTEM, 7), Fmt.CSRI),

  row("mul", MASK_FUNCT7, enc(OP_, 0, F7_MULDIV), Fmt.R),
  row("mulh", MASK_FUNCT7, enc(OP_, 1, F7_MULDIV), Fmt.R),
  row("mulhsu", MASK_FUNCT7, enc(OP_, 2, F7_MULDIV), Fmt.R),
  row("mulhu", MASK_FUNCT7, enc(OP_, 3, F7_MULDIV), Fmt.R),
  row("div", MASK_FUNCT7, enc(OP_, 4, F7_MULDIV), Fmt.R),
  row("divu", MASK_FUNCT7, enc(OP_, 5, F7_MULDIV), Fmt.R),
  row("rem", MASK_FUNCT7, enc(OP_, 6, F7_MULDIV), Fmt.R),
  row("remu", MASK_FUNCT7, enc(OP_, 7, F7_MULDIV), Fmt.R),
  row("mulw", MASK_FUNCT7, enc(OP_32, 0, F7_MULDIV), Fmt.R),
  row("divw", MASK_FUNCT7, enc(OP_32, 4, F7_MULDIV), Fmt.R),
  row("divuw", MASK_FUNCT7, enc(OP_32, 5, F7_MULDIV), Fmt.R),
  row("remw", MASK_FUNCT7, enc(OP_32, 6, F7_MULDIV), Fmt.R),
  row("remuw", MASK_FUNCT7, enc(OP_32, 7, F7_MULDIV), Fmt.R),

  ...amoRows(AMO_WIDTH_W, "w"),
  ...amoRows(AMO_WIDTH_D, "d"),
];

/** Operand layout of a compressed instruction, i.e. how it expands (unpriv spec 16.3-16.6). */
export const CFmt = {
  /** c.addi4spn: addi rd', sp, nzuimm; nzuimm = 0 reserved. */
  ADDI4SPN: 0,
  /** c.lw: lw rd', uimm(rs1'). */
  LW: 1,
  /** c.ld: ld rd', uimm(rs1'). */
  LD: 2,
  /** c.sw: sw rs2', uimm(rs1'). */
  SW: 3,
  /** c.sd: sd rs2', uimm(rs1'). */
  SD: 4,
  /** c.addi, c.nop: addi rd, rd, imm (rd = 0 or imm = 0 are hints). */
  ADDI: 5,
  /** c.addiw: addiw rd, rd, imm; rd = 0 reserved. */
  ADDIW: 6,
  /** c.li: addi rd, zero, imm (rd = 0 hint). */
  LI: 7,
  /** c.addi16sp: addi sp, sp, nzimm*16; nzimm = 0 reserved. */
  ADDI16SP: 8,
  /** c.lui: lui rd, nzimm; nzimm = 0 reserved (rd = 0 hint). */
  LUI: 9,
  /** c.srli, c.srai: rd' = rd' >> shamt[5:0] (shamt = 0 hint). */
  SHIFT_RIGHT: 10,
  /** c.andi: andi rd', rd', imm. */
  ANDI: 11,
  /** c.sub ... c.addw: op rd', rd', rs2'. */
  ARITH: 12,
  /** c.j: jal zero, offset. */
  J: 13,
  /** c.beqz, c.bnez: b rs1', zero, offset. */
  BRANCH: 14,
  /** c.slli: slli rd, rd, shamt[5:0] (rd = 0 or shamt = 0 hints). */
  SLLI: 15,
  /** c.lwsp: lw rd, uimm(sp); rd = 0 reserved. */
  LWSP: 16,
  /** c.ldsp: ld rd, uimm(sp); rd = 0 reserved. */
  LDSP: 17,
  /** c.jr: jalr zero, 0(rs1); rs1 = 0 reserved. */
  JR: 18,
  /** c.mv: add rd, zero, rs2 (rd = 0 hint). */
  MV: 19,
  /** c.ebreak: ebreak. */
  EBREAK: 20,
  /** c.jalr: jalr ra, 0(rs1). */
  JALR: 21,
  /** c.add: add rd, rd, rs2 (rd = 0 hint). */
  ADD: 22,
  /** c.swsp: sw rs2, uimm(sp). */
  SWSP: 23,
  /** c.sdsp: sd rs2, uimm(sp). */
  SDSP: 24,
} as const;
export type CFmt = (typeof CFmt)[keyof typeof CFmt];

export interface CInsnRow {
  /** Compressed mnemonic, e.g. "c.addi4spn". */
  readonly cname: string;
  /** The base op it expands to. */
  readonly name: OpName;
  readonly op: number;
  readonly mask: number;
  readonly match: number;
  readonly fmt: CFmt;
}

function crow(cname: string, name: OpName, mask: number, match: number, fmt: CFmt): CInsnRow {
  return { cname, name, op: OP[name], mask, match, fmt };
}

/** Mask of quadrant (inst[1:0]) and funct3 (inst[15:13]). */
const CMASK_F3 = 0xe003;
/** ... plus funct2 (inst[11:10]) for the c.srli/c.srai/c.andi group. */
const CMASK_F2 = 0xec03;
/** ... plus inst[12] and inst[6:5] for the register-register group. */
const CMASK_ARITH = 0xfc63;
/** ... plus inst[12] and rs2 = 0 (c.jr, c.jalr). */
const CMASK_JR = 0xf07f;
/** ... plus inst[12] (c.mv, c.add). */
const CMASK_F4 = 0xf003;
/** ... plus rd = 2 (c.addi16sp is c.lui with rd = sp). */
const CMASK_ADDI16SP = 0xef83;
const CMASK_ALL = 0xffff;

/**
 * Every RV64C instruction without F/D. Absent encodings (c.fld, c.fsd,
 * c.fldsp, c.fsdsp, quadrant-0 funct3 100, c.subw-group reserved slots) decode
 * as illegal. Rows sharing a quadrant and funct3 are tried in this order.
 */
export const RVC_TABLE: readonly CInsnRow[] = [
  // Quadrant 0.
  crow("c.addi4spn", "addi", CMASK_F3, 0x0000, CFmt.ADDI4SPN),
  crow("c.lw", "lw", CMASK_F3, 0x4000, CFmt.LW),
  crow("c.ld", "ld", CMASK_F3, 0x6000, CFmt.LD),
  crow("c.sw", "sw", CMASK_F3, 0xc000, CFmt.SW),
  crow("c.sd", "sd", CMASK_F3, 0xe000, CFmt.SD),
  // Quadrant 1.
  crow("c.addi", "addi", CMASK_F3, 0x0001, CFmt.ADDI),
  crow("c.addiw", "addiw", CMASK_F3, 0x2001, CFmt.ADDIW),
  crow("c.li", "addi", CMASK_F3, 0x4001, CFmt.LI),
  crow("c.addi16sp", "addi", CMASK_ADDI16SP, 0x6101, CFmt.ADDI16SP),
  crow("c.lui", "lui", CMASK_F3, 0x6001, CFmt.LUI),
  crow("c.srli", "srli", CMASK_F2, 0x8001, CFmt.SHIFT_RIGHT),
  crow("c.srai", "srai", CMASK_F2, 0x8401, CFmt.SHIFT_RIGHT),
  crow("c.andi", "andi", CMASK_F2, 0x8801, CFmt.ANDI),
  crow("c.sub", "sub", CMASK_ARITH, 0x8c01, CFmt.ARITH),
  crow("c.xor", "xor", CMASK_ARITH, 0x8c21, CFmt.ARITH),
  crow("c.or", "or", CMASK_ARITH, 0x8c41, CFmt.ARITH),
  crow("c.and", "and", CMASK_ARITH, 0x8c61, CFmt.ARITH),
  crow("c.subw", "subw", CMASK_ARITH, 0x9c01, CFmt.ARITH),
  crow("c.addw", "addw", CMASK_ARITH, 0x9c21, CFmt.ARITH),
  crow("c.j", "jal", CMASK_F3, 0xa001, CFmt.J),
  crow("c.beqz", "beq", CMASK_F3, 0xc001, CFmt.BRANCH),
  crow("c.bnez", "bne", CMASK_F3, 0xe001, CFmt.BRANCH),
  // Quadrant 2.
  crow("c.slli", "slli", CMASK_F3, 0x0002, CFmt.SLLI),
  crow("c.lwsp", "lw", CMASK_F3, 0x4002, CFmt.LWSP),
  crow("c.ldsp", "ld", CMASK_F3, 0x6002, CFmt.LDSP),
  crow("c.jr", "jalr", CMASK_JR, 0x8002, CFmt.JR),
  crow("c.mv", "add", CMASK_F4, 0x8002, CFmt.MV),
  crow("c.ebreak", "ebreak", CMASK_ALL, 0x9002, CFmt.EBREAK),
  crow("c.jalr", "jalr", CMASK_JR, 0x9002, CFmt.JALR),
  crow("c.add", "add", CMASK_F4, 0x9002, CFmt.ADD),
  crow("c.swsp", "sw", CMASK_F3, 0xc002, CFmt.SWSP),
  crow("c.sdsp", "sd", CMASK_F3, 0xe002, CFmt.SDSP),
];
