/*
 * Warms the interpreter before a board runs: V8 optimises runSlice after a
 * few thousand instructions, and every case (or slow path) that has not run
 * yet has no type feedback, so the optimised code deoptimises the first time
 * the guest reaches it ("insufficient type feedback"). A Linux boot met ~20
 * such deopts of runSlice, each followed by seconds of slow code under load
 * while TurboFan recompiled a function of ~8,000 bytecodes.
 *
 * So, once per thread, a throwaway one-hart board runs a short program that
 * reaches every case of the hot loop and its slow paths: all RV64IM ops with
 * both branch outcomes, loads and stores on TLB misses and hits, misaligned,
 * to MMIO and to nowhere (traps), a store into decoded code, CSRs, atomics,
 * the rare ops, a fetch fault, hot loops the wasm and the JS block tiers
 * compile and a trap inside each, a block that ends at a page end, every compressed
 * form, and fetches at a page's last halfword (a compressed instruction, a
 * 32-bit one straddling two pages); first in M-mode, then again in S-mode under Sv39 at
 * Linux-like high addresses with a large ASID (so the keys and pcs are
 * doubles from the start, as they are in a real kernel). It takes a few
 * milliseconds and allocates nothing in the loop later.
 */

import { enc } from "../isa/encode.ts";
import { Board } from "./board.ts";
import type { ClockKind } from "./clock.ts";
import { runSlice } from "./hart-loop.ts";
import { CLINT_BASE, DRAM_BASE, PAGE_SIZE, UART0_BASE } from "./memlayout.ts";
import * as R from "./riscv.ts";

const MB = 1 << 20;
const DATA = 0x10_0000; // RAM offset of the data page (the program is at 0)
const ROOT = 0x10_1000; // RAM offset of the Sv39 root table
const CONSTS = 0x10_2000; // RAM offset of the 64-bit constants the program loads
const MAX_STEPS = 400_000;

