/*
 * Random guests for the fuzzer (src/lab/fuzz.ts), each from a seed and
 * reproducible from it.
 *
 * An M-mode guest (a flat image at 0x8000_0000, run with --bios none):
 *
 *   prologue   mtvec = handler; x1..x29 random (never a RAM address)
 *   body       random items in 4-byte slots:
 *                - a random instruction word (any encoding, 32-bit or a
 *                  16-bit one padded with c.nop), but no control flow
 *                  (branches, jumps, auipc, xRET, wfi): the guest runs
 *                  straight through its body, every trap skipped by the
 *                  handler, so it always ends
 *                - a CSR access: csrrw/s/c (register or immediate) to a
 *                  CSR the guest may touch without losing its footing, or
 *                  to any CSR number at all
 *                - a load or store of every width to a device register or
 *                  a hole (CLINT, PLIC, UART, the finisher, the empty
 *                  virtio slots, unmapped space)
 *                - a jump into a device or a hole (the fetch faults; the
 *                  handler resumes after the jump)
 *                - a switch to virtual S- or U-mode (mret to the next
 *                  slot); an ecall brings the guest back to M-mode
 *   epilogue   a checksum of x1..x30 printed in hex on the UART, then the
 *              finisher's pass
 *   handler    skips the trapping slot (an ecall from S/U returns to M);
 *              after too many traps it fails through the finisher
 *
 * Kept out on purpose, because they differ between the two worlds by
 * design (see src/lab/lockstep.ts): reads of the clock and counters, of
 * mip/sip and of mtime, and timer interrupts; writes that would pull the
 * guest's own trap handling from under it (mtvec, mscratch, mstatus, mie,
 * medeleg, mideleg, menvcfg, satp). Device accesses come at misaligned
 * offsets too (both paths split them by one rule, src/machine/mmio-access.ts);
 * `alignedMmioOnly` keeps them aligned.
 *
 * An SBI guest (a flat S-mode kernel for --bios hv): random SBI calls
 * (every extension, random function ids and arguments, buffers in and out
 * of RAM), a skip-handler in stvec, then SRST shutdown. It has no native
 * counterpart (natively SBI is OpenSBI's), so the fuzzer only checks that
 * the hypervisor survives it: the VM ends, or stops cleanly when told to.
 */

import { enc } from "../isa/encode.ts";
import { CLINT_BASE, PLIC_BASE, TEST_BASE, UART0_BASE, VIRTIO_BASE } from "../machine/memlayout.ts";
import * as R from "../machine/riscv.ts";
import { Program } from "./program.ts";

/** A small, fast, seeded generator (mulberry32): the same seed gives the same guest everywhere. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** A uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.u32() / 2 ** 32) * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

interface FuzzGuestOptions {
  /** Items in the body. */
  readonly items?: number;
  /** Generate device accesses at aligned offsets only (see the header). */
  readonly alignedMmioOnly?: boolean;
}

const RAM_BASE = 0x8000_0000;
const T5 = 30; // the handler's trap counter
const T6 = 31; // the handler's scratch (and the mainline's, around mode switches)
const A0 = 10, A1 = 11, A2 = 12, A3 = 13;
const C_NOP = 0x0001;
const MSTATUS_MPP = 0x1800;
const FINISHER_PASS = 0x5555;
const FINISHER_FAIL = 0x3333;
/** The handler's exit code when a guest traps more than its limit (it never should: every slot traps at most once). */
const FUZZ_TRAP_LIMIT_CODE = 99;

/** CSRs a random guest may write freely: its footing (trap vector, status, interrupt enables, delegation, paging) stays. */
const FREE_CSRS: readonly number[] = [
  R.CSR_SSCRATCH, R.CSR_SEPC, R.CSR_SCAUSE, R.CSR_STVAL, R.CSR_STVEC, R.CSR_SCOUNTEREN,
  R.CSR_MEPC, R.CSR_MCAUSE, R.CSR_MTVAL, R.CSR_MCOUNTEREN, R.CSR_MHARTID, R.CSR_MISA,
  R.CSR_MVENDORID, R.CSR_MARCHID, R.CSR_MIMPID,
];
/** CSRs never touched: they would pull the guest's trap handling from under it, or are inputs (clock, counters, pending bits). */
const KEPT_OUT: ReadonlySet<number> = new Set([
  R.CSR_MTVEC, R.CSR_MSCRATCH, R.CSR_MSTATUS, R.CSR_SSTATUS, R.CSR_MIE, R.CSR_SIE, R.CSR_MIP, R.CSR_SIP,
  R.CSR_MEDELEG, R.CSR_MIDELEG, R.CSR_MENVCFG, R.CSR_SATP, R.CSR_STIMECMP,
  R.CSR_CYCLE, R.CSR_TIME, R.CSR_INSTRET, R.CSR_MCYCLE, R.CSR_MINSTRET,
]);
/** Counters and their high halves and the hpm counters (0xb03..0xb1f, 0xc03..0xc1f) are inputs too. */
function isCounter(csr: number): boolean {
  return (csr >= 0xb00 && csr <= 0xb1f) || (csr >= 0xc00 && csr <= 0xc1f) || (csr >= 0xb80 && csr <= 0xb9f) || (csr >= 0xc80 && csr <= 0xc9f);
}

