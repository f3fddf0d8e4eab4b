/*
 * The interpreter's hot loop: executes up to `budget` predecoded instructions
 * of one hart. One `switch` over numeric op literals (V8 turns it into a jump
 * table; the name of each op is in the comment and a test checks them against
 * src/isa/ops.ts), registers as int32 pairs in a typed array, pc and the fetch
 * page in locals, loads and stores through the TLB fast path. Nothing here
 * allocates. Anything unusual — a TLB miss, MMIO, a trap, a CSR, a division —
 * goes to the Hart's slow paths or to execRare (hart-rare.ts), which keeps
 * this function small: V8 allocates registers far better in a small loop.
 *
 * Interrupts, timers and device events are handled between slices (by the
 * runner); an instruction that may make an interrupt takeable sets
 * hart.stop, which ends the slice after it. A load does too when the device
 * it read raised a line (a read of mtime past mtimecmp): the loads' slow
 * paths then cut the budget to the instructions already run.
 *
 * Hot code runs as compiled blocks (jit/): each slot has a block word next
 * to its decoded words, and a non-zero one sends the loop to enterBlock,
 * which counts, compiles, or runs a block that fits the remaining budget.
 */

import type { Hart } from "./hart.ts";
import { TLB_MASK } from "./tlb.ts";
import { PAGE_SIZE } from "./memlayout.ts";
import { mul64, r64 } from "../isa/alu64.ts";
import { execRare } from "./hart-rare.ts";
import { BLOCK_ENTRY_BASE } from "./decoded-page.ts";
import { enterBlock } from "./jit/enter.ts";

const TWO_32 = 4294967296;
/**
 * Added to base (and taken from po) to force the next fetch through fetchPage while keeping base + po = pc:
 * po = PAGE is the decoded page's sentinel (decoded-page.ts), an undecoded slot the loop reads without a bounds check.
 */
const REFETCH = -PAGE_SIZE;
/** -REFETCH as a constant: a negation written at each of its uses would be one more operation whose type V8 must have seen. */
const OFF_PAGE = PAGE_SIZE;
/** A page offset outside [0, PAGE) has one of these bits set (po is an int32: a bitwise test never leaves int32, unlike po >>> 0). */
const OUTSIDE_PAGE = ~(PAGE_SIZE - 1);

// The imported constants again as this module's own: V8 folds a module's own
// const into the code it compiles, but reads an imported binding from its
// cell at every use (a load, a hole check, a tag check: per instruction).
const PAGE = PAGE_SIZE;
const TLB_INDEX = TLB_MASK;
const BLOCK_WORDS = BLOCK_ENTRY_BASE;

