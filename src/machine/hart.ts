/*
 * A RISC-V hart: registers, CSRs, TLBs, and the slow paths of execution
 * (translation misses, MMIO, traps, CSR instructions, atomics). The hot loop
 * that executes predecoded instructions lives in hart-loop.ts and calls back
 * here only when the fast path does not apply.
 *
 * Registers are int32 (lo, hi) pairs: x[2r] is the low word of xr, x[2r+1]
 * the high word; x[64..65] is where writes to x0 go (see src/isa/ops.ts).
 * pc is a number holding the signed 64-bit value.
 */

import { REGISTER_WORDS } from "../isa/ops.ts";
import { CSR_ILLEGAL, CSR_WROTE, CsrFile, csrAffectsInterrupts, executeCsrInstruction, type CsrHost, type CsrStorage, type SoftTlbHost } from "./csr.ts";
import * as R from "./riscv.ts";
import { enterTrap, enterTrapPair, mret, pendingInterrupt, sret } from "./trap.ts";
import { ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE, accessFaultCause, walkSv39, type Access, type Translation } from "./mmu.ts";
import { ASID_KEY_STRIDE, TLB_MASK, Tlb, type TlbArrays } from "./tlb.ts";
import type { PhysMem } from "./physmem.ts";
import type { Bus } from "./bus.ts";
import { decodeInto } from "../isa/decode.ts";
import { PAGE_SIZE } from "./memlayout.ts";
import { hiOf, isExactPair, loOf, pairToNumber } from "./u64.ts";
import { MMIO_OK, mmioLoad, mmioStore } from "./mmio-access.ts";
import { DECODED_PAGE_WORDS } from "./decoded-page.ts";
import type { JitHost } from "./jit/enter.ts";
import { jitByEnvironment } from "./jit/switch.ts";
import { SoftTlb, type MmuMode } from "./swtlb.ts";
import { softTlbHost, translateSoft, translateSoftQuiet } from "./hart-swtlb.ts";
import { executeNonvirtCsr, isNonvirtCsr, type IsaVariant } from "./isa-variant.ts";
import { Hext } from "./hext.ts";
import { CAUSE_ECALL_VS, CSR_VSSTATUS } from "./hext-defs.ts";
import { HartDebug } from "./dcsr.ts";

/**
 * Traps taken by software outside the model: the host plays the part of the
 * hart's M-mode firmware (as QEMU's cpu loop returns exceptions to its
 * caller). With a handler installed, an exception does not enter the
 * hart's own trap vector; the handler decides what happens next.
 */
export interface HostTrapHandler {
  /**
   * Handle a trap raised at pc (hart.pc holds it as a number on entry).
   * Return true to go on running at hart.pc, false to end the slice there.
   * tval and pc come as exact 64-bit pairs: a wild address (above 2^53 in
   * magnitude, u64.ts) does not fit a number. For an illegal instruction
   * the hart passes its predecoded form (`w0`, `imm`, see src/isa/ops.ts)
   * when it has it, which saves the host decoding tval again; w0 is 0
   * otherwise (0 is never a decoded instruction's word).
   */
  trap(hart: Hart, cause: number, tvalLo: number, tvalHi: number, pcLo: number, pcHi: number, w0: number, imm: number): boolean;
  /**
   * Optional: a CSR instruction (predecoded words w0, imm; see src/isa/ops.ts)
   * at a privilege that may not access its CSR, offered to the host before it
   * becomes an illegal-instruction trap. Returns the next pc if the host
   * performed it, or exactly -1 (never an instruction's address: odd) to
   * take the trap after all; other negative numbers are upper-half pcs. A deprivileging host
   * emulates most CSR accesses this way without the general trap path, the
   * cheapest exit there is (as a VMX CPU reports CR accesses with their
   * operands already decoded).
   */
  csrAccess?(hart: Hart, w0: number, imm: number, pc: number): number;
}

/** Where a hart keeps its registers and CSRs, when not in its own arrays (a vCPU's run page). */
export interface HartStorage {
  /** Registers live here; they keep their contents at construction (their owner set them up). */
  readonly regs?: Int32Array;
  /** The bare, S and U TLBs' arrays (jit/wasm-arena.ts: where the wasm block tier probes them), in that order. */
  readonly tlbs?: readonly TlbArrays[];
  readonly csr?: CsrStorage;
}

/** How a hart is configured (beyond its board and storage). */
export interface HartOptions {
  /** Run hot code as compiled blocks (jit/); default: on unless POPEK_JIT=0 (jit/switch.ts). */
  readonly jit?: boolean;
  /** "swtlb": a software-refilled TLB instead of the Sv39 walker (swtlb.ts); default "sv39". */
  readonly mmu?: MmuMode;
  /** "nonvirt": sstatus/mstatus accesses from U-mode do not trap (isa-variant.ts); default "standard". */
  readonly isaVariant?: IsaVariant;
  /** Implement the H extension (hext.ts); default off, so a plain hart is exactly as before. */
  readonly h?: boolean;
}

/** What a hart needs from the board it sits on. */
export interface HartEnv {
  readonly mem: PhysMem;
  readonly bus: Bus;
  mtime(): number;
  /** The time CSR's value, comparators brought up to date with it (CsrHost.readTime); mtime() if absent. */
  readTime?(): number;
}

const TWO_32 = 4294967296;

/**
 * Zero as a double (-0 is not a small integer). The numeric fields the hot
 * paths write start with it, so V8 stores them as doubles from the first
 * instruction: a field that starts as a small integer and later receives a
 * larger value (an ASID key past 2^30, a 64-bit word's high half, instret
 * past 2^30) changes the Hart's hidden class mid-run, which deoptimised
 * runSlice, the slow paths and every compiled block at once (~150 deopts in
 * a Linux boot).
 */
const AS_DOUBLE = -0;