interface Window {
  readonly base: number;
  readonly size: number;
  /** Offsets loads must avoid (inputs: the CLINT's mtime). */
  readonly noLoad?: readonly [number, number];
  /** Stores would end the run (the finisher): loads only. */
  readonly loadOnly?: boolean;
}

const WINDOWS: readonly Window[] = [
  { base: CLINT_BASE, size: 0x1_0000, noLoad: [0xbff8, 0xc000] },
  { base: PLIC_BASE, size: 0x60_0000 },
  { base: UART0_BASE, size: 0x100 },
  { base: TEST_BASE, size: 0x1000, loadOnly: true },
  { base: VIRTIO_BASE, size: 8 * 0x1000 }, // empty slots: nothing answers
  { base: 0x0, size: 0x1000 }, // holes
  { base: 0x3000_0000, size: 0x1000 },
  { base: 0x4000_0000, size: 0x1000 },
  { base: 0x9000_0000, size: 0x1000 }, // above RAM (the fuzzer's guests have 32 MiB)
];

/** A random M-mode guest (see the header). */
export function fuzzGuest(seed: number, opts: FuzzGuestOptions = {}): Uint8Array {
  const rng = new Rng(seed);
  const items = opts.items ?? 200;
  const p = new Program();
  // Prologue: mtvec = the handler, which follows right here; then over it to the body.
  p.word(enc.auipc(T6, 0)).word(enc.addi(T6, T6, 16)).word(enc.csrrw(0, R.CSR_MTVEC, T6));
  const overHandler = p.here;
  p.word(0);
  emitHandler(p, 2 * items + 16);
  p.patch(overHandler, enc.jal(0, p.here - overHandler));
  p.li(T5, 0);
  for (let r = 1; r < 30; r++) p.li(r, randomValue(rng));
  let mode = R.PRV_M;
  for (let i = 0; i < items; i++) {
    const kind = rng.below(16);
    if (kind < 8) randomSlot(p, rng);
    else if (kind < 11) csrItem(p, rng);
    else if (kind < 13) deviceItem(p, rng, opts.alignedMmioOnly !== true);
    else if (kind < 14) jumpItem(p, rng);
    else if (kind < 15 && mode === R.PRV_M) mode = switchMode(p, rng);
    else {
      p.word(enc.ecall()); // back to M from S/U; skipped in M
      mode = R.PRV_M;
    }
  }
  if (mode !== R.PRV_M) p.word(enc.ecall());
  epilogue(p);
  return p.image();
}

/** A random register value that is never a RAM address (a store through it must not hit the program). */
function randomValue(rng: Rng): bigint {
  for (;;) {
    const v = rng.below(4) === 0 ? BigInt(rng.u32()) - 2n ** 31n : BigInt.asIntN(64, rng.u64());
    const u = BigInt.asUintN(64, v);
    if (u < BigInt(RAM_BASE) - 0x10000n || u >= BigInt(RAM_BASE) + 2n ** 31n) return v;
  }
}

/** Whether a register field is one the handler owns. */
function reserved(r: number): boolean {
  return r === T5 || r === T6;
}

/** A random register the body may use. */
function anyReg(rng: Rng): number {
  return 1 + rng.below(29);
}

/** One random instruction in a 4-byte slot (see the header for what is filtered out). */
function randomSlot(p: Program, rng: Rng): void {
  for (;;) {
    if (rng.below(4) === 0) {
      const h = rng.u32() & 0xffff;
      if ((h & 3) === 3 || !compressedAllowed(h)) continue;
      p.half(h).half(C_NOP);
      return;
    }
    const w = (rng.u32() | 3) >>> 0;
    if (!wordAllowed(w)) continue;
    p.word(w);
    return;
  }
}

