/*
 * The instructions the hot loop hands off: M-extension division and high
 * multiplies, atomics, CSR and system instructions, and traps (execRare), and
 * loads and stores that miss its fast path (execMemSlow). Keeping them out of
 * runSlice keeps the hot function small enough for V8 to allocate its
 * registers well (measured: see the note in hart-loop.ts).
 *
 * execRare returns the next pc; after a trap that is the handler's address.
 * runSlice passes the instruction's page offset, not its pc, so that it
 * boxes no pc per instruction (hart-loop.ts).
 * Any of them may set hart.stop to end the slice.
 */

import type { Hart } from "./hart.ts";
import * as R from "./riscv.ts";
import { enterDebugOnEbreak } from "./dcsr.ts";
import { div64, divu64, divuw, divw, mulh64, mulhsu64, mulhu64, r64, rem64, remu64, remuw, remw } from "../isa/alu64.ts";

/**
 * A load (lb..lwu, ops 12..18) or store (sb..sd, 19..22) that missed the
 * loop's fast path (a TLB miss, device memory, misalignment): it goes through
 * the hart's slow paths, and a load's value is widened into rd as the loop
 * would have. False after a trap (h.pc is the handler's address).
 */
export function execMemSlow(h: Hart, op: number, w0: number, imm: number, po: number): boolean {
  const x = h.x;
  const rs1 = (w0 >>> 16) & 0xff;
  if (op >= 19) {
    const width = 1 << (op - 19); // sb sh sw sd
    const rs2 = w0 >>> 24;
    return h.storeHere(rs1, imm, width, x[rs2], width === 8 ? x[rs2 + 1] : 0, po);
  }
  // lb lh lw ld (12..15) sign-extend, lbu lhu lwu (16..18) zero-extend
  const signed = op <= 15;
  const width = 1 << (signed ? op - 12 : op - 16);
  if (!h.loadHere(rs1, imm, width, po)) return false;
  const rd = (w0 >>> 8) & 0xff;
  const v = h.valueLo | 0;
  if (width === 8) {
    x[rd] = v;
    x[rd + 1] = h.valueHi | 0;
  } else if (signed) {
    const s = 32 - 8 * width;
    const lo = (v << s) >> s;
    x[rd] = lo;
    x[rd + 1] = lo >> 31;
  } else {
    x[rd] = width === 4 ? v : v & ((1 << (8 * width)) - 1);
    x[rd + 1] = 0;
  }
  return true;
}

/** Writes a 32-bit result sign-extended into rd. */
function setW(x: Int32Array, rd: number, v: number): void {
  x[rd] = v;
  x[rd + 1] = v >> 31;
}

/** Executes the instruction (predecoded w0, imm) at offset po of runSlice's fetch page (h.sliceBase). */
export function execRare(h: Hart, op: number, w0: number, imm: number, po: number, len: number): number {
  const pc = h.sliceBase[0] + po;
  const x = h.x;
  const rd = (w0 >>> 8) & 0xff;
  const rs1 = (w0 >>> 16) & 0xff;
  const rs2 = w0 >>> 24;
  switch (op) {
    case 1: // illegal: imm holds the instruction bits
      h.raise(R.CAUSE_ILLEGAL_INSTRUCTION, imm >>> 0, pc, w0, imm);
      return h.pc;
    case 52: // fence.i
      h.fenceI();
      return pc + len;
    case 53: // ecall
      h.ecall(pc);
      return h.pc;
    case 54: // ebreak: xtval = pc, as QEMU does; or Debug Mode, when an attached debugger asked for it (dcsr.ts)
      if (h.debug.ebreakEnters(h.csr.priv)) return enterDebugOnEbreak(h, pc);
      h.raise(R.CAUSE_BREAKPOINT, pc, pc);
      return h.pc;
    case 56: // mulh
    case 57: // mulhsu
    case 58: // mulhu
    case 59: // div
    case 60: // divu
    case 61: // rem
    case 62: { // remu
      const f = op === 56 ? mulh64 : op === 57 ? mulhsu64 : op === 58 ? mulhu64 : op === 59 ? div64 : op === 60 ? divu64 : op === 61 ? rem64 : remu64;
      f(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]);
      x[rd] = r64[0];
      x[rd + 1] = r64[1];
      return pc + len;
    }
    case 64: setW(x, rd, divw(x[rs1], x[rs2])); return pc + len; // divw
    case 65: setW(x, rd, divuw(x[rs1], x[rs2])); return pc + len; // divuw
    case 66: setW(x, rd, remw(x[rs1], x[rs2])); return pc + len; // remw
    case 67: setW(x, rd, remuw(x[rs1], x[rs2])); return pc + len; // remuw
    case 68: // lr.w
    case 79: { // lr.d
      const width = op === 68 ? 4 : 8;
      if (!h.loadReserved(x[rs1], x[rs1 + 1], width, pc)) return h.pc;
      x[rd] = h.valueLo;
      x[rd + 1] = width === 4 ? h.valueLo >> 31 : h.valueHi;
      return pc + len;
    }
    case 69: // sc.w
    case 80: { // sc.d
      if (!h.storeConditional(x[rs1], x[rs1 + 1], op === 69 ? 4 : 8, x[rs2], x[rs2 + 1], pc)) return h.pc;
      x[rd] = h.valueLo;
      x[rd + 1] = 0;
      return pc + len;
    }
    case 70: case 71: case 72: case 73: case 74: case 75: case 76: case 77: case 78: // amo*.w
    case 81: case 82: case 83: case 84: case 85: case 86: case 87: case 88: case 89: { // amo*.d
      const word = op <= 78;
      if (!h.amo(word ? op - 70 : op - 81, x[rs1], x[rs1 + 1], word ? 4 : 8, x[rs2], x[rs2 + 1], pc)) return h.pc;
      x[rd] = h.valueLo;
      x[rd + 1] = h.valueHi;
      return pc + len;
    }
    case 90: case 91: case 92: // csrrw csrrs csrrc
    case 93: case 94: case 95: // csrrwi csrrsi csrrci
      return h.csrInstruction((op - 90) % 3, op >= 93, w0, imm, pc, len);
    case 96: // mret
      h.mret(pc, w0, imm);
      return h.pc;
    case 97: // sret
      h.sret(pc, w0, imm);
      return h.pc;
    case 98: // wfi
      return h.waitForInterrupt(pc, w0, imm) ? pc + len : h.pc;
    case 99: // sfence.vma
      return h.sfenceVma(rs1, rs2, pc, w0, imm) ? pc + len : h.pc;
    case 100: case 101: case 102: case 103: case 104: case 105: case 106: // hlv.b hlv.bu hlv.h hlv.hu hlv.w hlv.wu hlv.d
    case 107: case 108: // hlvx.hu hlvx.wu
    case 109: case 110: case 111: case 112: // hsv.b hsv.h hsv.w hsv.d
    case 113: case 114: // hfence.vvma hfence.gvma
      if (h.hext !== undefined) return h.hext.execute(op, w0, imm, pc, len);
      h.raise(R.CAUSE_ILLEGAL_INSTRUCTION, h.instructionBits(pc), pc, w0, imm);
      return h.pc;
    default:
      h.raise(R.CAUSE_ILLEGAL_INSTRUCTION, h.instructionBits(pc), pc, w0, imm);
      return h.pc;
  }
}
