/*
 * The instruction decoder: raw instruction bits -> predecoded (word0, imm)
 * as described in ops.ts. Built from the rows of table.ts.
 *
 * Decoding runs once per instruction address (the hart caches the result), so
 * it is not the hot loop, but it allocates nothing: the table is flattened at
 * load time into typed arrays grouped by major opcode (inst[6:2]) for 32-bit
 * instructions and by quadrant + funct3 for compressed ones, and only that
 * small group is scanned.
 */

import { OP, packWord0 } from "./ops.ts";
import { CFmt, Fmt, INSN_TABLE, RVC_TABLE } from "./table.ts";

/** inst[1:0] === 0b11 marks a 32-bit instruction; anything else is a 16-bit parcel (unpriv 1.5). */
const LENGTH_MASK = 3;
const HALFWORD = 0xffff;
const MAJOR_GROUPS = 32; // inst[6:2]
const RVC_GROUPS = 24; // quadrant (0..2) * 8 + funct3
/** sp (x2) and ra (x1), implicit operands of compressed forms. */
const REG_RA = 1;
const REG_SP = 2;
/** rd'/rs1'/rs2' name x8..x15 (unpriv 16.2). */
const CREG_BASE = 8;

interface FlatTable {
  readonly start: Int32Array; // rows of group g are start[g] .. start[g+1]-1
  readonly mask: Int32Array;
  readonly match: Int32Array;
  readonly op: Int32Array;
  readonly fmt: Int32Array;
}

function flatten(
  rows: ReadonlyArray<{ mask: number; match: number; op: number; fmt: number }>,
  groups: number,
  groupOf: (match: number) => number,
): FlatTable {
  const sorted = rows
    .map((r, index) => ({ r, index, g: groupOf(r.match) }))
    .sort((a, b) => a.g - b.g || a.index - b.index); // stable: table order within a group
  const t: FlatTable = {
    start: new Int32Array(groups + 1),
    mask: new Int32Array(sorted.length),
    match: new Int32Array(sorted.length),
    op: new Int32Array(sorted.length),
    fmt: new Int32Array(sorted.length),
  };
  sorted.forEach(({ r }, i) => {
    t.mask[i] = r.mask;
    t.match[i] = r.match;
    t.op[i] = r.op;
    t.fmt[i] = r.fmt;
  });
  for (let g = 0, i = 0; g <= groups; g++) {
    while (i < sorted.length && sorted[i]!.g < g) i++;
    t.start[g] = i;
  }
  return t;
}

const majorOf = (inst: number): number => (inst >>> 2) & 31;
const rvcGroupOf = (h: number): number => ((h & LENGTH_MASK) << 3) | ((h >>> 13) & 7);

const T32 = flatten(INSN_TABLE, MAJOR_GROUPS, majorOf);
const T16 = flatten(RVC_TABLE, RVC_GROUPS, rvcGroupOf);

const OP_ILLEGAL = OP.illegal;

/**
 * Decodes `inst` into out[at] (word0) and out[at+1] (imm). A compressed
 * instruction uses only inst[15:0]; the upper bits may be garbage.
 */
export function decodeInto(inst: number, out: Int32Array, at: number): void {
  if ((inst & LENGTH_MASK) !== LENGTH_MASK) {
    decodeCompressed(inst & HALFWORD, out, at);
    return;
  }
  inst |= 0;
  const g = majorOf(inst);
  for (let i = T32.start[g]!, end = T32.start[g + 1]!; i < end; i++) {
    if ((inst & T32.mask[i]!) === T32.match[i]!) {
      decodeFields32(inst, T32.op[i]!, T32.fmt[i]!, out, at);
      return;
    }
  }
  emit(out, at, OP_ILLEGAL, 0, 0, 0, inst, false);
}

function emit(out: Int32Array, at: number, op: number, rd: number, rs1: number, rs2: number, imm: number, c: boolean): void {
  out[at] = packWord0(op, rd, rs1, rs2, c);
  out[at + 1] = imm;
}

/** Immediate layouts of unpriv spec figure 2.4. */
function immI(inst: number): number {
  return inst >> 20;
}
function immS(inst: number): number {
  return ((inst >> 25) << 5) | ((inst >>> 7) & 0x1f);
}
function immB(inst: number): number {
  return ((inst >> 31) << 12) | (((inst >>> 7) & 1) << 11) | (((inst >>> 25) & 0x3f) << 5) | (((inst >>> 8) & 0xf) << 1);
}
function immJ(inst: number): number {
  return ((inst >> 31) << 20) | (inst & 0xff000) | (((inst >>> 20) & 1) << 11) | (((inst >>> 21) & 0x3ff) << 1);
}
const IMM_U_MASK = 0xfffff000 | 0;
const FIELD12 = 0xfff;