/** Executes up to `budget` instructions; returns how many were executed (traps count as one). */
export function runSlice(h: Hart, budget: number): number {
  const x = h.x;
  const mem = h.env.mem;
  const u8 = mem.u8;
  const u16 = mem.u16;
  const i16 = mem.i16;
  const i32 = mem.i32;
  const codeMap = mem.codeMap;
  // pc = base + po: the page's virtual address (a double) plus an int32 offset
  // into it, so the common path does only int32 arithmetic. po is always in
  // [0, PAGE + 2]: falling off the page's end lands on its sentinel (an
  // undecoded slot, which sends the loop to fetchPage), and every jump checks
  // its target, leaving the page by base = target + REFETCH, po = OFF_PAGE.
  // base lives in h.sliceBase, not in a local: a local double that calls
  // receive as an argument is boxed once per instruction where V8 hoists
  // the conversion (a heap number each time, pc being above 2^31).
  const B = h.sliceBase;
  B[0] = h.pc + REFETCH;
  let po = OFF_PAGE;
  // A jump's target offset when it left the page (else 0, never a target then): the jump only moves it here and
  // sets po to the sentinel, with no arithmetic of its own, so a jump that first leaves its page in optimised code
  // finds nothing without type feedback (a deopt), and pc = base + far.
  let far = 0;
  let dec = h.fetchDecoded;
  let n = 0;
  budget |= 0; // an int32 from here on, not a tagged number checked and untagged at every instruction
  // The data TLBs in use. Whatever can switch them (privilege, MPRV, satp, sfence) also resets the
  // fetch page, so they are reloaded exactly where the fetch page is.
  let ldKeys = h.loadTlb.key;
  let ldFrames = h.loadTlb.ramOffset;
  let stKeys = h.storeTlb.key;
  let stFrames = h.storeTlb.ramOffset;
  let dataKey = h.dataKey;
  h.stop = false;

  while (n < budget) {
    const b = dec[BLOCK_WORDS + (po >>> 1)];
    if (b !== 0) {
      const base = B[0];
      const r = enterBlock(h, dec, b, base, po, budget - n);
      if (r !== 0) {
        if (r > 0) {
          n += r;
          const d = h.pc - base;
          if (d >= 0 && d < PAGE) po = d | 0;
          else {
            B[0] = h.pc + REFETCH;
            po = OFF_PAGE;
          }
        } else {
          n -= r; // a trap inside the block: continue at the handler, through fetchPage
          B[0] = h.pc + REFETCH;
          po = OFF_PAGE;
        }
        if (h.stop) break;
        continue;
      }
    }
    const w0 = dec[po];
    const imm = dec[po | 1]; // po + 1 (po is even), without an overflow check
    const len = 4 - ((w0 >>> 6) & 2);
    const rd = (w0 >>> 8) & 0xff;
    const rs1 = (w0 >>> 16) & 0xff;
    const rs2 = w0 >>> 24;
    n = (n + 1) | 0;

    // Loads and stores compute their address and probe the TLB inline (not
    // through a helper: V8's inlining budget ran out before this function's
    // end and left some of them calling it). A hit needs a canonical address
    // (bits 63..38 equal, checked on the high word) mapped to RAM; the slow
    // paths take everything else, with pc given as the page offset.
    switch (w0 & 0x7f) {
      case 0: { // undecoded
        // (also the sentinel past the page's end, po >= PAGE)
        n--;
        const pc = B[0] + (far !== 0 ? far : po);
        far = 0;
        let fetched: boolean;
        if (po >= PAGE) {
          // Off the page (fell off its end, or a jump left it): fetch the page pc is on. The data TLBs are
          // reloaded here because whatever switches them (privilege, MPRV, satp, sfence) also resets the fetch page.
          ldKeys = h.loadTlb.key;
          ldFrames = h.loadTlb.ramOffset;
          stKeys = h.storeTlb.key;
          stFrames = h.storeTlb.ramOffset;
          dataKey = h.dataKey;
          fetched = h.fetchPage(pc);
        } else fetched = h.decodeAt(pc);
        if (fetched) {
          dec = h.fetchDecoded;
          B[0] = h.fetchBase;
          po = (pc - h.fetchBase) | 0;
        } else {
          n++; // a fetch fault counts as a step, so a faulting handler cannot spin here forever
          B[0] = h.pc + REFETCH;
          po = OFF_PAGE;
          if (h.stop) break;
        }
        continue;
      }
      case 2: // lui
        x[rd] = imm;
        x[rd + 1] = imm >> 31;
        po += len;
        continue;
      case 3: { // auipc
        const v = B[0] + po + imm;
        x[rd] = v | 0;
        x[rd + 1] = Math.floor(v / TWO_32) | 0;
        po += len;
        continue;
      }
      case 4: { // jal
        const link = B[0] + po + len;
        x[rd] = link | 0;
        x[rd + 1] = Math.floor(link / TWO_32) | 0;
        po += imm;
        if ((po & OUTSIDE_PAGE) !== 0) {
          far = po;
          po = OFF_PAGE;
        }
        continue;
      }
      case 5: { // jalr
        const blo = x[rs1];
        const tlo = (blo + imm) | 0;
        const thi = (x[rs1 + 1] + (imm >> 31) + (tlo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        const base = B[0];
        const link = base + po + len;
        x[rd] = link | 0;
        x[rd + 1] = Math.floor(link / TWO_32) | 0;
        if ((thi << 10) >> 10 !== thi) {
          // A target pc cannot hold exactly (u64.ts): its fetch faults now, reported exactly. The fault is a step.
          n++;
          h.wildFetch(tlo & ~1, thi);
          B[0] = h.pc + REFETCH;
          po = OFF_PAGE;
          if (h.stop) break;
          continue;
        }
        const target = thi * TWO_32 + ((tlo & ~1) >>> 0);
        const d = target - base;
        if (d >= 0 && d < PAGE) po = d | 0;
        else {
          B[0] = target + REFETCH;
          po = OFF_PAGE;
        }
        continue;
      }
      // A taken branch checks its target against the page (decoded-page.ts); falling through needs no check.
      // Leaving the page sets far (see above).
      case 6: // beq
        if (x[rs1] === x[rs2] && x[rs1 + 1] === x[rs2 + 1]) {
          po += imm;
          if ((po & OUTSIDE_PAGE) !== 0) {
            far = po;
            po = OFF_PAGE;
          }
        } else po += len;
        continue;
      case 7: // bne
        if (x[rs1] !== x[rs2] || x[rs1 + 1] !== x[rs2 + 1]) {
          po += imm;
          if ((po & OUTSIDE_PAGE) !== 0) {
            far = po;
            po = OFF_PAGE;
          }
        } else po += len;
        continue;
      case 8: { // blt
        const ahi = x[rs1 + 1];
        const bhi = x[rs2 + 1];
        if (ahi < bhi || (ahi === bhi && x[rs1] >>> 0 < x[rs2] >>> 0)) {
          po += imm;
          if ((po & OUTSIDE_PAGE) !== 0) {
            far = po;
            po = OFF_PAGE;
          }
        } else po += len;
        continue;
      }
      case 9: { // bge
        const ahi = x[rs1 + 1];
        const bhi = x[rs2 + 1];
        if (ahi < bhi || (ahi === bhi && x[rs1] >>> 0 < x[rs2] >>> 0)) po += len;
        else {
          po += imm;
          if ((po & OUTSIDE_PAGE) !== 0) {
            far = po;
            po = OFF_PAGE;
          }
        }
        continue;
      }
      case 10: { // bltu
        const ahi = x[rs1 + 1];
        const bhi = x[rs2 + 1];
        if (ahi >>> 0 < bhi >>> 0 || (ahi === bhi && x[rs1] >>> 0 < x[rs2] >>> 0)) {
          po += imm;
          if ((po & OUTSIDE_PAGE) !== 0) {
            far = po;
            po = OFF_PAGE;
          }
        } else po += len;
        continue;
      }
      case 11: { // bgeu
        const ahi = x[rs1 + 1];
        const bhi = x[rs2 + 1];
        if (ahi >>> 0 < bhi >>> 0 || (ahi === bhi && x[rs1] >>> 0 < x[rs2] >>> 0)) po += len;
        else {
          po += imm;
          if ((po & OUTSIDE_PAGE) !== 0) {
            far = po;
            po = OFF_PAGE;
          }
        }
        continue;
      }

      // ---- loads: the fast path needs a TLB hit on RAM and natural alignment ----
      case 12: { // lb
        const blo = x[rs1];
        const lo = (blo + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        const vpn = ((hi & 0x7f) << 20) | (lo >>> 12);
        const i = vpn & TLB_INDEX;
        let v: number;
        if (ldKeys[i] === vpn + dataKey && ((hi << 25) >> 25) === hi) v = (u8[ldFrames[i] + (lo & 0xfff)] << 24) >> 24;
        else if (h.loadHere(rs1, imm, 1, po)) {
          v = (h.valueLo << 24) >> 24;
          if (h.stop) budget = n;
        } else {
          B[0] = h.pc + REFETCH;
          po = OFF_PAGE;
          if (h.stop) break;
          continue;
        }
        x[rd] = v;
        x[rd + 1] = v >> 31;
        po += len;
        continue;
      }
      case 16: { // lbu
        const blo = x[rs1];
        const lo = (blo + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        const vpn = ((hi & 0x7f) << 20) | (lo >>> 12);
        const i = vpn & TLB_INDEX;
        let v: number;
        if (ldKeys[i] === vpn + dataKey && ((hi << 25) >> 25) === hi) v = u8[ldFrames[i] + (lo & 0xfff)];
        else if (h.loadHere(rs1, imm, 1, po)) {
          v = h.valueLo & 0xff;
          if (h.stop) budget = n;
        } else {
          B[0] = h.pc + REFETCH;
          po = OFF_PAGE;
          if (h.stop) break;
          continue;
        }
        x[rd] = v;
        x[rd + 1] = 0;
        po += len;
        continue;
      }
      case 13: { // lh
        const blo = x[rs1];
        const lo = (blo + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        const vpn = ((hi & 0x7f) << 20) | (lo >>> 12);
        const i = vpn & TLB_INDEX;
        let v: number;
        if (ldKeys[i] === vpn + dataKey && ((hi << 25) >> 25) === hi && (lo & 1) === 0) v = i16[(ldFrames[i] + (lo & 0xfff)) >>> 1];
        else if (h.loadHere(rs1, imm, 2, po)) {
          v = (h.valueLo << 16) >> 16;
          if (h.stop) budget = n;
        } else {
          B[0] = h.pc + REFETCH;
          po = OFF_PAGE;
          if (h.stop) break;
          continue;
        }
        x[rd] = v;
        x[rd + 1] = v >> 31;
        po += len;
        continue;
      }
      case 17: { // lhu
        const blo = x[rs1];
        const lo = (blo + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        const vpn = ((hi & 0x7f) << 20) | (lo >>> 12);
        const i = vpn & TLB_INDEX;
        let v: number;
        if (ldKeys[i] === vpn + dataKey && ((hi << 25) >> 25) === hi && (lo & 1) === 0) v = u16[(ldFrames[i] + (lo & 0xfff)) >>> 1];
        else if (h.loadHere(rs1, imm, 2, po)) {
          v = h.valueLo & 0xffff;
          if (h.stop) budget = n;
        } else {
          B[0] = h.pc + REFETCH;
          po = OFF_PAGE;
          if (h.stop) break;
          continue;
        }
        x[rd] = v;
        x[rd + 1] = 0;
        po += len;
        continue;
      }
      case 14: { // lw
        const blo = x[rs1];
        const lo = (blo + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        const vpn = ((hi & 0x7f) << 20) | (lo >>> 12);
        const i = vpn & TLB_INDEX;
        let v: number;
        if (ldKeys[i] === vpn + dataKey && ((hi << 25) >> 25) === hi && (lo & 3) === 0) v = i32[(ldFrames[i] + (lo & 0xfff)) >>> 2];
        else if (h.loadHere(rs1, imm, 4, po)) {
          v = h.valueLo | 0; // an int32 (the field is a double): v stays an int32 on both paths
          if (h.stop) budget = n;
        } else {
          B[0] = h.pc + REFETCH;
          po = OFF_PAGE;
          if (h.stop) break;
          continue;
        }
        x[rd] = v;
        x[rd + 1] = v >> 31;
        po += len;
        continue;
      }
      case 18: { // lwu
        const blo = x[rs1];
        const lo = (blo + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        const vpn = ((hi & 0x7f) << 20) | (lo >>> 12);
        const i = vpn & TLB_INDEX;
        let v: number;
        if (ldKeys[i] === vpn + dataKey && ((hi << 25) >> 25) === hi && (lo & 3) === 0) v = i32[(ldFrames[i] + (lo & 0xfff)) >>> 2];
        else if (h.loadHere(rs1, imm, 4, po)) {
          v = h.valueLo | 0; // an int32 (the field is a double): v stays an int32 on both paths
          if (h.stop) budget = n;
        } else {
          B[0] = h.pc + REFETCH;
          po = OFF_PAGE;
          if (h.stop) break;
          continue;
        }
        x[rd] = v;
        x[rd + 1] = 0;
        po += len;
        continue;
      }
      case 15: { // ld
        const blo = x[rs1];
        const lo = (blo + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        const vpn = ((hi & 0x7f) << 20) | (lo >>> 12);
        const i = vpn & TLB_INDEX;
        if (ldKeys[i] === vpn + dataKey && ((hi << 25) >> 25) === hi && (lo & 7) === 0) {
          const w = (ldFrames[i] + (lo & 0xfff)) >>> 2;
          x[rd] = i32[w];
          x[rd + 1] = i32[w + 1];
        } else if (h.loadHere(rs1, imm, 8, po)) {
          x[rd] = h.valueLo;
          x[rd + 1] = h.valueHi;
          if (h.stop) budget = n;
        } else {
          B[0] = h.pc + REFETCH;
          po = OFF_PAGE;
          if (h.stop) break;
          continue;
        }
        po += len;
        continue;
      }

      // ---- stores: a hit needs a writable, dirty page (store TLB fills only those) ----
      // Only the slow path can end the slice (a device write; as for loads, after this instruction): a RAM store cannot.
      case 19: { // sb
        const blo = x[rs1];
        const lo = (blo + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        const vpn = ((hi & 0x7f) << 20) | (lo >>> 12);
        const i = vpn & TLB_INDEX;
        if (stKeys[i] === vpn + dataKey && ((hi << 25) >> 25) === hi) {
          const o = stFrames[i] + (lo & 0xfff);
          u8[o] = x[rs2];
          if (codeMap[o >>> 12] !== 0) mem.invalidateCode(o, 1);
        } else if (!h.storeHere(rs1, imm, 1, x[rs2], 0, po)) {
          B[0] = h.pc + REFETCH;
          po = OFF_PAGE;
          if (h.stop) break;
          continue;
        } else if (h.stop) budget = n;
        po += len;
        continue;
      }
      case 20: { // sh
        const blo = x[rs1];
        const lo = (blo + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        const vpn = ((hi & 0x7f) << 20) | (lo >>> 12);
        const i = vpn & TLB_INDEX;
        if (stKeys[i] === vpn + dataKey && ((hi << 25) >> 25) === hi && (lo & 1) === 0) {
          const o = stFrames[i] + (lo & 0xfff);
          u16[o >>> 1] = x[rs2];
          if (codeMap[o >>> 12] !== 0) mem.invalidateCode(o, 2);
        } else if (!h.storeHere(rs1, imm, 2, x[rs2], 0, po)) {
          B[0] = h.pc + REFETCH;
          po = OFF_PAGE;
          if (h.stop) break;
          continue;
        } else if (h.stop) budget = n;
        po += len;
        continue;
      }
      case 21: { // sw
        const blo = x[rs1];
        const lo = (blo + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        const vpn = ((hi & 0x7f) << 20) | (lo >>> 12);
        const i = vpn & TLB_INDEX;
        if (stKeys[i] === vpn + dataKey && ((hi << 25) >> 25) === hi && (lo & 3) === 0) {
          const o = stFrames[i] + (lo & 0xfff);
          i32[o >>> 2] = x[rs2];
          if (codeMap[o >>> 12] !== 0) mem.invalidateCode(o, 4);
        } else if (!h.storeHere(rs1, imm, 4, x[rs2], 0, po)) {
          B[0] = h.pc + REFETCH;
          po = OFF_PAGE;
          if (h.stop) break;
          continue;
        } else if (h.stop) budget = n;
        po += len;
        continue;
      }
      case 22: { // sd
        const blo = x[rs1];
        const lo = (blo + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        const vpn = ((hi & 0x7f) << 20) | (lo >>> 12);
        const i = vpn & TLB_INDEX;
        if (stKeys[i] === vpn + dataKey && ((hi << 25) >> 25) === hi && (lo & 7) === 0) {
          const o = stFrames[i] + (lo & 0xfff);
          i32[o >>> 2] = x[rs2];
          i32[(o >>> 2) + 1] = x[rs2 + 1];
          if (codeMap[o >>> 12] !== 0) mem.invalidateCode(o, 8);
        } else if (!h.storeHere(rs1, imm, 8, x[rs2], x[rs2 + 1], po)) {
          B[0] = h.pc + REFETCH;
          po = OFF_PAGE;
          if (h.stop) break;
          continue;
        } else if (h.stop) budget = n;
        po += len;
        continue;
      }

      // ---- integer register-immediate ----
      case 23: { // addi
        const blo = x[rs1];
        const lo = (blo + imm) | 0;
        x[rd + 1] = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        x[rd] = lo;
        po += len;
        continue;
      }
      case 24: { // slti
        const ahi = x[rs1 + 1];
        const bhi = imm >> 31;
        x[rd] = ahi < bhi || (ahi === bhi && x[rs1] >>> 0 < imm >>> 0) ? 1 : 0;
        x[rd + 1] = 0;
        po += len;
        continue;
      }
      case 25: { // sltiu
        const ahi = x[rs1 + 1];
        const bhi = imm >> 31;
        x[rd] = ahi >>> 0 < bhi >>> 0 || (ahi === bhi && x[rs1] >>> 0 < imm >>> 0) ? 1 : 0;
        x[rd + 1] = 0;
        po += len;
        continue;
      }
      case 26: // xori
        x[rd + 1] = x[rs1 + 1] ^ (imm >> 31);
        x[rd] = x[rs1] ^ imm;
        po += len;
        continue;
      case 27: // ori
        x[rd + 1] = x[rs1 + 1] | (imm >> 31);
        x[rd] = x[rs1] | imm;
        po += len;
        continue;
      case 28: // andi
        x[rd + 1] = x[rs1 + 1] & (imm >> 31);
        x[rd] = x[rs1] & imm;
        po += len;
        continue;
      case 29: { // slli (imm is 0..63; JS shifts count mod 32, hence the three cases)
        const lo = x[rs1];
        const hi = x[rs1 + 1];
        if (imm === 0) x[rd + 1] = hi;
        else if (imm < 32) x[rd + 1] = (hi << imm) | (lo >>> (32 - imm));
        else x[rd + 1] = lo << (imm - 32);
        x[rd] = imm < 32 ? lo << imm : 0;
        po += len;
        continue;
      }
      case 30: { // srli
        const lo = x[rs1];
        const hi = x[rs1 + 1];
        if (imm === 0) x[rd] = lo;
        else if (imm < 32) x[rd] = (lo >>> imm) | (hi << (32 - imm));
        else x[rd] = hi >>> (imm - 32);
        x[rd + 1] = imm < 32 ? hi >>> imm : 0;
        po += len;
        continue;
      }
      case 31: { // srai
        const lo = x[rs1];
        const hi = x[rs1 + 1];
        if (imm === 0) x[rd] = lo;
        else if (imm < 32) x[rd] = (lo >>> imm) | (hi << (32 - imm));
        else x[rd] = hi >> (imm - 32);
        x[rd + 1] = imm < 32 ? hi >> imm : hi >> 31;
        po += len;
        continue;
      }

      // ---- integer register-register ----
      case 32: { // add
        const alo = x[rs1];
        const lo = (alo + x[rs2]) | 0;
        x[rd + 1] = (x[rs1 + 1] + x[rs2 + 1] + (lo >>> 0 < alo >>> 0 ? 1 : 0)) | 0;
        x[rd] = lo;
        po += len;
        continue;
      }
      case 33: { // sub
        const alo = x[rs1];
        const blo = x[rs2];
        x[rd + 1] = (x[rs1 + 1] - x[rs2 + 1] - (alo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
        x[rd] = (alo - blo) | 0;
        po += len;
        continue;
      }
      case 34: { // sll (as slli, the amount from rs2)
        const sh = x[rs2] & 63;
        const lo = x[rs1];
        const hi = x[rs1 + 1];
        if (sh === 0) x[rd + 1] = hi;
        else if (sh < 32) x[rd + 1] = (hi << sh) | (lo >>> (32 - sh));
        else x[rd + 1] = lo << (sh - 32);
        x[rd] = sh < 32 ? lo << sh : 0;
        po += len;
        continue;
      }
      case 35: { // slt
        const ahi = x[rs1 + 1];
        const bhi = x[rs2 + 1];
        x[rd] = ahi < bhi || (ahi === bhi && x[rs1] >>> 0 < x[rs2] >>> 0) ? 1 : 0;
        x[rd + 1] = 0;
        po += len;
        continue;
      }
      case 36: { // sltu
        const ahi = x[rs1 + 1];
        const bhi = x[rs2 + 1];
        x[rd] = ahi >>> 0 < bhi >>> 0 || (ahi === bhi && x[rs1] >>> 0 < x[rs2] >>> 0) ? 1 : 0;
        x[rd + 1] = 0;
        po += len;
        continue;
      }
      case 37: // xor
        x[rd + 1] = x[rs1 + 1] ^ x[rs2 + 1];
        x[rd] = x[rs1] ^ x[rs2];
        po += len;
        continue;
      case 38: { // srl (as srli)
        const sh = x[rs2] & 63;
        const lo = x[rs1];
        const hi = x[rs1 + 1];
        if (sh === 0) x[rd] = lo;
        else if (sh < 32) x[rd] = (lo >>> sh) | (hi << (32 - sh));
        else x[rd] = hi >>> (sh - 32);
        x[rd + 1] = sh < 32 ? hi >>> sh : 0;
        po += len;
        continue;
      }
      case 39: { // sra (as srai)
        const sh = x[rs2] & 63;
        const lo = x[rs1];
        const hi = x[rs1 + 1];
        if (sh === 0) x[rd] = lo;
        else if (sh < 32) x[rd] = (lo >>> sh) | (hi << (32 - sh));
        else x[rd] = hi >> (sh - 32);
        x[rd + 1] = sh < 32 ? hi >> sh : hi >> 31;
        po += len;
        continue;
      }
      case 40: // or
        x[rd + 1] = x[rs1 + 1] | x[rs2 + 1];
        x[rd] = x[rs1] | x[rs2];
        po += len;
        continue;
      case 41: // and
        x[rd + 1] = x[rs1 + 1] & x[rs2 + 1];
        x[rd] = x[rs1] & x[rs2];
        po += len;
        continue;

      // ---- 32-bit ops: compute on the low word, sign-extend ----
      case 42: { // addiw
        const v = (x[rs1] + imm) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        po += len;
        continue;
      }
      case 43: { // slliw
        const v = x[rs1] << imm;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        po += len;
        continue;
      }
      case 44: { // srliw
        const v = (x[rs1] >>> imm) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        po += len;
        continue;
      }
      case 45: { // sraiw
        const v = x[rs1] >> imm;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        po += len;
        continue;
      }
      case 46: { // addw
        const v = (x[rs1] + x[rs2]) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        po += len;
        continue;
      }
      case 47: { // subw
        const v = (x[rs1] - x[rs2]) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        po += len;
        continue;
      }
      case 48: { // sllw
        const v = x[rs1] << (x[rs2] & 31);
        x[rd] = v;
        x[rd + 1] = v >> 31;
        po += len;
        continue;
      }
      case 49: { // srlw
        const v = (x[rs1] >>> (x[rs2] & 31)) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        po += len;
        continue;
      }
      case 50: { // sraw
        const v = x[rs1] >> (x[rs2] & 31);
        x[rd] = v;
        x[rd + 1] = v >> 31;
        po += len;
        continue;
      }
      case 51: // fence: harts of one board share one sequentially consistent memory; nothing to order
        po += len;
        continue;
      case 55: // mul
        mul64(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]);
        x[rd] = r64[0];
        x[rd + 1] = r64[1];
        po += len;
        continue;
      case 63: { // mulw
        const v = Math.imul(x[rs1], x[rs2]);
        x[rd] = v;
        x[rd + 1] = v >> 31;
        po += len;
        continue;
      }
      default:
        // illegal, fence.i, ecall, ebreak, mulh*, div*, rem*, atomics, csr*, mret, sret, wfi, sfence.vma
        h.sliceCount = n;
        const next = execRare(h, w0 & 0x7f, w0, imm, po, len);
        const base = B[0];
        const d = next - base;
        // Stay on the fetch page unless the instruction changed translation (fetchBase reset) or left the page.
        if (h.fetchBase === base && d >= 0 && d < PAGE) po = d | 0;
        else {
          B[0] = next + REFETCH;
          po = OFF_PAGE;
        }
        if (h.stop) break;
        continue;
    }
    // Reached only by `break`: the instruction asked to end the slice (hart.stop).
    break;
  }
  h.pc = B[0] + (far !== 0 ? far : po);
  h.sliceCount = 0;
  h.instret += n;
  return n;
}