export class Hart implements CsrHost, JitHost {
  /** Integer registers as (lo, hi) int32 pairs, plus the x0 sink at 64..65. */
  readonly x: Int32Array;
  /** When set, exceptions go to this handler instead of the hart's trap vector. */
  hostTraps: HostTrapHandler | undefined;
  pc = AS_DOUBLE;
  readonly csr: CsrFile;
  /** Instructions retired before the current slice. */
  instret = AS_DOUBLE;
  /** Instructions retired so far in the current slice (kept current before CSR reads). */
  sliceCount = 0;
  /** Stopped in wfi until an interrupt is pending. */
  wfi = false;
  /** Something wants the current slice to end (finisher write, a CSR write that made an interrupt takeable). */
  stop = false;
  /** Whether hot code runs as compiled blocks (jit/): HartOptions.jit; tests flip it. */
  jit: boolean;
  /** --isa-variant nonvirt: the register forms of sstatus/mstatus access run in U-mode without trapping. */
  readonly nonvirt: boolean;

  // ---- translation state the hot loop reads ----
  fetchTlb: Tlb;
  loadTlb: Tlb;
  storeTlb: Tlb;
  /** asid * 2^27 for the fetch / data contexts, 0 when bare. */
  fetchKey = AS_DOUBLE;
  dataKey = AS_DOUBLE;
  /** The decoded page the loop fetches from, and the virtual address of its first byte (NaN: none). */
  fetchDecoded: Int32Array;
  fetchBase = Number.NaN;
  /** RAM offset of the frame behind fetchBase. */
  fetchFrame = AS_DOUBLE;
  /**
   * While runSlice runs: the virtual address its page offset counts from
   * (pc = sliceBase[0] + offset). A cell rather than a field or a local: the
   * loop's slow paths take the offset (an int32) and add this themselves,
   * so the loop never boxes a pc above 2^31 to call them.
   */
  readonly sliceBase = new Float64Array(1);

  // ---- results of slow-path loads ----
  valueLo = AS_DOUBLE;
  valueHi = AS_DOUBLE;

  // ---- LR/SC reservation: RAM offset and the value LR saw (SC is a compare-and-swap against it) ----
  reservation = -1;
  reservedLo = AS_DOUBLE;
  reservedHi = AS_DOUBLE;

  /** --mmu swtlb: the software-refilled TLB (swtlb.ts); undefined with the Sv39 walker. */
  readonly soft: SoftTlb | undefined;
  /** The TLB-write CSRs' host side (CsrHost.softTlb), present with `soft`. */
  readonly softTlb: SoftTlbHost | undefined;
  /** The H extension (HartOptions.h): its state and slow paths; undefined on a hart without it. */
  readonly hext: Hext | undefined;

  /** The Debug spec's dcsr (dcsr.ts): set by an attached debugger, read only by ebreak and between slices. */
  readonly debug = new HartDebug();

  /** Counters for --stats and tests. */
  readonly counters = { traps: 0, interrupts: 0, tlbMisses: 0, mmioReads: 0, mmioWrites: 0 };

  readonly bareTlb: Tlb;
  private readonly sTlbs: readonly [Tlb, Tlb, Tlb];
  private readonly uTlbs: readonly [Tlb, Tlb, Tlb];
  private lastSumMxr = 0;
  /** Where a walk (or a soft TLB hit) leaves its result. */
  readonly walkOut: Translation = { pa: 0, global: false, writable: false, spanShift: 0 };
  /** Where mmioLoad leaves a device load's value (low, high word). */
  private readonly mmioValue = new Int32Array(2);
  /** A cross-page 32-bit instruction is decoded here each time instead of being cached. */
  private readonly scratchDecoded = new Int32Array(DECODED_PAGE_WORDS);

  constructor(
    readonly hartId: number,
    readonly env: HartEnv,
    storage: HartStorage = {},
    options: HartOptions = {},
  ) {
    const tlb = (k: number): Tlb => new Tlb(storage.tlbs?.[k]);
    this.bareTlb = tlb(0);
    this.sTlbs = [tlb(1), tlb(2), tlb(3)];
    this.uTlbs = [tlb(4), tlb(5), tlb(6)];
    this.jit = options.jit ?? jitByEnvironment();
    this.nonvirt = options.isaVariant === "nonvirt";
    this.soft = options.mmu === "swtlb" ? new SoftTlb() : undefined;
    this.softTlb = this.soft !== undefined ? softTlbHost(this, this.soft) : undefined;
    if (options.h === true && this.soft !== undefined) throw new RangeError("hart: the H extension needs the Sv39 walker, not --mmu swtlb");
    this.hext = options.h === true ? new Hext(this) : undefined;
    this.x = storage.regs ?? new Int32Array(REGISTER_WORDS);
    if (this.x.length < REGISTER_WORDS) throw new RangeError(`hart: register storage needs ${REGISTER_WORDS} int32 words`);
    this.csr = new CsrFile(hartId, this, storage.csr);
    this.fetchTlb = this.loadTlb = this.storeTlb = this.bareTlb;
    this.fetchDecoded = this.scratchDecoded;
    const saved = storage.regs?.slice();
    this.reset(0);
    if (saved !== undefined) this.x.set(saved);
  }

  /** Power-on reset: M-mode, pc at `entry`, registers zero. */
  reset(entry: number): void {
    this.x.fill(0);
    this.csr.reset();
    this.pc = entry;
    this.wfi = false;
    this.stop = false;
    this.reservation = -1;
    for (const t of [...this.sTlbs, ...this.uTlbs]) t.flushAll();
    this.translationChanged();
  }

