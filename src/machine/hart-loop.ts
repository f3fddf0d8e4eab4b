/*
 * The interpreter's hot loop: executes up to `budget` predecoded instructions
 * of one hart. One `switch` over numeric op literals (V8 turns it into a jump
 * table; the name of each op is in the comment and a test checks them against
 * src/isa/ops.ts), registers as int32 pairs in a typed array, pc and the fetch
 * page in locals, loads and stores through the TLB fast path. Nothing here
 * allocates.
 *
 * Two loops. The inner one runs the fast paths and calls nothing: anything
 * unusual — a TLB miss, MMIO, a trap, a CSR, a division, a jump off the page,
 * a block to enter — ends it with the reason in `why`, and the outer loop
 * does that one thing through the Hart's slow paths, execMemSlow or execRare
 * (hart-rare.ts), then restarts the inner loop. V8 saves every live value
 * around a call (all registers are caller-saved), and it spills a value at
 * each of its definitions once it is spilled anywhere: with calls in the
 * same loop as the fast paths, the state they shared was stored to the stack
 * at every instruction. The inner loop's values are its own (po, left),
 * copied to the outer loop's (at, ran) only when it ends. cpubench with the
 * block tier off, process CPU at load 7-9: ~180 -> ~215 MIPS. (V8 still
 * keeps a few values on the stack in the inner loop for want of registers —
 * the count, the decoded words — and checks each typed array's map where
 * it is used.)
 *
 * Interrupts, timers and device events are handled between slices (by the
 * runner); an instruction that may make an interrupt takeable sets
 * hart.stop, which ends the slice after it. A load does too when the device
 * it read raised a line (a read of mtime past mtimecmp).
 *
 * Hot code runs as compiled blocks (jit/): each slot has a block word next
 * to its decoded words. The inner loop counts a slot's visits itself (a
 * negative word below -1 goes up by one); any other non-zero word sends the
 * outer loop to enterBlock, which compiles, or runs a block that fits the
 * remaining budget. Blocks start where control lands, so the loop looks at
 * a block word only there: where it starts, and after each jump or branch
 * (taken or not). Straight-line code pays nothing for the tier: looking at
 * every slot cost a load and a test per instruction, and V8 kept more of
 * the loop's state on the stack for it. `bench cpu`, 4 alternating pairs
 * (load ~3.5, medians): cpubench with the block tiers off 193 -> 226 MIPS,
 * on 1,050 -> 1,248; branchy 139 -> 170 (off), 129 -> 173 (on).
 */

import type { Hart } from "./hart.ts";
import { TLB_MASK } from "./tlb.ts";
import { PAGE_SIZE } from "./memlayout.ts";
import { execMemSlow, execRare } from "./hart-rare.ts";
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