function wordAllowed(w: number): boolean {
  const opcode = w & 0x7f;
  const rd = (w >>> 7) & 31;
  const rs1 = (w >>> 15) & 31;
  const rs2 = (w >>> 20) & 31;
  if (reserved(rd) || reserved(rs1) || reserved(rs2)) return false;
  switch (opcode) {
    case 0x63: // branch
    case 0x67: // jalr
    case 0x6f: // jal
    case 0x17: // auipc: makes RAM addresses
      return false;
    case 0x73: {
      const funct3 = (w >>> 12) & 7;
      if (funct3 === 0) return w === enc.ecall() || w === enc.ebreak();
      return csrAllowed(w >>> 20);
    }
    default:
      return true;
  }
}

function csrAllowed(csr: number): boolean {
  return !KEPT_OUT.has(csr) && !isCounter(csr);
}

/** Compressed instructions without control flow and without the handler's registers. */
function compressedAllowed(h: number): boolean {
  const quadrant = h & 3;
  const funct3 = h >>> 13;
  const rd = (h >>> 7) & 31;
  const rs2 = (h >>> 2) & 31;
  if (quadrant === 1) return funct3 < 5 && !(funct3 <= 3 && reserved(rd)); // not c.j/c.beqz/c.bnez
  if (quadrant === 2) {
    if (funct3 === 4) {
      if (rs2 === 0) return false; // c.jr, c.jalr, c.ebreak's neighbours: control flow
      return !reserved(rd) && !reserved(rs2);
    }
    if (funct3 >= 6) return !reserved(rs2); // c.swsp/c.sdsp store rs2
    return !reserved(rd);
  }
  return true; // quadrant 0: x8..x15 only
}

/** A CSR access: a known CSR the guest may write, or any number that is not kept out. */
function csrItem(p: Program, rng: Rng): void {
  let csr: number;
  do csr = rng.below(2) === 0 ? rng.pick(FREE_CSRS) : rng.below(4096);
  while (!csrAllowed(csr));
  const rd = anyReg(rng);
  const src = rng.below(2) === 0 ? anyReg(rng) : rng.below(32);
  const ops = [enc.csrrw, enc.csrrs, enc.csrrc, enc.csrrwi, enc.csrrsi, enc.csrrci];
  p.word(rng.pick(ops)(rd, csr, src));
}

/** A load or store of a random width at a device register or a hole. */
function deviceItem(p: Program, rng: Rng, misaligned: boolean): void {
  const w = rng.pick(WINDOWS);
  const width = rng.pick([1, 2, 4, 8]);
  const store = w.loadOnly !== true && rng.below(2) === 0;
  let offset = rng.below(w.size);
  // Mostly the registers at the start of a window, where devices have them.
  if (rng.below(2) === 0) offset = rng.below(Math.min(w.size, 0x100));
  if (!misaligned) offset -= offset % width;
  if (!store && w.noLoad !== undefined && offset + width > w.noLoad[0] && offset < w.noLoad[1]) offset = 0;
  const base = anyReg(rng);
  let data = anyReg(rng);
  while (data === base && !store) data = anyReg(rng);
  p.li(base, w.base + offset);
  const loads = { 1: enc.lbu, 2: enc.lhu, 4: enc.lwu, 8: enc.ld } as const;
  const signed = { 1: enc.lb, 2: enc.lh, 4: enc.lw, 8: enc.ld } as const;
  const stores = { 1: enc.sb, 2: enc.sh, 4: enc.sw, 8: enc.sd } as const;
  const k = width as 1 | 2 | 4 | 8;
  if (store) p.word(stores[k](data, base, 0));
  else p.word((rng.below(2) === 0 ? loads : signed)[k](data, base, 0));
  // Left in the register, the device address would meet later random loads and stores at random
  // (so mostly misaligned) offsets: keep those to the misaligned setting.
  if (!misaligned) p.li(base, randomValue(rng));
}