  // ---- register access for loaders, debuggers, tests ----
  getReg(r: number): number {
    return pairToNumber(this.x[2 * r], this.x[2 * r + 1]);
  }
  setReg(r: number, value: number): void {
    if (r === 0) return;
    this.x[2 * r] = loOf(value);
    this.x[2 * r + 1] = hiOf(value);
  }
  getRegBig(r: number): bigint {
    return (BigInt(this.x[2 * r + 1]) << 32n) | BigInt(this.x[2 * r] >>> 0);
  }

  // ---- CsrHost ----
  mtime(): number {
    return this.env.mtime();
  }
  readTime(): number {
    const env = this.env;
    return env.readTime !== undefined ? env.readTime() : env.mtime();
  }
  retired(): number {
    return this.instret + this.sliceCount;
  }

  /**
   * Drops every cached translation: for a host that rewrites the page tables
   * this hart walks (a hypervisor's shadow tables) outside any sfence.vma the
   * hart itself executes.
   */
  flushTlbs(): void {
    for (const t of [...this.sTlbs, ...this.uTlbs]) t.flushAll();
    this.hext?.flushGuest();
    this.fetchBase = Number.NaN;
  }

  /** Re-selects TLBs for the current privilege, MPRV and satp; flushes when SUM/MXR change. */
  translationChanged(): void {
    const c = this.csr;
    // With V=1 mstatus's S fields are the guest's (hext-trap.ts); the host's TLBs follow HS's.
    const status = c.virt === 0 ? c.mstatus : c.lo[CSR_VSSTATUS];
    const sumMxr = status & (R.MSTATUS_SUM | R.MSTATUS_MXR);
    if (sumMxr !== this.lastSumMxr) {
      this.lastSumMxr = sumMxr;
      for (const t of this.sTlbs) t.flushAll();
      for (const t of this.uTlbs) t.flushAll();
    }
    const sv39 = c.hi[R.CSR_SATP] >>> 28 === R.SATP_MODE_SV39;
    const asidKey = ((c.hi[R.CSR_SATP] >>> R.SATP_HI_ASID_SHIFT) & R.SATP_ASID_MASK) * ASID_KEY_STRIDE;
    const fetchPriv = c.priv;
    const dataPriv = this.dataPriv();
    if (!sv39 || fetchPriv === R.PRV_M) {
      this.fetchTlb = this.bareTlb;
      this.fetchKey = 0;
    } else {
      this.fetchTlb = (fetchPriv === R.PRV_S ? this.sTlbs : this.uTlbs)[ACCESS_FETCH];
      this.fetchKey = asidKey;
    }
    if (!sv39 || dataPriv === R.PRV_M) {
      this.loadTlb = this.storeTlb = this.bareTlb;
      this.dataKey = 0;
    } else {
      const set = dataPriv === R.PRV_S ? this.sTlbs : this.uTlbs;
      this.loadTlb = set[ACCESS_LOAD];
      this.storeTlb = set[ACCESS_STORE];
      this.dataKey = asidKey;
    }
    this.fetchBase = Number.NaN;
    if (this.hext !== undefined) this.hext.select();
  }

  /** Privilege loads and stores use: MPP when MPRV is set in M-mode (priv spec 3.1.6.3). */
  private dataPriv(): number {
    const c = this.csr;
    if (c.priv === R.PRV_M && (c.mstatus & R.MSTATUS_MPRV) !== 0) return (c.mstatus & R.MSTATUS_MPP) >>> R.MSTATUS_MPP_SHIFT;
    return c.priv;
  }

  // ---- traps ----

  /**
   * Takes an exception at `pc`; the loop continues at this.pc. Always returns
   * false (the access did not happen). w0/imm: the trapping instruction's
   * predecoded words, for a host handler (HostTrapHandler.trap), or 0.
   */
  raise(cause: number, tval: number, pc: number, w0 = 0, imm = 0): false {
    const host = this.hostTraps;
    if (host !== undefined || this.hext !== undefined) return this.raisePair(cause, loOf(tval), hiOf(tval), loOf(pc), hiOf(pc), w0, imm);
    this.counters.traps++;
    this.pc = enterTrap(this.csr, cause, false, tval, pc);
    return false;
  }

  /** raise, with tval and pc as exact 64-bit pairs (for wild addresses, u64.ts). */
  raisePair(cause: number, tvalLo: number, tvalHi: number, pcLo: number, pcHi: number, w0 = 0, imm = 0): false {
    this.counters.traps++;
    const host = this.hostTraps;
    // With H, what the guest's own vector takes (delegated to VS) stays in the hart: no host exit.
    if (host !== undefined && (this.hext === undefined || !this.hext.staysInGuest(cause))) {
      this.pc = pairToNumber(pcLo, pcHi);
      if (!host.trap(this, cause, tvalLo, tvalHi, pcLo, pcHi, w0, imm)) this.stop = true;
      return false;
    }
    this.pc = this.hext !== undefined ? this.hext.enterTrap(cause, false, tvalLo, tvalHi, pcLo, pcHi) : enterTrapPair(this.csr, cause, false, tvalLo, tvalHi, pcLo, pcHi);
    return false;
  }