function decodeFields32(inst: number, op: number, fmt: number, out: Int32Array, at: number): void {
  const rd = (inst >>> 7) & 31;
  const rs1 = (inst >>> 15) & 31;
  const rs2 = (inst >>> 20) & 31;
  switch (fmt) {
    case Fmt.U: return emit(out, at, op, rd, 0, 0, inst & IMM_U_MASK, false);
    case Fmt.J: return emit(out, at, op, rd, 0, 0, immJ(inst), false);
    case Fmt.JALR:
    case Fmt.LOAD:
    case Fmt.I: return emit(out, at, op, rd, rs1, 0, immI(inst), false);
    case Fmt.B: return emit(out, at, op, 0, rs1, rs2, immB(inst), false);
    case Fmt.STORE: return emit(out, at, op, 0, rs1, rs2, immS(inst), false);
    case Fmt.SHIFT64: return emit(out, at, op, rd, rs1, 0, (inst >>> 20) & 63, false);
    case Fmt.SHIFT32: return emit(out, at, op, rd, rs1, 0, (inst >>> 20) & 31, false);
    case Fmt.R:
    case Fmt.AMO: return emit(out, at, op, rd, rs1, rs2, 0, false);
    case Fmt.LR: return emit(out, at, op, rd, rs1, 0, 0, false);
    case Fmt.CSR:
    case Fmt.CSRI: return emit(out, at, op, rd, rs1, 0, (inst >>> 20) & FIELD12, false);
    case Fmt.FENCE: return emit(out, at, op, 0, 0, 0, (inst >>> 20) & FIELD12, false);
    case Fmt.SFENCE:
    case Fmt.HSV: return emit(out, at, op, 0, rs1, rs2, 0, false);
    case Fmt.HLV: return emit(out, at, op, rd, rs1, 0, 0, false);
    default: return emit(out, at, op, 0, 0, 0, 0, false); // Fmt.NONE
  }
}

function decodeCompressed(h: number, out: Int32Array, at: number): void {
  const g = rvcGroupOf(h);
  for (let i = T16.start[g]!, end = T16.start[g + 1]!; i < end; i++) {
    if ((h & T16.mask[i]!) === T16.match[i]!) {
      if (decodeFields16(h, T16.op[i]!, T16.fmt[i]!, out, at)) return;
      break; // a reserved encoding of this form
    }
  }
  emit(out, at, OP_ILLEGAL, 0, 0, 0, h, true);
}

/** Sign-extends the low `bits` bits of v. */
function sext(v: number, bits: number): number {
  const shift = 32 - bits;
  return (v << shift) >> shift;
}

/** CI-format 6-bit immediate: imm[5] = inst[12], imm[4:0] = inst[6:2]. */
function ciImm(h: number): number {
  return sext(((h >>> 7) & 0x20) | ((h >>> 2) & 0x1f), 6);
}

/*
 * Compressed immediate scrambles (unpriv spec 16.3-16.5). Each comment gives
 * the immediate bits held by inst[12:2] (or the named range) from left to right.
 */
function uimmAddi4spn(h: number): number { // inst[12:5] = nzuimm[5:4|9:6|2|3]
  return ((h >>> 7) & 0x30) | ((h >>> 1) & 0x3c0) | ((h >>> 4) & 0x4) | ((h >>> 2) & 0x8);
}
function uimmCLW(h: number): number { // inst[12:10] = uimm[5:3], inst[6:5] = uimm[2|6]
  return ((h >>> 7) & 0x38) | ((h >>> 4) & 0x4) | ((h << 1) & 0x40);
}
function uimmCLD(h: number): number { // inst[12:10] = uimm[5:3], inst[6:5] = uimm[7:6]
  return ((h >>> 7) & 0x38) | ((h << 1) & 0xc0);
}
function immAddi16sp(h: number): number { // inst[12] = nzimm[9], inst[6:2] = nzimm[4|6|8:7|5]
  return sext(((h >>> 3) & 0x200) | ((h >>> 2) & 0x10) | ((h << 1) & 0x40) | ((h << 4) & 0x180) | ((h << 3) & 0x20), 10);
}
function immCJ(h: number): number { // inst[12:2] = offset[11|4|9:8|10|6|7|3:1|5]
  return sext(
    ((h >>> 1) & 0x800) | ((h >>> 7) & 0x10) | ((h >>> 1) & 0x300) | ((h << 2) & 0x400) |
      ((h >>> 1) & 0x40) | ((h << 1) & 0x80) | ((h >>> 2) & 0xe) | ((h << 3) & 0x20),
    12,
  );
}
function immCB(h: number): number { // inst[12:10] = offset[8|4:3], inst[6:2] = offset[7:6|2:1|5]
  return sext(((h >>> 4) & 0x100) | ((h >>> 7) & 0x18) | ((h << 1) & 0xc0) | ((h >>> 2) & 0x6) | ((h << 3) & 0x20), 9);
}
function shamtC(h: number): number { // inst[12] = shamt[5], inst[6:2] = shamt[4:0]
  return ((h >>> 7) & 0x20) | ((h >>> 2) & 0x1f);
}
function uimmLWSP(h: number): number { // inst[12] = uimm[5], inst[6:2] = uimm[4:2|7:6]
  return ((h >>> 7) & 0x20) | ((h >>> 2) & 0x1c) | ((h << 4) & 0xc0);
}
function uimmLDSP(h: number): number { // inst[12] = uimm[5], inst[6:2] = uimm[4:3|8:6]
  return ((h >>> 7) & 0x20) | ((h >>> 2) & 0x18) | ((h << 4) & 0x1c0);
}
function uimmSWSP(h: number): number { // inst[12:7] = uimm[5:2|7:6]
  return ((h >>> 7) & 0x3c) | ((h >>> 1) & 0xc0);
}
function uimmSDSP(h: number): number { // inst[12:7] = uimm[5:3|8:6]
  return ((h >>> 7) & 0x38) | ((h >>> 1) & 0x1c0);
}