// Why the inner loop ended (`why`).
/** The budget is used up (or hart.stop cut it). */
const BUDGET = 0;
/** The slot at po has a block word for enterBlock (a block, a slot due for compiling, or the tier is off). */
const BLOCK = 1;
/** The instruction at po needs a slow path; it is not executed yet, but counted (taken from left). */
const SLOW = 2;
/** A jump or taken branch left the page: executed and counted, po is its target's offset from the page (outside [0, PAGE)). */
const FAR = 3;
/** The store at po hit a page holding decoded code: stored and counted, its slots still to be forgotten (po not advanced). */
const CODE_STORE = 4;

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
  // into it, so the common path does only int32 arithmetic. In the inner loop
  // po is always in [0, PAGE + 2]: falling off the page's end lands on its
  // sentinel (an undecoded slot, which sends the loop to fetchPage), and
  // every jump checks its target; leaving the page is base = target + REFETCH,
  // po = OFF_PAGE (jalr) or the end of the inner loop (FAR).
  // base lives in h.sliceBase, not in a local: a local double that calls
  // receive as an argument is boxed once per instruction where V8 hoists
  // the conversion (a heap number each time, pc being above 2^31).
  const B = h.sliceBase;
  B[0] = h.pc + REFETCH;
  // Between runs of the inner loop: the page offset of the next instruction, the instructions executed, and
  // whether the block word of the slot at `at` is still to be looked at (-1), or not (0: enterBlock declined it).
  let at = OFF_PAGE;
  let ran = 0;
  let blockMask = -1;
  let dec = h.fetchDecoded;
  budget |= 0; // an int32 from here on, not a tagged number checked and untagged at every instruction
  // The data TLBs in use. Whatever can switch them (privilege, MPRV, satp, sfence) also resets the
  // fetch page, so they are reloaded exactly where the fetch page is.
  let ldKeys = h.loadTlb.key;
  let ldFrames = h.loadTlb.ramOffset;
  let stKeys = h.storeTlb.key;
  let stFrames = h.storeTlb.ramOffset;
  let dataKey = h.dataKey;
  h.stop = false;

  for (;;) {
    let po = at;
    let left = (budget - ran) | 0; // instructions still to run: one live value and a compare with 0, not n and budget
    let why = BUDGET;
    let word = 0; // the block word that ended the inner loop (BLOCK); a constant until then, so it costs the loop nothing
    // The slot it starts at first: the inner loop looks at a block word only where a jump or branch led.
    // blockMask is 0 when enterBlock has just declined this slot.
    const b0 = left > 0 ? dec[BLOCK_WORDS + (po >>> 1)] & blockMask : 0;
    if (b0 < -1) dec[BLOCK_WORDS + (po >>> 1)] = b0 + 1; // a visit counted towards compiling, as below
    else if (b0 !== 0) {
      word = b0;
      why = BLOCK;
    }
    if (why === BUDGET) {
      inner: for (; left > 0; ) {
        const w0 = dec[po];
        const imm = dec[po | 1]; // po + 1 (po is even), without an overflow check
        const len = 4 - ((w0 >>> 6) & 2);
        const rd = (w0 >>> 8) & 0xff;
        const rs1 = (w0 >>> 16) & 0xff;
        const rs2 = w0 >>> 24;
        left = (left - 1) | 0;

        // Loads and stores compute their address and probe the TLB inline (not
        // through a helper: V8's inlining budget ran out before this function's
        // end and left some of them calling it). A hit needs a canonical address
        // (bits 63..38 equal, checked on the high word) mapped to RAM; the outer
        // loop takes everything else.
        switch (w0 & 0x7f) {
          case 0: // undecoded (also the sentinel past the page's end, po >= PAGE)
            why = SLOW;
            break inner;
          case 2: // lui
            x[rd] = imm;
            x[rd + 1] = imm >> 31;
            po = (po + len) | 0;
            continue;
          case 3: { // auipc
            const v = B[0] + po + imm;
            x[rd] = v | 0;
            x[rd + 1] = Math.floor(v / TWO_32) | 0;
            po = (po + len) | 0;
            continue;
          }
          case 4: { // jal
            const link = B[0] + po + len;
            x[rd] = link | 0;
            x[rd + 1] = Math.floor(link / TWO_32) | 0;
            po = (po + imm) | 0;
            if ((po & OUTSIDE_PAGE) !== 0) {
              why = FAR;
              break inner;
            }
            break;
          }
          case 5: { // jalr
            const blo = x[rs1];
            const tlo = (blo + imm) | 0;
            const thi = (x[rs1 + 1] + (imm >> 31) + (tlo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
            // A target pc that cannot hold exactly (u64.ts) faults at once: the outer loop reports it (before rd is written).
            if ((thi << 10) >> 10 !== thi) {
              why = SLOW;
              break inner;
            }
            const base = B[0];
            const link = base + po + len;
            x[rd] = link | 0;
            x[rd + 1] = Math.floor(link / TWO_32) | 0;
            const target = thi * TWO_32 + ((tlo & ~1) >>> 0);
            const d = target - base;
            if (d >= 0 && d < PAGE) po = d | 0;
            else {
              B[0] = target + REFETCH;
              po = OFF_PAGE;
            }
            break;
          }
          // A taken branch checks its target against the page (decoded-page.ts); falling through needs no check.
          // Leaving the page ends the inner loop with po = the target's offset (FAR).
          case 6: // beq
            if (x[rs1] === x[rs2] && x[rs1 + 1] === x[rs2 + 1]) {
              po = (po + imm) | 0;
              if ((po & OUTSIDE_PAGE) !== 0) {
                why = FAR;
                break inner;
              }
            } else po = (po + len) | 0;
            break;
          case 7: // bne
            if (x[rs1] !== x[rs2] || x[rs1 + 1] !== x[rs2 + 1]) {
              po = (po + imm) | 0;
              if ((po & OUTSIDE_PAGE) !== 0) {
                why = FAR;
                break inner;
              }
            } else po = (po + len) | 0;
            break;
          case 8: { // blt
            const ahi = x[rs1 + 1];
            const bhi = x[rs2 + 1];
            if (ahi < bhi || (ahi === bhi && x[rs1] >>> 0 < x[rs2] >>> 0)) {
              po = (po + imm) | 0;
              if ((po & OUTSIDE_PAGE) !== 0) {
                why = FAR;
                break inner;
              }
            } else po = (po + len) | 0;
            break;
          }
          case 9: { // bge
            const ahi = x[rs1 + 1];
            const bhi = x[rs2 + 1];
            if (ahi < bhi || (ahi === bhi && x[rs1] >>> 0 < x[rs2] >>> 0)) po = (po + len) | 0;
            else {
              po = (po + imm) | 0;
              if ((po & OUTSIDE_PAGE) !== 0) {
                why = FAR;
                break inner;
              }
            }
            break;
          }
          case 10: { // bltu
            const ahi = x[rs1 + 1];
            const bhi = x[rs2 + 1];
            if (ahi >>> 0 < bhi >>> 0 || (ahi === bhi && x[rs1] >>> 0 < x[rs2] >>> 0)) {
              po = (po + imm) | 0;
              if ((po & OUTSIDE_PAGE) !== 0) {
                why = FAR;
                break inner;
              }
            } else po = (po + len) | 0;
            break;
          }
          case 11: { // bgeu
            const ahi = x[rs1 + 1];
            const bhi = x[rs2 + 1];
            if (ahi >>> 0 < bhi >>> 0 || (ahi === bhi && x[rs1] >>> 0 < x[rs2] >>> 0)) po = (po + len) | 0;
            else {
              po = (po + imm) | 0;
              if ((po & OUTSIDE_PAGE) !== 0) {
                why = FAR;
                break inner;
              }
            }
            break;
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
            else {
              why = SLOW;
              break inner;
            }
            x[rd] = v;
            x[rd + 1] = v >> 31;
            po = (po + len) | 0;
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
            else {
              why = SLOW;
              break inner;
            }
            x[rd] = v;
            x[rd + 1] = 0;
            po = (po + len) | 0;
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
            else {
              why = SLOW;
              break inner;
            }
            x[rd] = v;
            x[rd + 1] = v >> 31;
            po = (po + len) | 0;
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
            else {
              why = SLOW;
              break inner;
            }
            x[rd] = v;
            x[rd + 1] = 0;
            po = (po + len) | 0;
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
            else {
              why = SLOW;
              break inner;
            }
            x[rd] = v;
            x[rd + 1] = v >> 31;
            po = (po + len) | 0;
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
            else {
              why = SLOW;
              break inner;
            }
            x[rd] = v;
            x[rd + 1] = 0;
            po = (po + len) | 0;
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
            } else {
              why = SLOW;
              break inner;
            }
            po = (po + len) | 0;
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
              if (codeMap[o >>> 12] !== 0) {
                why = CODE_STORE;
                break inner;
              }
            } else {
              why = SLOW;
              break inner;
            }
            po = (po + len) | 0;
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
              if (codeMap[o >>> 12] !== 0) {
                why = CODE_STORE;
                break inner;
              }
            } else {
              why = SLOW;
              break inner;
            }
            po = (po + len) | 0;
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
              if (codeMap[o >>> 12] !== 0) {
                why = CODE_STORE;
                break inner;
              }
            } else {
              why = SLOW;
              break inner;
            }
            po = (po + len) | 0;
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
              if (codeMap[o >>> 12] !== 0) {
                why = CODE_STORE;
                break inner;
              }
            } else {
              why = SLOW;
              break inner;
            }
            po = (po + len) | 0;
            continue;
          }

          // ---- integer register-immediate ----
          case 23: { // addi
            const blo = x[rs1];
            const lo = (blo + imm) | 0;
            x[rd + 1] = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
            x[rd] = lo;
            po = (po + len) | 0;
            continue;
          }
          case 24: { // slti
            const ahi = x[rs1 + 1];
            const bhi = imm >> 31;
            x[rd] = ahi < bhi || (ahi === bhi && x[rs1] >>> 0 < imm >>> 0) ? 1 : 0;
            x[rd + 1] = 0;
            po = (po + len) | 0;
            continue;
          }
          case 25: { // sltiu
            const ahi = x[rs1 + 1];
            const bhi = imm >> 31;
            x[rd] = ahi >>> 0 < bhi >>> 0 || (ahi === bhi && x[rs1] >>> 0 < imm >>> 0) ? 1 : 0;
            x[rd + 1] = 0;
            po = (po + len) | 0;
            continue;
          }
          case 26: // xori
            x[rd + 1] = x[rs1 + 1] ^ (imm >> 31);
            x[rd] = x[rs1] ^ imm;
            po = (po + len) | 0;
            continue;
          case 27: // ori
            x[rd + 1] = x[rs1 + 1] | (imm >> 31);
            x[rd] = x[rs1] | imm;
            po = (po + len) | 0;
            continue;
          case 28: // andi
            x[rd + 1] = x[rs1 + 1] & (imm >> 31);
            x[rd] = x[rs1] & imm;
            po = (po + len) | 0;
            continue;
          case 29: { // slli (imm is 0..63; JS shifts count mod 32, hence the three cases)
            const lo = x[rs1];
            const hi = x[rs1 + 1];
            if (imm === 0) x[rd + 1] = hi;
            else if (imm < 32) x[rd + 1] = (hi << imm) | (lo >>> (32 - imm));
            else x[rd + 1] = lo << (imm - 32);
            x[rd] = imm < 32 ? lo << imm : 0;
            po = (po + len) | 0;
            continue;
          }
          case 30: { // srli
            const lo = x[rs1];
            const hi = x[rs1 + 1];
            if (imm === 0) x[rd] = lo;
            else if (imm < 32) x[rd] = (lo >>> imm) | (hi << (32 - imm));
            else x[rd] = hi >>> (imm - 32);
            x[rd + 1] = imm < 32 ? hi >>> imm : 0;
            po = (po + len) | 0;
            continue;
          }
          case 31: { // srai
            const lo = x[rs1];
            const hi = x[rs1 + 1];
            if (imm === 0) x[rd] = lo;
            else if (imm < 32) x[rd] = (lo >>> imm) | (hi << (32 - imm));
            else x[rd] = hi >> (imm - 32);
            x[rd + 1] = imm < 32 ? hi >> imm : hi >> 31;
            po = (po + len) | 0;
            continue;
          }

          // ---- integer register-register ----
          case 32: { // add
            const alo = x[rs1];
            const lo = (alo + x[rs2]) | 0;
            x[rd + 1] = (x[rs1 + 1] + x[rs2 + 1] + (lo >>> 0 < alo >>> 0 ? 1 : 0)) | 0;
            x[rd] = lo;
            po = (po + len) | 0;
            continue;
          }
          case 33: { // sub
            const alo = x[rs1];
            const blo = x[rs2];
            x[rd + 1] = (x[rs1 + 1] - x[rs2 + 1] - (alo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
            x[rd] = (alo - blo) | 0;
            po = (po + len) | 0;
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
            po = (po + len) | 0;
            continue;
          }
          case 35: { // slt
            const ahi = x[rs1 + 1];
            const bhi = x[rs2 + 1];
            x[rd] = ahi < bhi || (ahi === bhi && x[rs1] >>> 0 < x[rs2] >>> 0) ? 1 : 0;
            x[rd + 1] = 0;
            po = (po + len) | 0;
            continue;
          }
          case 36: { // sltu
            const ahi = x[rs1 + 1];
            const bhi = x[rs2 + 1];
            x[rd] = ahi >>> 0 < bhi >>> 0 || (ahi === bhi && x[rs1] >>> 0 < x[rs2] >>> 0) ? 1 : 0;
            x[rd + 1] = 0;
            po = (po + len) | 0;
            continue;
          }
          case 37: // xor
            x[rd + 1] = x[rs1 + 1] ^ x[rs2 + 1];
            x[rd] = x[rs1] ^ x[rs2];
            po = (po + len) | 0;
            continue;
          case 38: { // srl (as srli)
            const sh = x[rs2] & 63;
            const lo = x[rs1];
            const hi = x[rs1 + 1];
            if (sh === 0) x[rd] = lo;
            else if (sh < 32) x[rd] = (lo >>> sh) | (hi << (32 - sh));
            else x[rd] = hi >>> (sh - 32);
            x[rd + 1] = sh < 32 ? hi >>> sh : 0;
            po = (po + len) | 0;
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
            po = (po + len) | 0;
            continue;
          }
          case 40: // or
            x[rd + 1] = x[rs1 + 1] | x[rs2 + 1];
            x[rd] = x[rs1] | x[rs2];
            po = (po + len) | 0;
            continue;
          case 41: // and
            x[rd + 1] = x[rs1 + 1] & x[rs2 + 1];
            x[rd] = x[rs1] & x[rs2];
            po = (po + len) | 0;
            continue;

          // ---- 32-bit ops: compute on the low word, sign-extend ----
          case 42: { // addiw
            const v = (x[rs1] + imm) | 0;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            po = (po + len) | 0;
            continue;
          }
          case 43: { // slliw
            const v = x[rs1] << imm;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            po = (po + len) | 0;
            continue;
          }
          case 44: { // srliw
            const v = (x[rs1] >>> imm) | 0;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            po = (po + len) | 0;
            continue;
          }
          case 45: { // sraiw
            const v = x[rs1] >> imm;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            po = (po + len) | 0;
            continue;
          }
          case 46: { // addw
            const v = (x[rs1] + x[rs2]) | 0;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            po = (po + len) | 0;
            continue;
          }
          case 47: { // subw
            const v = (x[rs1] - x[rs2]) | 0;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            po = (po + len) | 0;
            continue;
          }
          case 48: { // sllw
            const v = x[rs1] << (x[rs2] & 31);
            x[rd] = v;
            x[rd + 1] = v >> 31;
            po = (po + len) | 0;
            continue;
          }
          case 49: { // srlw
            const v = (x[rs1] >>> (x[rs2] & 31)) | 0;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            po = (po + len) | 0;
            continue;
          }
          case 50: { // sraw
            const v = x[rs1] >> (x[rs2] & 31);
            x[rd] = v;
            x[rd + 1] = v >> 31;
            po = (po + len) | 0;
            continue;
          }
          case 51: // fence: harts of one board share one sequentially consistent memory; nothing to order
            po = (po + len) | 0;
            continue;
          case 55: { // mul (alu64.ts's mul64, written out: a call would spill the loop's state)
            const alo = x[rs1];
            const blo = x[rs2];
            const a0 = alo & 0xffff;
            const a1 = alo >>> 16;
            const b0 = blo & 0xffff;
            const b1 = blo >>> 16;
            const cross1 = a1 * b0;
            const cross2 = a0 * b1;
            const mid = ((a0 * b0) >>> 16) + (cross1 & 0xffff) + (cross2 & 0xffff);
            const high = a1 * b1 + (cross1 >>> 16) + (cross2 >>> 16) + (mid >>> 16);
            x[rd + 1] = (high + Math.imul(alo, x[rs2 + 1]) + Math.imul(x[rs1 + 1], blo)) | 0;
            x[rd] = Math.imul(alo, blo);
            po = (po + len) | 0;
            continue;
          }
          case 63: { // mulw
            const v = Math.imul(x[rs1], x[rs2]);
            x[rd] = v;
            x[rd + 1] = v >> 31;
            po = (po + len) | 0;
            continue;
          }
          default:
            // illegal, fence.i, ecall, ebreak, mulh*, div*, rem*, atomics, csr*, mret, sret, wfi, sfence.vma
            why = SLOW;
            break inner;
        }
        // After a jump or branch (the cases that break from the switch): the block word of the slot it led to.
        const b = dec[BLOCK_WORDS + (po >>> 1)];
        if (b !== 0) {
          // A visit counted towards compiling, as jit/enter.ts counts the words it is given. With the tier
          // off, the word counts down all the same and enterBlock clears it at -1.
          if (b < -1) dec[BLOCK_WORDS + (po >>> 1)] = b + 1;
          else {
            word = b;
            why = BLOCK;
            break;
          }
        }
      }
    }
    at = po;
    ran = (budget - left) | 0;
    if (why === BUDGET) break;
    if (why === BLOCK) {
      const base = B[0];
      const r = enterBlock(h, dec, word, base, at, budget - ran);
      blockMask = 0; // r = 0: the interpreter runs the instruction, without looking at its block word again
      if (r !== 0) {
        if (r > 0) {
          ran += r;
          const d = h.pc - base;
          if (d >= 0 && d < PAGE) at = d | 0;
          else {
            B[0] = h.pc + REFETCH;
            at = OFF_PAGE;
          }
        } else {
          ran -= r; // a trap inside the block: continue at the handler, through fetchPage
          B[0] = h.pc + REFETCH;
          at = OFF_PAGE;
        }
        if (h.stop) break;
        blockMask = -1;
      }
      continue;
    }
    if (why === CODE_STORE) {
      // The store hit the TLB (so its slot index needs only the low word); forget the code it overwrote.
      const w0 = dec[at];
      const op = w0 & 0x7f;
      const lo = (x[(w0 >>> 16) & 0xff] + dec[at | 1]) | 0;
      mem.invalidateCode(stFrames[(lo >>> 12) & TLB_INDEX] + (lo & 0xfff), 1 << (op - 19)); // sb sh sw sd: 1 2 4 8 bytes
      at += 4 - ((w0 >>> 6) & 2);
      blockMask = -1;
      continue;
    }
    const w0 = why === FAR ? 0 : dec[at];
    const op = w0 & 0x7f;
    if (op === 0) {
      // Fetch: a jump left the page (FAR), execution ran off its end (the sentinel), or the slot is undecoded.
      if (why === SLOW) ran--;
      const pc = B[0] + at;
      let fetched: boolean;
      if ((at & OUTSIDE_PAGE) !== 0) {
        // Off the page: fetch the page pc is on. The data TLBs are reloaded here because whatever switches
        // them (privilege, MPRV, satp, sfence) also resets the fetch page.
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
        at = (pc - h.fetchBase) | 0;
      } else {
        ran++; // a fetch fault counts as a step, so a faulting handler cannot spin here forever
        B[0] = h.pc + REFETCH;
        at = OFF_PAGE;
        if (h.stop) break;
      }
      blockMask = -1;
      continue;
    }
    const imm = dec[at | 1];
    const len = 4 - ((w0 >>> 6) & 2);
    if (op === 5) {
      // jalr to a target pc that cannot hold exactly (u64.ts): rd gets the link, the fetch faults now, reported
      // exactly. The fault is a step.
      const rs1 = (w0 >>> 16) & 0xff;
      const rd = (w0 >>> 8) & 0xff;
      const blo = x[rs1];
      const tlo = (blo + imm) | 0;
      const thi = (x[rs1 + 1] + (imm >> 31) + (tlo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
      const link = B[0] + at + len;
      x[rd] = link | 0;
      x[rd + 1] = Math.floor(link / TWO_32) | 0;
      ran++;
      h.wildFetch(tlo & ~1, thi);
      B[0] = h.pc + REFETCH;
      at = OFF_PAGE;
    } else if (op >= 12 && op <= 22) {
      // lb..sd off the fast path. A load that read a device which raised a line, or a store to a device, sets
      // hart.stop: the slice ends after it.
      if (execMemSlow(h, op, w0, imm, at)) at += len;
      else {
        B[0] = h.pc + REFETCH;
        at = OFF_PAGE;
      }
    } else {
      h.sliceCount = ran;
      const next = execRare(h, op, w0, imm, at, len);
      const base = B[0];
      const d = next - base;
      // Stay on the fetch page unless the instruction changed translation (fetchBase reset) or left the page.
      if (h.fetchBase === base && d >= 0 && d < PAGE) at = d | 0;
      else {
        B[0] = next + REFETCH;
        at = OFF_PAGE;
      }
    }
    if (h.stop) break;
    blockMask = -1;
  }
  h.pc = B[0] + at;
  h.sliceCount = 0;
  h.instret += ran;
  return ran;
}