  /**
   * A fault of a load or store (access or misaligned) at byte `k` of the
   * access at (lo, hi): xtval is that byte's address, exactly ("the portion
   * of the access that caused the fault", as mmio-access.ts reports it).
   */
  private accessFault(cause: number, lo: number, hi: number, k: number, pc: number): false {
    const tlo = (lo + k) | 0;
    const thi = (hi + (tlo >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
    return this.raisePair(cause, tlo, thi, loOf(pc), hiOf(pc));
  }

  /**
   * A jump (jalr, mret, sret) to an address pc cannot hold (beyond 2^53,
   * u64.ts): such an address names no memory, so the fetch there faults —
   * taken at once, with xepc = xtval = the exact target. An access fault
   * when fetches are untranslated, else a page fault (no Sv39 address is
   * that large: it is not canonical).
   */
  wildFetch(lo: number, hi: number): false {
    const cause = this.fetchTlb === this.bareTlb ? R.CAUSE_FETCH_ACCESS : R.CAUSE_FETCH_PAGE_FAULT;
    return this.raisePair(cause, lo, hi, lo, hi);
  }

  /** An illegal-instruction exception with the instruction's bits in xtval; w0/imm its predecoded words (or 0). */
  illegal(pc: number, w0 = 0, imm = 0): false {
    return this.raise(R.CAUSE_ILLEGAL_INSTRUCTION, this.instructionBits(pc), pc, w0, imm);
  }

  /** Takes a pending, enabled interrupt if there is one (at a slice boundary). */
  takeInterrupt(): boolean {
    const c = this.csr;
    c.updateStimecmp();
    const irq = this.pendingIrq();
    if (irq < 0) return false;
    this.counters.interrupts++;
    this.wfi = false;
    this.pc = this.hext !== undefined ? this.hext.enterTrap(irq, true, 0, 0, loOf(this.pc), hiOf(this.pc)) : enterTrap(c, irq, true, 0, this.pc);
    return true;
  }

  /** The interrupt the hart must take now, or -1 (trap.ts; hext-trap.ts with H). */
  pendingIrq(): number {
    return this.hext !== undefined ? this.hext.pendingInterrupt() : pendingInterrupt(this.csr);
  }

  /** Whether a wfi should end: any interrupt pending and enabled in mie, whatever the global enables (priv spec 3.3.3). */
  interruptPending(): boolean {
    this.csr.updateStimecmp();
    return (this.csr.mip & this.csr.mie) !== 0;
  }

  // ---- translation slow path ----

  /**
   * Translates a virtual address for an access, filling the matching TLB when
   * the frame is RAM. Returns the physical address, or -1 after raising the
   * fault (page fault or access fault) at `pc`.
   */
  translate(vaLo: number, vaHi: number, access: Access, pc: number): number {
    this.counters.tlbMisses++;
    if (this.hext !== undefined && this.hext.translates(access)) return this.hext.translate(vaLo, vaHi, access, pc);
    const c = this.csr;
    const priv = access === ACCESS_FETCH ? c.priv : this.dataPriv();
    const sv39 = c.hi[R.CSR_SATP] >>> 28 === R.SATP_MODE_SV39;
    const va = pairToNumber(vaLo, vaHi);
    let pa: number;
    let global = true;
    let writable = true;
    let spanShift = 0;
    if (!sv39 || priv === R.PRV_M) {
      // Untranslated: a physical address with bit 63 set (negative here) names nothing, and -1 would mean "already raised".
      if (va < 0) {
        this.raisePair(accessFaultCause(access), vaLo, vaHi, loOf(pc), hiOf(pc));
        return -1;
      }
      pa = va;
    } else {
      const rootPpn = (c.hi[R.CSR_SATP] & R.SATP_HI_PPN_MASK) * TWO_32 + (c.lo[R.CSR_SATP] >>> 0);
      const ctx = { rootPpn, priv, sum: (c.mstatus & R.MSTATUS_SUM) !== 0, mxr: (c.mstatus & R.MSTATUS_MXR) !== 0 };
      const cause = this.soft === undefined ? walkSv39(this.env.mem, ctx, vaLo, vaHi, access, this.walkOut) : translateSoft(this, this.soft, ctx, vaLo, vaHi, access);
      if (cause !== 0) {
        this.raisePair(cause, vaLo, vaHi, loOf(pc), hiOf(pc));
        return -1;
      }
      pa = this.walkOut.pa;
      global = this.walkOut.global;
      writable = this.walkOut.writable;
      spanShift = this.walkOut.spanShift;
    }
    const off = this.env.mem.offsetOf(pa);
    if (off >= 0 && (access !== ACCESS_STORE || writable) && ((vaHi << 25) >> 25) === vaHi) {
      const tlb = access === ACCESS_FETCH ? this.fetchTlb : access === ACCESS_LOAD ? this.loadTlb : this.storeTlb;
      const key = access === ACCESS_FETCH ? this.fetchKey : this.dataKey;
      const vpn = ((vaHi & 0x7f) << 20) | (vaLo >>> 12);
      tlb.fill(vpn, key / ASID_KEY_STRIDE, global, off - (off % PAGE_SIZE), spanShift);
    }
    return pa;
  }

  /** Points the loop's fetch page at the page holding pc; false after a fetch fault. */
  fetchPage(pc: number): boolean {
    const lo = pc | 0;
    const hi = Math.floor(pc / TWO_32) | 0;
    const t = this.fetchTlb;
    const vpn = ((hi & 0x7f) << 20) | (lo >>> 12);
    const i = vpn & TLB_MASK;
    let frame: number;
    if (((hi << 25) >> 25) === hi && t.key[i] === vpn + this.fetchKey) {
      frame = t.ramOffset[i];
    } else {
      const pa = this.translate(lo, hi, ACCESS_FETCH, pc);
      if (pa < 0) return false;
      const off = this.env.mem.offsetOf(pa);
      if (off < 0) return this.raise(R.CAUSE_FETCH_ACCESS, pc, pc);
      frame = off - (off % PAGE_SIZE);
    }
    const inPage = lo & (PAGE_SIZE - 1);
    this.fetchBase = pc - inPage;
    this.fetchFrame = frame;
    if (inPage === PAGE_SIZE - 2 && (this.env.mem.u16[(frame + inPage) >>> 1] & 3) === 3) {
      return this.decodeCrossPage(pc, frame + inPage);
    }
    this.fetchDecoded = this.env.mem.decodedPage(frame / PAGE_SIZE);
    return true;
  }

  /** Decodes the not-yet-decoded instruction at pc (once per address: the result is cached in its page). */
  decodeAt(pc: number): boolean {
    if (!this.fetchPage(pc)) return false;
    if (this.fetchDecoded === this.scratchDecoded) return true;
    const inPage = (pc | 0) & (PAGE_SIZE - 1);
    const u16 = this.env.mem.u16;
    const at = (this.fetchFrame + inPage) >>> 1;
    const half = u16[at];
    const inst = (half & 3) === 3 ? half | (u16[at + 1] << 16) : half;
    decodeInto(inst, this.fetchDecoded, inPage);
    return true;
  }

  /** A 32-bit instruction straddling two pages: fetch its upper half through translation and decode it into scratch. */
  private decodeCrossPage(pc: number, lowOff: number): boolean {
    const next = pc + 2;
    const pa = this.translate(next | 0, Math.floor(next / TWO_32) | 0, ACCESS_FETCH, pc);
    if (pa < 0) return false;
    const off = this.env.mem.offsetOf(pa);
    if (off < 0) return this.raise(R.CAUSE_FETCH_ACCESS, next, pc);
    const inst = this.env.mem.u16[lowOff >>> 1] | (this.env.mem.u16[off >>> 1] << 16);
    this.scratchDecoded.fill(0);
    decodeInto(inst, this.scratchDecoded, PAGE_SIZE - 2);
    this.fetchDecoded = this.scratchDecoded;
    this.fetchBase = pc - (PAGE_SIZE - 2);
    return true;
  }

  /** The raw bits of the instruction at pc (for xtval on illegal instruction); 0 if it cannot be read. */
  instructionBits(pc: number): number {
    const mem = this.env.mem;
    // Fast path: the instruction was just fetched from the current fetch page (not a cross-page one).
    const inPage = pc - this.fetchBase;
    if (inPage >= 0 && inPage < PAGE_SIZE - 2 && this.fetchDecoded !== this.scratchDecoded) {
      const at = (this.fetchFrame + inPage) >>> 1;
      const low = mem.u16[at];
      return (low & 3) !== 3 ? low : (low | (mem.u16[at + 1] << 16)) >>> 0;
    }
    const low = this.fetchHalf(pc);
    if (low < 0) return 0;
    if ((low & 3) !== 3) return low;
    const high = this.fetchHalf(pc + 2);
    return high < 0 ? 0 : (low | (high << 16)) >>> 0;
  }

  /** A 16-bit instruction parcel at a virtual address, translated without side effects; -1 if unreadable. */
  private fetchHalf(va: number): number {
    const mem = this.env.mem;
    const c = this.csr;
    if (this.hext !== undefined && c.virt !== 0) return this.hext.fetchHalf(va);
    let pa = va;
    if (c.priv !== R.PRV_M && c.hi[R.CSR_SATP] >>> 28 === R.SATP_MODE_SV39) {
      const ctx = {
        rootPpn: (c.hi[R.CSR_SATP] & R.SATP_HI_PPN_MASK) * TWO_32 + (c.lo[R.CSR_SATP] >>> 0),
        priv: c.priv,
        sum: false,
        mxr: false,
      };
      const lo = va | 0;
      const hi = Math.floor(va / TWO_32) | 0;
      const miss = this.soft === undefined ? walkSv39(mem, ctx, lo, hi, ACCESS_FETCH, this.walkOut) : translateSoftQuiet(this.soft, c, ctx, lo, hi, this.walkOut);
      if (miss !== 0) return -1;
      pa = this.walkOut.pa;
    }
    const off = mem.offsetOf(pa);
    return off < 0 ? -1 : mem.u16[off >>> 1];
  }

  // ---- loads and stores off the fast path ----

  /** loadAt for the instruction at offset po of runSlice's page (sliceBase). */
  loadHere(rs1: number, imm: number, width: number, po: number): boolean {
    return this.loadAt(rs1, imm, width, this.sliceBase[0] + po);
  }

  /** storeAt for the instruction at offset po of runSlice's page (sliceBase). */
  storeHere(rs1: number, imm: number, width: number, vlo: number, vhi: number, po: number): boolean {
    return this.storeAt(rs1, imm, width, vlo, vhi, this.sliceBase[0] + po);
  }

  /** The loop's slow path for a load from x[rs1] + imm. */
  loadAt(rs1: number, imm: number, width: number, pc: number): boolean {
    const blo = this.x[rs1];
    const lo = (blo + imm) | 0;
    const hi = (this.x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
    return this.loadSlow(lo, hi, width, pc);
  }

  /** The loop's slow path for a store to x[rs1] + imm. */
  storeAt(rs1: number, imm: number, width: number, vlo: number, vhi: number, pc: number): boolean {
    const blo = this.x[rs1];
    const lo = (blo + imm) | 0;
    const hi = (this.x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
    return this.storeSlow(lo, hi, width, vlo, vhi, pc);
  }

  /**
   * Loads `width` bytes (misaligned, MMIO, or TLB miss). Leaves the raw value
   * in valueLo/valueHi (zero-extended); false after raising a fault. A
   * misaligned access is one access (no misaligned exception, as on QEMU):
   * in RAM, its bytes; on devices, mmio-access.ts's pieces. One that
   * crosses a page has both halves translated before anything is read.
   */
  loadSlow(lo: number, hi: number, width: number, pc: number): boolean {
    const pa = this.translate(lo, hi, ACCESS_LOAD, pc);
    if (pa < 0) return false;
    const mem = this.env.mem;
    const split = PAGE_SIZE - (lo & (PAGE_SIZE - 1));
    if (split >= width) {
      const off = mem.offsetOf(pa);
      if (off < 0) return this.loadMmio(lo, hi, pa, pa + width, width, width, pc);
      if ((lo & (width - 1)) === 0) this.readRam(off, width);
      else this.readRamBytes(off, off + width, width, width);
      return true;
    }
    const nlo = (lo + split) | 0;
    const nhi = (hi + (nlo >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
    const paNext = this.translate(nlo, nhi, ACCESS_LOAD, pc);
    if (paNext < 0) return false;
    const off = mem.offsetOf(pa);
    const offNext = mem.offsetOf(paNext);
    if (off < 0 || offNext < 0) return this.loadMmio(lo, hi, pa, paNext, split, width, pc);
    this.readRamBytes(off, offNext, split, width);
    return true;
  }

  private readRam(off: number, width: number): void {
    const mem = this.env.mem;
    switch (width) {
      case 1: this.valueLo = mem.u8[off]; this.valueHi = 0; break;
      case 2: this.valueLo = mem.u16[off >>> 1]; this.valueHi = 0; break;
      case 4: this.valueLo = mem.i32[off >>> 2]; this.valueHi = 0; break;
      default: this.valueLo = mem.i32[off >>> 2]; this.valueHi = mem.i32[(off >>> 2) + 1];
    }
  }

  /** A misaligned load from RAM, byte by byte: bytes [0, split) at offset off, the rest at offNext. */
  private readRamBytes(off: number, offNext: number, split: number, width: number): void {
    const u8 = this.env.mem.u8;
    let vlo = 0;
    let vhi = 0;
    for (let k = 0; k < width; k++) {
      const b = u8[k < split ? off + k : offNext + (k - split)];
      if (k < 4) vlo |= b << (8 * k);
      else vhi |= b << (8 * (k - 4));
    }
    this.valueLo = vlo;
    this.valueHi = vhi;
  }

  /** A load from device memory (bytes [0, split) at pa, the rest at paNext): the shared rule of mmio-access.ts. */
  private loadMmio(lo: number, hi: number, pa: number, paNext: number, split: number, width: number, pc: number): boolean {
    this.counters.mmioReads++;
    const bad = mmioLoad(this.env.bus, pa, width, this.mmioValue, paNext, split);
    if (bad !== MMIO_OK) return this.accessFault(R.CAUSE_LOAD_ACCESS, lo, hi, bad, pc);
    this.valueLo = this.mmioValue[0];
    this.valueHi = this.mmioValue[1];
    return true;
  }

  /** Stores `width` bytes off the fast path (the same cases as loadSlow); false after raising a fault. */
  storeSlow(lo: number, hi: number, width: number, vlo: number, vhi: number, pc: number): boolean {
    const pa = this.translate(lo, hi, ACCESS_STORE, pc);
    if (pa < 0) return false;
    const mem = this.env.mem;
    let split = PAGE_SIZE - (lo & (PAGE_SIZE - 1));
    let paNext = pa + width;
    if (split >= width) split = width;
    else {
      const nlo = (lo + split) | 0;
      const nhi = (hi + (nlo >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
      paNext = this.translate(nlo, nhi, ACCESS_STORE, pc);
      if (paNext < 0) return false;
    }
    const off = mem.offsetOf(pa);
    const offNext = split === width ? off + width : mem.offsetOf(paNext);
    if (off >= 0 && offNext >= 0) {
      if (split === width && (lo & (width - 1)) === 0) this.writeRam(off, width, vlo, vhi);
      else this.writeRamBytes(off, offNext, split, width, vlo, vhi);
      return true;
    }
    this.counters.mmioWrites++;
    const bad = mmioStore(this.env.bus, pa, width, vlo, vhi, paNext, split);
    if (bad !== MMIO_OK) return this.accessFault(R.CAUSE_STORE_ACCESS, lo, hi, bad, pc);
    this.stop = true; // a device may have changed interrupt lines or stopped the machine
    return true;
  }

  private writeRam(off: number, width: number, vlo: number, vhi: number): void {
    const mem = this.env.mem;
    switch (width) {
      case 1: mem.u8[off] = vlo; break;
      case 2: mem.u16[off >>> 1] = vlo; break;
      case 4: mem.i32[off >>> 2] = vlo; break;
      default: mem.i32[off >>> 2] = vlo; mem.i32[(off >>> 2) + 1] = vhi;
    }
    if (mem.codeMap[off >>> 12] !== 0) mem.invalidateCode(off, width);
  }

  /** A misaligned store to RAM, byte by byte: bytes [0, split) at offset off, the rest at offNext. */
  private writeRamBytes(off: number, offNext: number, split: number, width: number, vlo: number, vhi: number): void {
    const mem = this.env.mem;
    for (let k = 0; k < width; k++) {
      const at = k < split ? off + k : offNext + (k - split);
      mem.u8[at] = (k < 4 ? vlo >>> (8 * k) : vhi >>> (8 * (k - 4))) & 0xff;
      if (mem.codeMap[at >>> 12] !== 0) mem.invalidateCode(at, 1);
    }
  }

  // ---- atomics (A extension): RAM only, naturally aligned, atomic across threads ----

  /** RAM offset for an atomic access, or -1 after raising (misaligned → store/AMO misaligned; not RAM → access fault). */
  private atomicOffset(lo: number, hi: number, width: number, pc: number, access: Access): number {
    if ((lo & (width - 1)) !== 0) {
      this.accessFault(access === ACCESS_LOAD ? R.CAUSE_MISALIGNED_LOAD : R.CAUSE_MISALIGNED_STORE, lo, hi, 0, pc);
      return -1;
    }
    const pa = this.translate(lo, hi, access, pc);
    if (pa < 0) return -1;
    const off = this.env.mem.offsetOf(pa);
    if (off < 0) {
      this.accessFault(accessFaultCause(access), lo, hi, 0, pc);
      return -1;
    }
    return off;
  }

  /** lr.w / lr.d: loads and registers a reservation. */
  loadReserved(lo: number, hi: number, width: number, pc: number): boolean {
    const off = this.atomicOffset(lo, hi, width, pc, ACCESS_LOAD);
    if (off < 0) return false;
    const mem = this.env.mem;
    if (width === 4) {
      this.valueLo = Atomics.load(mem.i32, off >>> 2);
      this.valueHi = 0;
    } else {
      const v = Atomics.load(mem.i64, off >>> 3);
      this.valueLo = Number(BigInt.asIntN(32, v));
      this.valueHi = Number(BigInt.asIntN(32, v >> 32n));
    }
    this.reservation = off;
    this.reservedLo = this.valueLo;
    this.reservedHi = this.valueHi;
    return true;
  }

  /**
   * sc.w / sc.d: succeeds (valueLo = 0) if the reservation is ours and memory
   * still holds what lr saw — a compare-and-swap, as QEMU implements it, so it
   * stays correct with harts in parallel threads. valueLo = 1 on failure.
   */
  storeConditional(lo: number, hi: number, width: number, vlo: number, vhi: number, pc: number): boolean {
    const off = this.atomicOffset(lo, hi, width, pc, ACCESS_STORE);
    if (off < 0) return false;
    const mem = this.env.mem;
    let ok = false;
    if (off === this.reservation) {
      if (width === 4) {
        ok = Atomics.compareExchange(mem.i32, off >>> 2, this.reservedLo, vlo) === this.reservedLo;
      } else {
        const expected = (BigInt(this.reservedHi) << 32n) | BigInt(this.reservedLo >>> 0);
        const replacement = (BigInt(vhi) << 32n) | BigInt(vlo >>> 0);
        ok = Atomics.compareExchange(mem.i64, off >>> 3, expected, replacement) === expected;
      }
      if (ok && mem.codeMap[off >>> 12] !== 0) mem.invalidateCode(off, width);
    }
    this.reservation = -1;
    this.valueLo = ok ? 0 : 1;
    this.valueHi = 0;
    return true;
  }

  /**
   * An AMO: op is the amo's index (0 swap, 1 add, 2 xor, 3 and, 4 or, 5 min, 6 max, 7 minu, 8 maxu).
   * Leaves the old value in valueLo/valueHi.
   */
  amo(kind: number, lo: number, hi: number, width: number, vlo: number, vhi: number, pc: number): boolean {
    const off = this.atomicOffset(lo, hi, width, pc, ACCESS_STORE);
    if (off < 0) return false;
    const mem = this.env.mem;
    if (width === 4) {
      const i = off >>> 2;
      let old: number;
      switch (kind) {
        case 0: old = Atomics.exchange(mem.i32, i, vlo); break;
        case 1: old = Atomics.add(mem.i32, i, vlo); break;
        case 2: old = Atomics.xor(mem.i32, i, vlo); break;
        case 3: old = Atomics.and(mem.i32, i, vlo); break;
        case 4: old = Atomics.or(mem.i32, i, vlo); break;
        default:
          for (;;) {
            old = Atomics.load(mem.i32, i);
            const next = amoMinMax32(kind, old, vlo);
            if (Atomics.compareExchange(mem.i32, i, old, next) === old) break;
          }
      }
      this.valueLo = old;
      this.valueHi = old >> 31;
    } else {
      const i = off >>> 3;
      const v = (BigInt(vhi) << 32n) | BigInt(vlo >>> 0);
      let old: bigint;
      switch (kind) {
        case 0: old = Atomics.exchange(mem.i64, i, v); break;
        case 1: old = Atomics.add(mem.i64, i, v); break;
        case 2: old = Atomics.xor(mem.i64, i, v); break;
        case 3: old = Atomics.and(mem.i64, i, v); break;
        case 4: old = Atomics.or(mem.i64, i, v); break;
        default:
          for (;;) {
            old = Atomics.load(mem.i64, i);
            const next = amoMinMax64(kind, old, v);
            if (Atomics.compareExchange(mem.i64, i, old, next) === old) break;
          }
      }
      this.valueLo = Number(BigInt.asIntN(32, old));
      this.valueHi = Number(BigInt.asIntN(32, old >> 32n));
    }
    if (mem.codeMap[off >>> 12] !== 0) mem.invalidateCode(off, width);
    return true;
  }

  // ---- system instructions ----

  /** csrrw/csrrs/csrrc and their immediate forms (Zicsr): kind 0 rw, 1 rs, 2 rc. */
  /**
   * A CSR instruction (predecoded words w0, imm) at pc; returns the next pc,
   * or this.pc after raising illegal instruction.
   */
  csrInstruction(kind: number, immediate: boolean, w0: number, imm: number, pc: number, len: number): number {
    const csrNum = imm & 0xfff;
    // The privilege check first (bits 9:8 of the number, priv spec 2.1): under a hypervisor nearly
    // every guest CSR access fails it, and it needs no table lookup.
    if (this.csr.priv < ((csrNum >>> 8) & 3)) {
      // The non-virtualizable variant: sensitive, yet no trap for the host to see (isa-variant.ts).
      if (this.nonvirt && !immediate && this.csr.priv === R.PRV_U && isNonvirtCsr(csrNum)) {
        executeNonvirtCsr(this.csr, this.x, (w0 >>> 8) & 0xff, csrNum);
        return pc + len;
      }
      if (this.hext !== undefined) return this.hext.csrInstruction(kind, immediate, w0, imm, pc, len);
      const host = this.hostTraps;
      const next = host?.csrAccess === undefined ? -1 : host.csrAccess(this, w0, imm, pc);
      // -1, not any negative number: a pc in the upper half (a kernel's, under guest paging) is negative here.
      return next !== -1 ? next : this.illegalAt(pc, w0, imm);
    }
    const result = executeCsrInstruction(this.csr, this.x, kind, immediate, (w0 >>> 8) & 0xff, (w0 >>> 16) & 0xff, csrNum);
    if (result === CSR_ILLEGAL) return this.hext !== undefined ? this.hext.csrFault(kind, w0, imm, pc) : this.illegalAt(pc, w0, imm);
    // End the slice only when the write made an interrupt takeable (the runner takes it between
    // slices). Ending it on every such write starved a hart whose kernel toggles sstatus.SIE for
    // each lock while other harts spin: a few instructions per round against their full slices.
    if (result === CSR_WROTE && csrAffectsInterrupts(csrNum) && this.pendingIrq() >= 0) this.stop = true;
    return pc + len;
  }

  /**
   * Raises illegal instruction at pc; returns where the loop goes on. Out of
   * line, so the trap path's code is not inlined into the hot CSR path.
   */
  private illegalAt(pc: number, w0: number, imm: number): number {
    this.illegal(pc, w0, imm);
    return this.pc;
  }

  /** ecall: environment call from the current privilege (causes 8, 9, 11). */
  ecall(pc: number): false {
    const c = this.csr;
    return this.raise(c.virt !== 0 && c.priv === R.PRV_S ? CAUSE_ECALL_VS : R.CAUSE_ECALL_U + c.priv, 0, pc);
  }

  /** mret: M-mode only. Returns false after raising illegal instruction (w0/imm: its predecoded words). */
  mret(pc: number, w0 = 0, imm = 0): boolean {
    if (this.csr.priv !== R.PRV_M) return this.illegal(pc, w0, imm);
    this.pc = this.hext !== undefined ? this.hext.mret() : mret(this.csr);
    this.stop = true;
    return this.checkWildReturn(R.CSR_MEPC);
  }

  /** sret: S or M; illegal in S when mstatus.TSR is set (priv spec 3.1.6.5). */
  sret(pc: number, w0 = 0, imm = 0): boolean {
    const c = this.csr;
    let epc: number = R.CSR_SEPC;
    if (this.hext !== undefined) {
      epc = this.hext.sret(pc, w0, imm);
      if (epc < 0) return false;
    } else {
      if (c.priv === R.PRV_U || (c.priv === R.PRV_S && (c.mstatus & R.MSTATUS_TSR) !== 0)) return this.illegal(pc, w0, imm);
      this.pc = sret(c);
    }
    this.stop = true;
    return this.checkWildReturn(epc);
  }

  /** After xret to the address in `epc`: a wild one faults at once (wildFetch). True when it did not. */
  private checkWildReturn(epc: number): boolean {
    const lo = this.csr.lo[epc];
    const hi = this.csr.hi[epc];
    return isExactPair(lo, hi) || this.wildFetch(lo, hi);
  }

  /** wfi: illegal in U, and in S when mstatus.TW is set; otherwise waits unless an interrupt is pending. */
  waitForInterrupt(pc: number, w0 = 0, imm = 0): boolean {
    const c = this.csr;
    if (this.hext !== undefined) {
      if (!this.hext.wfiAllowed(pc, w0, imm)) return false;
    } else if (c.priv === R.PRV_U || (c.priv === R.PRV_S && (c.mstatus & R.MSTATUS_TW) !== 0)) return this.illegal(pc, w0, imm);
    if (!this.interruptPending()) this.wfi = true;
    this.stop = true;
    return true;
  }

  /** sfence.vma rs1, rs2 (priv spec 4.2.1): illegal in U and in S with TVM. */
  sfenceVma(rs1: number, rs2: number, pc: number, w0 = 0, imm = 0): boolean {
    const c = this.csr;
    if (this.hext !== undefined && c.virt !== 0) return this.hext.sfenceVmaVirtual(rs1, rs2, pc, w0, imm);
    if (c.priv === R.PRV_U || (c.priv === R.PRV_S && (c.mstatus & R.MSTATUS_TVM) !== 0)) return this.illegal(pc, w0, imm);
    const tlbs = [...this.sTlbs, ...this.uTlbs];
    const x = this.x;
    const vpn = rs1 === 0 ? -1 : ((x[rs1 + 1] & 0x7f) << 20) | (x[rs1] >>> 12);
    const asid = rs2 === 0 ? -1 : x[rs2] & R.SATP_ASID_MASK;
    for (const t of tlbs) {
      if (vpn < 0 && asid < 0) t.flushAll();
      else if (asid < 0) t.flushPage(vpn);
      else if (vpn < 0) t.flushAsid(asid);
      else t.flushPageAsid(vpn, asid);
    }
    this.fetchBase = Number.NaN;
    return true;
  }

  /** Drops cached translations (the fast TLBs) of one page under every ASID: a soft TLB entry changed. */
  dropCachedPage(vpn: number): void {
    for (const t of this.sTlbs) t.flushPage(vpn);
    for (const t of this.uTlbs) t.flushPage(vpn);
    this.fetchBase = Number.NaN;
  }

  /** Drops every cached translation: the soft TLB was emptied. */
  dropCachedAll(): void {
    for (const t of this.sTlbs) t.flushAll();
    for (const t of this.uTlbs) t.flushAll();
    this.fetchBase = Number.NaN;
  }

  /** fence.i: forget decoded instructions (PhysMem.fenceI: nothing to do where writes forget them already). */
  fenceI(): void {
    this.env.mem.fenceI();
    this.fetchBase = Number.NaN;
  }
}

function amoMinMax32(kind: number, a: number, b: number): number {
  switch (kind) {
    case 5: return a < b ? a : b;
    case 6: return a > b ? a : b;
    case 7: return a >>> 0 < b >>> 0 ? a : b;
    default: return a >>> 0 > b >>> 0 ? a : b;
  }
}

function amoMinMax64(kind: number, a: bigint, b: bigint): bigint {
  switch (kind) {
    case 5: return a < b ? a : b;
    case 6: return a > b ? a : b;
    case 7: return BigInt.asUintN(64, a) < BigInt.asUintN(64, b) ? a : b;
    default: return BigInt.asUintN(64, a) > BigInt.asUintN(64, b) ? a : b;
  }
}