/** Writes the expansion of `h`; returns false for a reserved encoding. */
function decodeFields16(h: number, op: number, fmt: number, out: Int32Array, at: number): boolean {
  const rdFull = (h >>> 7) & 31; // rd/rs1 of CI/CR forms
  const rs2Full = (h >>> 2) & 31; // rs2 of CR/CSS forms
  const rdLow = CREG_BASE + ((h >>> 2) & 7); // rd'/rs2' in inst[4:2]
  const rsHigh = CREG_BASE + ((h >>> 7) & 7); // rs1'/rd' in inst[9:7]
  switch (fmt) {
    case CFmt.ADDI4SPN: {
      const imm = uimmAddi4spn(h);
      if (imm === 0) return false;
      emit(out, at, op, rdLow, REG_SP, 0, imm, true);
      return true;
    }
    case CFmt.LW: emit(out, at, op, rdLow, rsHigh, 0, uimmCLW(h), true); return true;
    case CFmt.LD: emit(out, at, op, rdLow, rsHigh, 0, uimmCLD(h), true); return true;
    case CFmt.SW: emit(out, at, op, 0, rsHigh, rdLow, uimmCLW(h), true); return true;
    case CFmt.SD: emit(out, at, op, 0, rsHigh, rdLow, uimmCLD(h), true); return true;
    case CFmt.ADDI: emit(out, at, op, rdFull, rdFull, 0, ciImm(h), true); return true;
    case CFmt.ADDIW:
      if (rdFull === 0) return false;
      emit(out, at, op, rdFull, rdFull, 0, ciImm(h), true);
      return true;
    case CFmt.LI: emit(out, at, op, rdFull, 0, 0, ciImm(h), true); return true;
    case CFmt.ADDI16SP: {
      const imm = immAddi16sp(h);
      if (imm === 0) return false;
      emit(out, at, op, REG_SP, REG_SP, 0, imm, true);
      return true;
    }
    case CFmt.LUI: {
      const imm = ciImm(h);
      if (imm === 0) return false;
      emit(out, at, op, rdFull, 0, 0, imm << 12, true);
      return true;
    }
    case CFmt.SHIFT_RIGHT: emit(out, at, op, rsHigh, rsHigh, 0, shamtC(h), true); return true;
    case CFmt.ANDI: emit(out, at, op, rsHigh, rsHigh, 0, ciImm(h), true); return true;
    case CFmt.ARITH: emit(out, at, op, rsHigh, rsHigh, rdLow, 0, true); return true;
    case CFmt.J: emit(out, at, op, 0, 0, 0, immCJ(h), true); return true;
    case CFmt.BRANCH: emit(out, at, op, 0, rsHigh, 0, immCB(h), true); return true;
    case CFmt.SLLI: emit(out, at, op, rdFull, rdFull, 0, shamtC(h), true); return true;
    case CFmt.LWSP:
      if (rdFull === 0) return false;
      emit(out, at, op, rdFull, REG_SP, 0, uimmLWSP(h), true);
      return true;
    case CFmt.LDSP:
      if (rdFull === 0) return false;
      emit(out, at, op, rdFull, REG_SP, 0, uimmLDSP(h), true);
      return true;
    case CFmt.JR:
      if (rdFull === 0) return false;
      emit(out, at, op, 0, rdFull, 0, 0, true);
      return true;
    case CFmt.MV: emit(out, at, op, rdFull, 0, rs2Full, 0, true); return true;
    case CFmt.EBREAK: emit(out, at, op, 0, 0, 0, 0, true); return true;
    case CFmt.JALR: emit(out, at, op, REG_RA, rdFull, 0, 0, true); return true;
    case CFmt.ADD: emit(out, at, op, rdFull, rdFull, rs2Full, 0, true); return true;
    case CFmt.SWSP: emit(out, at, op, 0, REG_SP, rs2Full, uimmSWSP(h), true); return true;
    case CFmt.SDSP: emit(out, at, op, 0, REG_SP, rs2Full, uimmSDSP(h), true); return true;
    default: return false;
  }
}