/** mret into S or U at the instruction after it; returns the new mode. */
function switchMode(p: Program, rng: Rng): number {
  const mode = rng.pick([R.PRV_S, R.PRV_U]);
  // auipc t6 / addi t6 to past the mret / csrw mepc / t6 = MPP mask / csrc mstatus / t6 = mode << 11 / csrs mstatus / mret
  const WORDS = 10;
  p.word(enc.auipc(T6, 0)).word(enc.addi(T6, T6, 4 * WORDS)).word(enc.csrrw(0, R.CSR_MEPC, T6));
  p.word(enc.lui(T6, 2)).word(enc.addiw(T6, T6, MSTATUS_MPP - 0x2000)).word(enc.csrrc(0, R.CSR_MSTATUS, T6));
  // mode << 11 as lui + addiw, the same two words for S (0x800) and U (0).
  p.word(enc.lui(T6, mode === R.PRV_S ? 1 : 0)).word(enc.addiw(T6, T6, mode === R.PRV_S ? -0x800 : 0));
  p.word(enc.csrrs(0, R.CSR_MSTATUS, T6)).word(enc.mret());
  return mode;
}

/** The checksum of x1..x30 in t6, printed as 16 hex digits and a newline; then the finisher's pass. */
function epilogue(p: Program): void {
  p.word(enc.addi(T6, T5, 0));
  for (let r = 1; r < 30; r++) {
    p.word(enc.slli(T5, T6, 5)).word(enc.srli(T6, T6, 59)).word(enc.or(T6, T6, T5)).word(enc.xor(T6, T6, r));
  }
  p.li(A1, UART0_BASE).li(A2, 16);
  const loop = p.here;
  p.word(enc.srli(A0, T6, 60)).word(enc.slli(T6, T6, 4)).word(enc.sltiu(A3, A0, 10));
  p.word(enc.bne(A3, 0, 8)).word(enc.addi(A0, A0, 39)); // 'a' - '0' - 10
  p.word(enc.addi(A0, A0, 48)).word(enc.sb(A0, A1, 0)).word(enc.addi(A2, A2, -1));
  p.word(enc.bne(A2, 0, loop - p.here));
  p.li(A0, 10).word(enc.sb(A0, A1, 0));
  p.li(A1, TEST_BASE).li(A0, FINISHER_PASS).word(enc.sw(A0, A1, 0));
  p.word(enc.jal(0, 0));
}

/** The trap handler (see the header); `limit` traps end the run with FUZZ_TRAP_LIMIT_CODE. */
function emitHandler(p: Program, limit: number): void {
  // t6 may hold a jump's link (jumpItem): keep it where the handler can find it.
  p.word(enc.csrrw(0, R.CSR_MSCRATCH, T6));
  p.word(enc.csrrs(T6, R.CSR_MCAUSE, 0));
  const toIntr = p.here;
  p.word(0); // blt t6, x0, intr (patched below)
  p.word(enc.addi(T6, T6, -R.CAUSE_FETCH_ACCESS));
  const toFetch = p.here;
  p.word(0); // beq t6, x0, fetch (patched below)
  // An ecall from U or S (causes 8, 9): return to M-mode (MPP = M).
  p.word(enc.addi(T6, T6, R.CAUSE_FETCH_ACCESS - R.CAUSE_ECALL_U)).word(enc.sltiu(T6, T6, 2));
  p.word(enc.beq(T6, 0, 16)); // over the next three words
  p.word(enc.lui(T6, 2)).word(enc.addiw(T6, T6, MSTATUS_MPP - 0x2000)).word(enc.csrrs(0, R.CSR_MSTATUS, T6));
  // Skip the trapping slot.
  p.word(enc.csrrs(T6, R.CSR_MEPC, 0)).word(enc.addi(T6, T6, 4));
  const resume = p.here;
  p.word(enc.csrrw(0, R.CSR_MEPC, T6));
  p.word(enc.addi(T5, T5, 1));
  p.li(T6, limit);
  const toOut = p.here;
  p.word(0); // bltu t5, t6, out (patched below)
  p.li(T6, TEST_BASE).li(T5, (FUZZ_TRAP_LIMIT_CODE << 16) | FINISHER_FAIL).word(enc.sw(T5, T6, 0));
  p.word(enc.jal(0, 0));
  const out = p.here;
  p.word(enc.mret());
  // An instruction fetch from a device or a hole (a jumpItem): resume at the jump's link.
  const fetch = p.here;
  p.word(enc.csrrs(T6, R.CSR_MSCRATCH, 0));
  p.word(enc.jal(0, resume - p.here));
  // An interrupt (none is ever enabled; a guest that found a way gets them switched off again).
  const intr = p.here;
  p.word(enc.csrrw(0, R.CSR_MIE, 0)).word(enc.mret());
  p.patch(toIntr, enc.blt(T6, 0, intr - toIntr));
  p.patch(toFetch, enc.beq(T6, 0, fetch - toFetch));
  p.patch(toOut, enc.bltu(T5, T6, out - toOut));
}