// Registers: s0 data, s1 constants, a0..a7 operands, t1 loop counter, t3 block's load base;
// t4/t5 the trap handler's, t6 the fetch-fault return address.
const [ZERO, RA, SP, T0, T1, T2, S0, S1, A0, A1, A2, A3, A4, A5, A6] = [0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const [T3, T4, T5, T6] = [28, 29, 30, 31];

let warmed = false;

/** The high-half alias of RAM (Sv39 root slot 510), as the signed number a pc holds: 0xffff_ffff_8000_0000. */
const HIGH_RAM = -(2 ** 31);

/** Runs the warm-up once per thread; later calls return at once. */
export function warmInterpreter(clock: ClockKind): void {
  if (warmed) return;
  warmed = true;
  const board = new Board({ harts: 1, memSize: 2 * MB, clock, output: () => {}, jit: true, hotThreshold: 4 });
  // Wasm blocks compile at once here (this loop never yields for background modules), so their door is warmed too.
  if (board.mem.wasm !== undefined) board.mem.wasm.background = false;
  const { words, sEntry, end } = program();
  const mem = board.memory;
  words.forEach((w, i) => mem.writeU32(DRAM_BASE + 4 * i, w));
  // Sv39 root: gigapages for MMIO (VA 0 -> 0), RAM (VA 2 GiB -> 2 GiB) and the kernel-style high alias of RAM.
  const leaf = (pa: number): bigint => (BigInt(pa >>> 12) << 10n) | 0xefn; // D A G X W R V
  mem.writeU64(DRAM_BASE + ROOT, leaf(0));
  mem.writeU64(DRAM_BASE + ROOT + 2 * 8, leaf(DRAM_BASE));
  mem.writeU64(DRAM_BASE + ROOT + 510 * 8, leaf(DRAM_BASE));
  mem.writeU64(DRAM_BASE + CONSTS, (8n << 60n) | (0x1234n << 44n) | BigInt((DRAM_BASE + ROOT) >>> 12)); // satp: Sv39, ASID 0x1234
  mem.writeU64(DRAM_BASE + CONSTS + 8, BigInt.asUintN(64, BigInt(HIGH_RAM + sEntry)));
  const ends = [DRAM_BASE + end, HIGH_RAM + end];
  const h = board.harts[0];
  h.pc = DRAM_BASE;
  for (let steps = 0; steps < MAX_STEPS && !ends.includes(h.pc); ) steps += Math.max(1, runSlice(h, 1000));
  if (!ends.includes(h.pc)) throw new Error(`interpreter warm-up stopped at pc ${h.pc}, not at its end: a bug in interp-warmup.ts`);
}

/** Halfwords (compressed instructions, or 32-bit ones as two halves) packed into words, padded with c.nop. */
function packHalves(insns: readonly number[]): number[] {
  const halves: number[] = [];
  for (const i of insns) {
    if ((i & 3) === 3) halves.push(i & 0xffff, i >>> 16);
    else halves.push(i);
  }
  if (halves.length % 2 !== 0) halves.push(enc.c_nop());
  const words: number[] = [];
  for (let k = 0; k < halves.length; k += 2) words.push((halves[k] | (halves[k + 1] << 16)) >>> 0);
  return words;
}

/**
 * Every compressed format the decoder expands (decodeFields16), with both
 * outcomes of c.beqz/c.bnez and a c.jr and c.jalr; sp points into the data
 * page meanwhile. Linux is mostly RVC: without these, the decoder's
 * optimised code deoptimised at the kernel's first unseen format.
 */
function compressed(): number[] {
  return packHalves([
    enc.addi(SP, S0, 64), enc.c_li(A5, 1),
    enc.c_addi(A0, 1), enc.c_addiw(A0, -1), enc.c_li(A1, 5), enc.c_lui(A2, 3), enc.c_srli(A2, 1), enc.c_srai(A2, 1), enc.c_andi(A2, 7),
    enc.c_sub(A3, A1), enc.c_xor(A3, A1), enc.c_or(A3, A1), enc.c_and(A3, A1), enc.c_subw(A3, A1), enc.c_addw(A3, A1),
    enc.c_slli(A3, 3), enc.c_mv(A4, A3), enc.c_add(A4, A3),
    enc.c_sw(A3, S0, 4), enc.c_lw(A4, S0, 4), enc.c_sd(A3, S0, 8), enc.c_ld(A4, S0, 8),
    enc.c_swsp(A3, 16), enc.c_lwsp(A4, 16), enc.c_sdsp(A3, 24), enc.c_ldsp(A4, 24),
    enc.c_addi16sp(16), enc.c_addi4spn(A4, 8), enc.c_addi16sp(-16),
    // a5 = 1: c.beqz falls through, c.bnez skips the halfword after it; then a5 = 0 and the other way round
    enc.c_beqz(A5, 4), enc.c_addi(A6, 1), enc.c_bnez(A5, 4), enc.c_addi(A6, 1),
    enc.c_li(A5, 0), enc.c_beqz(A5, 4), enc.c_addi(A6, 1), enc.c_bnez(A5, 4), enc.c_addi(A6, 1),
    enc.c_j(4), enc.c_addi(A6, 1),
    // c.jr and c.jalr over one halfword each (auipc at X: t0 = X + 10, the jump at X + 6, its target X + 10); ra is kept in t2
    enc.auipc(T0, 0), enc.c_addi(T0, 10), enc.c_jr(T0), enc.c_addi(A6, 1),
    enc.c_mv(T2, RA), enc.auipc(T0, 0), enc.c_addi(T0, 10), enc.c_jalr(T0), enc.c_addi(A6, 1), enc.c_mv(RA, T2),
  ]);
}

/**
 * Fetches at a page's last halfword (Hart.fetchPage): a jump from another
 * page to a compressed instruction there, then a 32-bit instruction that
 * straddles two pages, reached in sequence (decoded through scratch each
 * time). Appended at the end of `p`; the code between runs nowhere.
 */
function pageEnds(p: number[]): void {
  const words = PAGE_SIZE / 4;
  const nextPage = Math.floor(p.length / words) + 1;
  // the word at the next page's end holds c.nop in its high half: the jump's target is PAGE - 2 there
  const lastWord = (nextPage + 1) * words - 1;
  p.push(enc.jal(ZERO, lastWord * 4 + 2 - p.length * 4));
  while (p.length < lastWord) p.push(0);
  p.push((enc.c_nop() << 16) >>> 0);
  // falling through to the following page: a jump over it to its last word, c.nop then the straddling addi
  p.push(enc.jal(ZERO, PAGE_SIZE - 4));
  while (p.length % words !== words - 1) p.push(0);
  const straddle = enc.addi(A6, A6, 1);
  p.push((enc.c_nop() | (straddle << 16)) >>> 0);
  p.push(((straddle >>> 16) | (enc.c_nop() << 16)) >>> 0);
}

/** auipc + addi putting the address `target` (an offset in the program) into rd, from the instruction at `from`. */
function pcrel(rd: number, from: number, target: number): [number, number] {
  const delta = target - from;
  const hi = (delta + 0x800) >> 12;
  return [enc.auipc(rd, hi & 0xfffff), enc.addi(rd, rd, delta - hi * 4096)];
}

function program(): { words: number[]; sEntry: number; end: number } {
  const p: number[] = [];
  const at = (): number => p.length * 4;
  // ---- M-mode: trap vector, the body, then S-mode at the high alias, the body again, the end ----
  const setup = p.length;
  p.push(0, 0, enc.csrrw(ZERO, R.CSR_MTVEC, T0));
  const call1 = p.length;
  p.push(0);
  p.push(enc.lui(A0, 1), enc.addi(A0, A0, -0x800), enc.slli(A1, A0, 1)); // a0 = 0x800, a1 = 0x1000
  p.push(enc.csrrc(ZERO, R.CSR_MSTATUS, A1), enc.csrrs(ZERO, R.CSR_MSTATUS, A0)); // MPP = S
  p.push(enc.ld(A2, S1, 0), enc.csrrw(ZERO, R.CSR_SATP, A2), enc.sfence_vma());
  p.push(enc.ld(A3, S1, 8), enc.csrrw(ZERO, R.CSR_MEPC, A3), enc.mret());
  const sEntry = at();
  const call2 = p.length;
  p.push(0);
  const end = at();
  p.push(enc.jal(ZERO, 0));

  // ---- trap handler: a fetch fault returns to t6, anything else skips the instruction ----
  const handler = at();
  p.push(enc.csrrs(T5, R.CSR_MCAUSE, ZERO), enc.addi(T4, ZERO, 1), enc.bne(T5, T4, 12));
  p.push(enc.csrrw(ZERO, R.CSR_MEPC, T6), enc.mret());
  p.push(enc.csrrs(T5, R.CSR_MEPC, ZERO), enc.addi(T5, T5, 4), enc.csrrw(ZERO, R.CSR_MEPC, T5), enc.mret());

  // ---- the body (position-independent; returns through ra) ----
  const body = at();
  p.push(...pcrel(S0, at(), DATA));
  p.push(...pcrel(S1, at(), CONSTS));
  p.push(enc.addi(A0, ZERO, -5), enc.addi(A1, ZERO, 7), enc.lui(A2, 0x80001), enc.addi(A2, A2, 0x123));
  for (const op of ["beq", "bne", "blt", "bge", "bltu", "bgeu"] as const) {
    for (const [r1, r2] of [[A0, A1], [A1, A0], [A0, A0]]) p.push(enc[op](r1, r2, 8), enc.addi(A6, A6, 1));
  }
  p.push(enc.slti(A3, A0, 3), enc.sltiu(A3, A0, 3), enc.xori(A3, A0, -1), enc.ori(A3, A1, 0x70), enc.andi(A3, A2, 0xff));
  // the comparisons again with equal high words, so the low words' compare runs too
  p.push(enc.slti(A3, A1, 3), enc.sltiu(A3, A1, 3), enc.slti(A3, A0, -3), enc.sltiu(A3, A0, -3));
  for (const sh of [0, 5, 32, 40]) p.push(enc.slli(A3, A2, sh), enc.srli(A3, A0, sh), enc.srai(A3, A0, sh));
  for (const op of ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and", "addw", "subw", "sllw", "srlw", "sraw",
    "mul", "mulw", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu", "divw", "divuw", "remw", "remuw"] as const) {
    p.push(enc[op](A3, A0, A1), enc[op](A4, A2, A0), enc[op](A5, A1, ZERO));
  }
  p.push(enc.addiw(A3, A2, -1), enc.slliw(A3, A2, 3), enc.srliw(A3, A0, 3), enc.sraiw(A3, A0, 3), enc.fence(), enc.fence_i());
  p.push(enc.jal(T0, 8), enc.addi(A6, A6, 1), enc.auipc(T0, 0), enc.jalr(T2, T0, 12), enc.addi(A6, A6, 1));
  // loads and stores: a miss, then hits, then misaligned
  for (let pass = 0; pass < 2; pass++) {
    p.push(enc.sb(A2, S0, 1), enc.sh(A2, S0, 2), enc.sw(A2, S0, 4), enc.sd(A2, S0, 8));
    p.push(enc.lb(A3, S0, 1), enc.lbu(A3, S0, 1), enc.lh(A3, S0, 2), enc.lhu(A3, S0, 2), enc.lw(A3, S0, 4), enc.lwu(A3, S0, 4), enc.ld(A3, S0, 8));
  }
  p.push(enc.sh(A2, S0, 17), enc.sw(A2, S0, 18), enc.sd(A2, S0, 20));
  p.push(enc.lh(A3, S0, 17), enc.lhu(A3, S0, 17), enc.lw(A3, S0, 18), enc.lwu(A3, S0, 18), enc.ld(A3, S0, 20));
  // MMIO (UART scratch register, CLINT mtime) and nowhere (address 8: an access fault the handler skips)
  p.push(enc.lui(A4, UART0_BASE >>> 12), enc.lbu(A3, A4, 5), enc.sb(A1, A4, 7), enc.lb(A3, A4, 7));
  p.push(enc.lui(A4, (CLINT_BASE + 0xc000) >>> 12), enc.ld(A3, A4, -8), enc.lw(A3, A4, -8)); // mtime at 0xbff8
  p.push(enc.sh(A1, A4, -0x800), enc.sw(A1, A4, -0x800), enc.sd(A1, A4, -0x800)); // CLINT 0xb800: no register, ignored
  p.push(enc.ld(A3, ZERO, 8), enc.lw(A3, ZERO, 8), enc.lbu(A3, ZERO, 8), enc.sd(A3, ZERO, 8), enc.sw(A3, ZERO, 8), enc.sb(A3, ZERO, 8));
  // a store into this very code: rewrite the next instruction with itself
  p.push(enc.auipc(T0, 0), enc.lw(A3, T0, 12), enc.sw(A3, T0, 12), enc.addi(A6, A6, 1));
  // CSRs, counters, atomics, the rare ops, an illegal instruction, a fetch fault
  p.push(enc.csrrw(A3, R.CSR_MSCRATCH, A1), enc.csrrs(A3, R.CSR_MSCRATCH, A0), enc.csrrc(A3, R.CSR_MSCRATCH, A1));
  p.push(enc.csrrwi(A3, R.CSR_MSCRATCH, 3), enc.csrrsi(A3, R.CSR_MSCRATCH, 4), enc.csrrci(A3, R.CSR_MSCRATCH, 1));
  p.push(enc.csrrs(A3, R.CSR_CYCLE, ZERO), enc.csrrs(A3, R.CSR_INSTRET, ZERO), enc.csrrs(A3, R.CSR_TIME, ZERO));
  p.push(enc.lr_d(A3, S0), enc.sc_d(A4, S0, A1), enc.lr_w(A3, S0), enc.sc_w(A4, S0, A1), enc.sc_d(A4, S0, A1));
  p.push(enc.amoadd_d(A3, S0, A1), enc.amoswap_w(A3, S0, A1), enc.amoor_d(A3, S0, A0), enc.amomaxu_w(A3, S0, A0));
  p.push(enc.ecall(), enc.sfence_vma(), 0, enc.ebreak());
  p.push(enc.auipc(T6, 0), enc.addi(T6, T6, 12), enc.jalr(T2, ZERO, 0x100)); // fetch fault at 0x100, back to t6
  // a hot loop the block tier compiles, then that block entered with a load that faults
  p.push(enc.addi(T1, ZERO, 64), enc.addi(T3, S0, 0));
  const loop = p.length;
  p.push(enc.ld(A5, T3, 0), enc.add(A3, A3, A5), enc.sd(A3, S0, 32), enc.addi(T1, T1, -1));
  p.push(enc.bne(T1, ZERO, (loop - p.length) * 4));
  p.push(enc.addi(T2, ZERO, 8), enc.beq(T3, T2, 16), enc.addi(T3, ZERO, 8), enc.addi(T1, ZERO, 1));
  p.push(enc.jal(ZERO, (loop - p.length) * 4));
  // a hot loop for the JS tier, which takes the blocks that start with a CSR: in S-mode its mscratch read traps inside
  // the block, which returns its count negative (wasm and JS blocks leave before a faulting load, so the loop above
  // never does that)
  p.push(enc.addi(T1, ZERO, 16));
  const jsLoop = p.length;
  p.push(enc.csrrs(A4, R.CSR_SSCRATCH, ZERO), enc.csrrs(A4, R.CSR_MSCRATCH, ZERO), enc.addi(T1, T1, -1));
  p.push(enc.bne(T1, ZERO, (jsLoop - p.length) * 4));
  // a hot loop whose block ends at the end of a page, so the block leaves its page (over padding never run)
  const ahead = PAGE_SIZE - 12 - (at() % PAGE_SIZE);
  p.push(enc.jal(ZERO, ahead < 4 ? ahead + PAGE_SIZE : ahead));
  while (at() % PAGE_SIZE !== PAGE_SIZE - 12) p.push(0);
  p.push(enc.addi(T1, ZERO, 8));
  const across = p.length;
  p.push(enc.addi(A6, A6, 1), enc.addi(T1, T1, -1)); // the page ends here
  p.push(enc.bne(T1, ZERO, (across - p.length) * 4));
  p.push(...compressed());
  pageEnds(p);
  p.push(enc.jalr(ZERO, RA, 0));

  [p[setup], p[setup + 1]] = pcrel(T0, setup * 4, handler);
  p[call1] = enc.jal(RA, body - call1 * 4);
  p[call2] = enc.jal(RA, body - call2 * 4);
  return { words: p, sEntry, end };
}
