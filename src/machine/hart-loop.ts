/*
 * The interpreter's hot loop: executes up to `budget` predecoded instructions
 * of one hart. One `switch` over numeric op literals (V8 turns it into a jump
 * table; the name of each op is in the comment and a test checks them against
 * src/isa/ops.ts), registers as int32 pairs in a typed array, pc and the fetch
 * page in locals, loads and stores through the TLB fast path. Nothing here
 * allocates. Anything unusual — a TLB miss, MMIO, a trap, a CSR — calls a
 * slow path on the Hart and, if that path trapped, continues at the handler.
 *
 * Interrupts, timers and device events are handled between slices (by the
 * board); an instruction that may make an interrupt takeable sets hart.stop,
 * which ends the slice after it.
 */

import type { Hart } from "./hart.ts";
import { TLB_MASK, type Tlb } from "./tlb.ts";
import { PAGE_SIZE } from "./memlayout.ts";
import { div64, divu64, mul64, mulh64, mulhsu64, mulhu64, r64, rem64, remu64, sar64, shl64, shr64 } from "../isa/alu64.ts";

const TWO_32 = 4294967296;

/** RAM offset for a data access through a TLB, or -1 (miss, non-canonical, or not cached). */
function lookup(t: Tlb, asidKey: number, lo: number, hi: number): number {
  if (((hi << 25) >> 25) !== hi) return -1;
  const vpn = ((hi & 0x7f) << 20) | (lo >>> 12);
  const i = vpn & TLB_MASK;
  return t.key[i] === vpn + asidKey ? t.ramOffset[i] + (lo & 0xfff) : -1;
}

/** Signed 64-bit a < b on pairs. */
function lt64(alo: number, ahi: number, blo: number, bhi: number): boolean {
  return ahi < bhi || (ahi === bhi && alo >>> 0 < blo >>> 0);
}

/** Unsigned 64-bit a < b on pairs. */
function ltu64(alo: number, ahi: number, blo: number, bhi: number): boolean {
  return ahi >>> 0 < bhi >>> 0 || (ahi === bhi && alo >>> 0 < blo >>> 0);
}