/**
 * A jump into a device window or a hole, or to a wild 64-bit address (the
 * top of the address space, where a value that passed through a double
 * would be rounded): the fetch faults, and the handler resumes at the link.
 */
function jumpItem(p: Program, rng: Rng): void {
  let target: bigint;
  if (rng.below(4) === 0) target = rng.pick([0x7fff_ffff_ffff_fffen, 0xffff_ffff_ffff_fffen, 0x20_0000_0000_0002n, rng.u64() & ~1n]);
  else {
    const w = rng.pick(WINDOWS);
    target = BigInt(w.base + (rng.below(w.size) & ~1));
  }
  p.li(T6, target).word(enc.jalr(T6, T6, 0));
  // What the fault left in mtval goes into the checksum, inverted: as it is, it is the device
  // address just jumped to, which later random accesses would then reach at misaligned offsets.
  if (rng.below(2) === 0) {
    const r = anyReg(rng);
    p.word(enc.csrrs(r, R.CSR_MTVAL, 0)).word(enc.xori(r, r, -1));
  }
}

const KERNEL_BASE = 0x8020_0000;
const A4 = 14, A5 = 15, A6 = 16, A7 = 17;
/** SBI extension ids (SBI spec v2.0): the legacy calls 0..8, then the named extensions. */
const SBI_EIDS: readonly number[] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8,
  0x10, 0x54494d45, 0x735049, 0x52464e43, 0x48534d, 0x53525354, 0x4442434e,
];
const EID_SRST = 0x53525354;
const EID_LEGACY_SHUTDOWN = 8;
const EID_HSM = 0x48534d;

/**
 * A random S-mode kernel making SBI calls (see the header), for --bios hv;
 * a flat image, loaded at 0x8020_0000. Calls that end or park the only hart
 * (SRST, legacy shutdown, HSM stop and suspend) come rarely, so most guests
 * run all their calls.
 */
export function fuzzSbiGuest(seed: number, calls = 60): Uint8Array {
  const rng = new Rng(seed);
  const p = new Program();
  // stvec = a handler that skips the trapping instruction; it follows right here.
  p.word(enc.auipc(T6, 0)).word(enc.addi(T6, T6, 16)).word(enc.csrrw(0, R.CSR_STVEC, T6));
  const over = p.here;
  p.word(0);
  p.word(enc.csrrs(T6, R.CSR_SEPC, 0)).word(enc.addi(T6, T6, 4)).word(enc.csrrw(0, R.CSR_SEPC, T6)).word(enc.sret());
  p.patch(over, enc.jal(0, p.here - over));
  for (let i = 0; i < calls; i++) {
    let eid = rng.below(8) === 0 ? rng.u32() : rng.pick(SBI_EIDS);
    const fid = rng.below(8) === 0 ? rng.u32() : rng.below(8);
    const ends = eid === EID_SRST || eid === EID_LEGACY_SHUTDOWN || (eid === EID_HSM && (fid === 1 || fid === 3));
    if (ends && rng.below(8) !== 0) eid = 0x10; // mostly keep going: Base instead
    p.li(A7, eid).li(A6, fid);
    for (const r of [A0, A1, A2, A3, A4, A5]) p.li(r, sbiArgument(rng));
    p.word(enc.ecall());
  }
  p.li(A7, EID_SRST).li(A6, 0).li(A0, 0).li(A1, 0).word(enc.ecall());
  p.word(enc.jal(0, 0));
  return p.image();
}

/** An SBI argument: small numbers, hart masks, addresses in and around guest RAM, or anything. */
function sbiArgument(rng: Rng): bigint {
  switch (rng.below(5)) {
    case 0:
      return BigInt(rng.below(16));
    case 1:
      return BigInt(KERNEL_BASE + rng.below(0x10_0000));
    case 2:
      return BigInt(RAM_BASE) + BigInt(rng.u32()) * 16n; // beyond RAM, mostly
    case 3:
      return -BigInt(rng.below(4));
    default:
      return BigInt.asIntN(64, rng.u64());
  }
}