/** Executes up to `budget` instructions; returns how many were executed (traps count as one). */
export function runSlice(h: Hart, budget: number): number {
  const x = h.x;
  const mem = h.env.mem;
  const u8 = mem.u8;
  const u16 = mem.u16;
  const i16 = mem.i16;
  const i32 = mem.i32;
  const codeMap = mem.codeMap;
  let pc = h.pc;
  let dec = h.fetchDecoded;
  let base = Number.NaN;
  let n = 0;
  h.stop = false;

  while (n < budget) {
    const off = pc - base;
    if (!(off >= 0 && off < PAGE_SIZE)) {
      if (!h.fetchPage(pc)) {
        n++;
        pc = h.pc;
        base = Number.NaN;
        continue;
      }
      dec = h.fetchDecoded;
      base = h.fetchBase;
      continue;
    }
    const w0 = dec[off];
    const imm = dec[off + 1];
    const len = 4 - ((w0 >>> 6) & 2);
    const rd = (w0 >>> 8) & 0xff;
    const rs1 = (w0 >>> 16) & 0xff;
    const rs2 = w0 >>> 24;
    n++;

    switch (w0 & 0x7f) {
      case 0: { // undecoded
        n--;
        if (!h.decodeAt(pc)) {
          n++;
          pc = h.pc;
          base = Number.NaN;
        } else {
          dec = h.fetchDecoded;
          base = h.fetchBase;
        }
        continue;
      }
      case 1: { // illegal
        h.raise(2, imm >>> 0, pc);
        pc = h.pc;
        base = Number.NaN;
        continue;
      }
      case 2: { // lui
        x[rd] = imm;
        x[rd + 1] = imm >> 31;
        pc += len;
        break;
      }
      case 3: { // auipc
        const v = pc + imm;
        x[rd] = v | 0;
        x[rd + 1] = Math.floor(v / TWO_32) | 0;
        pc += len;
        break;
      }
      case 4: { // jal
        const link = pc + len;
        x[rd] = link | 0;
        x[rd + 1] = Math.floor(link / TWO_32) | 0;
        pc += imm;
        break;
      }
      case 5: { // jalr
        const blo = x[rs1];
        const tlo = (blo + imm) | 0;
        const thi = (x[rs1 + 1] + (imm >> 31) + (tlo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        const link = pc + len;
        x[rd] = link | 0;
        x[rd + 1] = Math.floor(link / TWO_32) | 0;
        pc = thi * TWO_32 + ((tlo & ~1) >>> 0);
        break;
      }
      case 6: // beq
        pc += x[rs1] === x[rs2] && x[rs1 + 1] === x[rs2 + 1] ? imm : len;
        break;
      case 7: // bne
        pc += x[rs1] !== x[rs2] || x[rs1 + 1] !== x[rs2 + 1] ? imm : len;
        break;
      case 8: // blt
        pc += lt64(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]) ? imm : len;
        break;
      case 9: // bge
        pc += lt64(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]) ? len : imm;
        break;
      case 10: // bltu
        pc += ltu64(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]) ? imm : len;
        break;
      case 11: // bgeu
        pc += ltu64(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]) ? len : imm;
        break;

      // ---- loads: effective address = rs1 + imm as a 64-bit pair ----
      case 12: // lb
      case 16: // lbu
      case 13: // lh
      case 17: // lhu
      case 14: // lw
      case 18: // lwu
      case 15: { // ld
        const op = w0 & 0x7f;
        const blo = x[rs1];
        const alo = (blo + imm) | 0;
        const ahi = (x[rs1 + 1] + (imm >> 31) + (alo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        const width = op === 15 ? 8 : op === 14 || op === 18 ? 4 : op === 13 || op === 17 ? 2 : 1;
        const o = lookup(h.loadTlb, h.dataKey, alo, ahi);
        let vlo: number;
        let vhi = 0;
        if (o >= 0 && (o & (width - 1)) === 0) {
          switch (op) {
            case 12: vlo = (u8[o] << 24) >> 24; break;
            case 16: vlo = u8[o]; break;
            case 13: vlo = i16[o >>> 1]; break;
            case 17: vlo = u16[o >>> 1]; break;
            case 14: case 18: vlo = i32[o >>> 2]; break;
            default: vlo = i32[o >>> 2]; vhi = i32[(o >>> 2) + 1];
          }
        } else {
          if (!h.loadSlow(alo, ahi, width, pc)) {
            pc = h.pc;
            base = Number.NaN;
            continue;
          }
          vlo = h.valueLo;
          vhi = h.valueHi;
          if (op === 12) vlo = (vlo << 24) >> 24;
          else if (op === 13) vlo = (vlo << 16) >> 16;
          base = Number.NaN; // MMIO may have changed interrupt state; refetch is cheap
        }
        x[rd] = vlo;
        // Sign-extend lb/lh/lw; zero-extend lbu/lhu/lwu; ld has its own high word.
        x[rd + 1] = op === 15 ? vhi : op === 12 || op === 13 || op === 14 ? vlo >> 31 : 0;
        pc += len;
        if (h.stop) break;
        continue;
      }

      // ---- stores ----
      case 19: // sb
      case 20: // sh
      case 21: // sw
      case 22: { // sd
        const op = w0 & 0x7f;
        const blo = x[rs1];
        const alo = (blo + imm) | 0;
        const ahi = (x[rs1 + 1] + (imm >> 31) + (alo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        const width = op === 22 ? 8 : op === 21 ? 4 : op === 20 ? 2 : 1;
        const o = lookup(h.storeTlb, h.dataKey, alo, ahi);
        if (o >= 0 && (o & (width - 1)) === 0) {
          switch (op) {
            case 19: u8[o] = x[rs2]; break;
            case 20: u16[o >>> 1] = x[rs2]; break;
            case 21: i32[o >>> 2] = x[rs2]; break;
            default: i32[o >>> 2] = x[rs2]; i32[(o >>> 2) + 1] = x[rs2 + 1];
          }
          if (codeMap[o >>> 12] !== 0) mem.invalidateCode(o, width);
        } else if (!h.storeSlow(alo, ahi, width, x[rs2], x[rs2 + 1], pc)) {
          pc = h.pc;
          base = Number.NaN;
          continue;
        }
        pc += len;
        if (h.stop) break;
        continue;
      }

      // ---- integer register-immediate ----
      case 23: { // addi
        const blo = x[rs1];
        const lo = (blo + imm) | 0;
        x[rd + 1] = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        x[rd] = lo;
        pc += len;
        break;
      }
      case 24: { // slti
        const v = lt64(x[rs1], x[rs1 + 1], imm, imm >> 31) ? 1 : 0;
        x[rd] = v;
        x[rd + 1] = 0;
        pc += len;
        break;
      }
      case 25: { // sltiu
        const v = ltu64(x[rs1], x[rs1 + 1], imm, imm >> 31) ? 1 : 0;
        x[rd] = v;
        x[rd + 1] = 0;
        pc += len;
        break;
      }
      case 26: // xori
        x[rd + 1] = x[rs1 + 1] ^ (imm >> 31);
        x[rd] = x[rs1] ^ imm;
        pc += len;
        break;
      case 27: // ori
        x[rd + 1] = x[rs1 + 1] | (imm >> 31);
        x[rd] = x[rs1] | imm;
        pc += len;
        break;
      case 28: // andi
        x[rd + 1] = x[rs1 + 1] & (imm >> 31);
        x[rd] = x[rs1] & imm;
        pc += len;
        break;
      case 29: // slli
        shl64(x[rs1], x[rs1 + 1], imm);
        x[rd] = r64[0];
        x[rd + 1] = r64[1];
        pc += len;
        break;
      case 30: // srli
        shr64(x[rs1], x[rs1 + 1], imm);
        x[rd] = r64[0];
        x[rd + 1] = r64[1];
        pc += len;
        break;
      case 31: // srai
        sar64(x[rs1], x[rs1 + 1], imm);
        x[rd] = r64[0];
        x[rd + 1] = r64[1];
        pc += len;
        break;

      // ---- integer register-register ----
      case 32: { // add
        const alo = x[rs1];
        const lo = (alo + x[rs2]) | 0;
        x[rd + 1] = (x[rs1 + 1] + x[rs2 + 1] + (lo >>> 0 < alo >>> 0 ? 1 : 0)) | 0;
        x[rd] = lo;
        pc += len;
        break;
      }
      case 33: { // sub
        const alo = x[rs1];
        const blo = x[rs2];
        x[rd + 1] = (x[rs1 + 1] - x[rs2 + 1] - (alo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        x[rd] = (alo - blo) | 0;
        pc += len;
        break;
      }
      case 34: // sll
        shl64(x[rs1], x[rs1 + 1], x[rs2] & 63);
        x[rd] = r64[0];
        x[rd + 1] = r64[1];
        pc += len;
        break;
      case 35: { // slt
        const v = lt64(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]) ? 1 : 0;
        x[rd] = v;
        x[rd + 1] = 0;
        pc += len;
        break;
      }
      case 36: { // sltu
        const v = ltu64(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]) ? 1 : 0;
        x[rd] = v;
        x[rd + 1] = 0;
        pc += len;
        break;
      }
      case 37: // xor
        x[rd + 1] = x[rs1 + 1] ^ x[rs2 + 1];
        x[rd] = x[rs1] ^ x[rs2];
        pc += len;
        break;
      case 38: // srl
        shr64(x[rs1], x[rs1 + 1], x[rs2] & 63);
        x[rd] = r64[0];
        x[rd + 1] = r64[1];
        pc += len;
        break;
      case 39: // sra
        sar64(x[rs1], x[rs1 + 1], x[rs2] & 63);
        x[rd] = r64[0];
        x[rd + 1] = r64[1];
        pc += len;
        break;
      case 40: // or
        x[rd + 1] = x[rs1 + 1] | x[rs2 + 1];
        x[rd] = x[rs1] | x[rs2];
        pc += len;
        break;
      case 41: // and
        x[rd + 1] = x[rs1 + 1] & x[rs2 + 1];
        x[rd] = x[rs1] & x[rs2];
        pc += len;
        break;

      // ---- 32-bit ops: compute on the low word, sign-extend ----
      case 42: { // addiw
        const v = (x[rs1] + imm) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        pc += len;
        break;
      }
      case 43: { // slliw
        const v = x[rs1] << imm;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        pc += len;
        break;
      }
      case 44: { // srliw
        const v = (x[rs1] >>> imm) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        pc += len;
        break;
      }
      case 45: { // sraiw
        const v = x[rs1] >> imm;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        pc += len;
        break;
      }
      case 46: { // addw
        const v = (x[rs1] + x[rs2]) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        pc += len;
        break;
      }
      case 47: { // subw
        const v = (x[rs1] - x[rs2]) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        pc += len;
        break;
      }
      case 48: { // sllw
        const v = x[rs1] << (x[rs2] & 31);
        x[rd] = v;
        x[rd + 1] = v >> 31;
        pc += len;
        break;
      }
      case 49: { // srlw
        const v = (x[rs1] >>> (x[rs2] & 31)) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        pc += len;
        break;
      }
      case 50: { // sraw
        const v = x[rs1] >> (x[rs2] & 31);
        x[rd] = v;
        x[rd + 1] = v >> 31;
        pc += len;
        break;
      }

      case 51: // fence: one thread of harts, sequentially consistent memory: nothing to order
        pc += len;
        break;
      case 52: // fence.i
        h.fenceI();
        pc += len;
        base = Number.NaN;
        break;
      case 53: // ecall
        h.ecall(pc);
        pc = h.pc;
        base = Number.NaN;
        continue;
      case 54: // ebreak: xtval = pc, as QEMU does
        h.raise(3, pc, pc);
        pc = h.pc;
        base = Number.NaN;
        continue;

      // ---- M extension ----
      case 55: // mul
        mul64(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]);
        x[rd] = r64[0];
        x[rd + 1] = r64[1];
        pc += len;
        break;
      case 56: // mulh
        mulh64(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]);
        x[rd] = r64[0];
        x[rd + 1] = r64[1];
        pc += len;
        break;
      case 57: // mulhsu
        mulhsu64(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]);
        x[rd] = r64[0];
        x[rd + 1] = r64[1];
        pc += len;
        break;
      case 58: // mulhu
        mulhu64(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]);
        x[rd] = r64[0];
        x[rd + 1] = r64[1];
        pc += len;
        break;
      case 59: // div
        div64(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]);
        x[rd] = r64[0];
        x[rd + 1] = r64[1];
        pc += len;
        break;
      case 60: // divu
        divu64(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]);
        x[rd] = r64[0];
        x[rd + 1] = r64[1];
        pc += len;
        break;
      case 61: // rem
        rem64(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]);
        x[rd] = r64[0];
        x[rd + 1] = r64[1];
        pc += len;
        break;
      case 62: // remu
        remu64(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]);
        x[rd] = r64[0];
        x[rd + 1] = r64[1];
        pc += len;
        break;
      case 63: { // mulw
        const v = Math.imul(x[rs1], x[rs2]);
        x[rd] = v;
        x[rd + 1] = v >> 31;
        pc += len;
        break;
      }
      case 64: { // divw: x/0 = -1; MIN/-1 = MIN
        const a = x[rs1];
        const b = x[rs2];
        const v = b === 0 ? -1 : a === -0x8000_0000 && b === -1 ? a : (a / b) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        pc += len;
        break;
      }
      case 65: { // divuw
        const b = x[rs2] >>> 0;
        const v = b === 0 ? -1 : ((x[rs1] >>> 0) / b) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        pc += len;
        break;
      }
      case 66: { // remw: x%0 = x; MIN%-1 = 0
        const a = x[rs1];
        const b = x[rs2];
        const v = b === 0 ? a : b === -1 ? 0 : a % b | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        pc += len;
        break;
      }
      case 67: { // remuw
        const b = x[rs2] >>> 0;
        const v = b === 0 ? x[rs1] : ((x[rs1] >>> 0) % b) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        pc += len;
        break;
      }

      // ---- A extension ----
      case 68: // lr.w
      case 79: { // lr.d
        const width = (w0 & 0x7f) === 68 ? 4 : 8;
        if (!h.loadReserved(x[rs1], x[rs1 + 1], width, pc)) {
          pc = h.pc;
          base = Number.NaN;
          continue;
        }
        x[rd] = h.valueLo;
        x[rd + 1] = width === 4 ? h.valueLo >> 31 : h.valueHi;
        pc += len;
        break;
      }
      case 69: // sc.w
      case 80: { // sc.d
        const width = (w0 & 0x7f) === 69 ? 4 : 8;
        if (!h.storeConditional(x[rs1], x[rs1 + 1], width, x[rs2], x[rs2 + 1], pc)) {
          pc = h.pc;
          base = Number.NaN;
          continue;
        }
        x[rd] = h.valueLo;
        x[rd + 1] = 0;
        pc += len;
        break;
      }
      case 70: case 71: case 72: case 73: case 74: case 75: case 76: case 77: case 78: // amo*.w
      case 81: case 82: case 83: case 84: case 85: case 86: case 87: case 88: case 89: { // amo*.d
        const op = w0 & 0x7f;
        const word = op <= 78;
        const kind = word ? op - 70 : op - 81;
        if (!h.amo(kind, x[rs1], x[rs1 + 1], word ? 4 : 8, x[rs2], x[rs2 + 1], pc)) {
          pc = h.pc;
          base = Number.NaN;
          continue;
        }
        x[rd] = h.valueLo;
        x[rd + 1] = h.valueHi;
        pc += len;
        break;
      }

      // ---- Zicsr ----
      case 90: case 91: case 92: // csrrw csrrs csrrc
      case 93: case 94: case 95: { // csrrwi csrrsi csrrci
        const op = w0 & 0x7f;
        h.sliceCount = n;
        if (!h.csrInstruction((op - 90) % 3, op >= 93, rd, rs1, imm, pc)) {
          pc = h.pc;
          base = Number.NaN;
          continue;
        }
        pc += len;
        base = Number.NaN;
        if (h.stop) break;
        continue;
      }

      // ---- privileged ----
      case 96: // mret
        if (h.mret(pc)) {
          pc = h.pc;
          base = Number.NaN;
          break;
        }
        pc = h.pc;
        base = Number.NaN;
        continue;
      case 97: // sret
        if (h.sret(pc)) {
          pc = h.pc;
          base = Number.NaN;
          break;
        }
        pc = h.pc;
        base = Number.NaN;
        continue;
      case 98: // wfi
        if (h.waitForInterrupt(pc)) pc += len;
        else pc = h.pc;
        base = Number.NaN;
        break;
      case 99: // sfence.vma
        if (h.sfenceVma(rs1, rs2, pc)) pc += len;
        else pc = h.pc;
        base = Number.NaN;
        continue;
      default:
        h.raise(2, 0, pc);
        pc = h.pc;
        base = Number.NaN;
        continue;
    }
    // Reached by `break` from ops that end the slice early when hart.stop is set.
    if (h.stop) break;
  }
  h.pc = pc;
  h.sliceCount = 0;
  h.instret += n;
  return n;
}
