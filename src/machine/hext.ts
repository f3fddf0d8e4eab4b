/*
 * The H extension on a hart (priv spec, H chapter): the hart-side state and
 * the slow paths H adds — two-stage translation and its TLBs, the trap
 * entry that knows V, HLV/HLVX/HSV, HFENCE, the hypervisor CSRs' access rule
 * from HS-mode, and virtual-instruction exceptions. The Hart calls in here
 * only from its slow paths (TLB misses, traps, system instructions), so a
 * hart without H runs exactly as before; one with H pays only there.
 *
 * TLBs: translations made with V=1 (and by M-mode loads under MPRV with
 * MPV=1) are cached in their own TLB sets, never in the host's, keyed by the
 * guest's ASID. Anything that changes the G-stage (hgatp, including its
 * VMID, or HFENCE.GVMA) or the guest's vsatp mode empties them.
 */

import { CSR_ILLEGAL, CSR_WROTE, CsrFile, csrAffectsInterrupts, executeCsrInstruction, type HextCsrHost } from "./csr.ts";
import * as R from "./riscv.ts";
import * as H from "./hext-defs.ts";
import { ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE, type Access, type Translation } from "./mmu.ts";
import { GStagePteReader, walkTwoStage, type TwoStageFault } from "./mmu-gstage.ts";
import { ASID_KEY_STRIDE, Tlb } from "./tlb.ts";
import { enterTrapH, exceptionGoesToVs, pendingInterruptH, setVirt } from "./hext-trap.ts";
import { mret, sret } from "./trap.ts";
import { PAGE_SIZE } from "./memlayout.ts";
import { hiOf, loOf } from "./u64.ts";
import "./hext-csr.ts";
import type { PhysMem } from "./physmem.ts";

/** What of the hart this file uses (the Hart class, named structurally: hart.ts imports this file). */
interface HextOwner {
  readonly csr: CsrFile;
  readonly x: Int32Array;
  readonly env: { readonly mem: PhysMem };
  readonly walkOut: Translation;
  fetchTlb: Tlb;
  loadTlb: Tlb;
  storeTlb: Tlb;
  fetchKey: number;
  dataKey: number;
  fetchBase: number;
  stop: boolean;
  pc: number;
  valueLo: number;
  valueHi: number;
  translationChanged(): void;
  raise(cause: number, tval: number, pc: number, w0?: number, imm?: number): false;
  raisePair(cause: number, tvalLo: number, tvalHi: number, pcLo: number, pcHi: number, w0?: number, imm?: number): false;
  illegal(pc: number, w0?: number, imm?: number): false;
  instructionBits(pc: number): number;
  loadSlow(lo: number, hi: number, width: number, pc: number): boolean;
  storeSlow(lo: number, hi: number, width: number, vlo: number, vhi: number, pc: number): boolean;
}

const TWO_32 = 4294967296;
/** Op numbers of the H instructions (src/isa/ops.ts): hlv.b .. hlv.d, hlvx.hu, hlvx.wu, hsv.b .. hsv.d, hfence.vvma, hfence.gvma. */
const OP_HLV_B = 100;
const OP_HLVX_HU = 107;
const OP_HSV_B = 109;
const OP_HFENCE_VVMA = 113;
const OP_HFENCE_GVMA = 114;
/** Width and sign extension of hlv.b, hlv.bu, hlv.h, hlv.hu, hlv.w, hlv.wu, hlv.d, hlvx.hu, hlvx.wu. */
const HLV_WIDTH = [1, 1, 2, 2, 4, 4, 8, 2, 4] as const;
const HLV_SIGNED = [true, false, true, false, true, false, true, false, false] as const;

export class Hext implements HextCsrHost {
  private readonly vsTlbs = [new Tlb(), new Tlb(), new Tlb()] as const;
  private readonly vuTlbs = [new Tlb(), new Tlb(), new Tlb()] as const;
  private readonly reader: GStagePteReader;
  /** Where a two-stage walk leaves the faulting guest physical address, for the trap that follows. */
  private readonly fault: TwoStageFault = { gpa: -1 };
  private readonly trapInfo = { gpa: -1, hlv: false };
  /** Set while an HLV/HSV runs: its translation is the guest's, its faults report GVA, and it fills no TLB. */
  private hlv = false;
  private hlvx = false;
  /** What the V TLB sets were filled under (guest SUM/MXR, HS MXR, vsatp mode): a change empties them. */
  private lastGuestKey = -1;

  constructor(private readonly hart: HextOwner) {
    this.reader = new GStagePteReader(hart.env.mem);
  }

  // ---- HextCsrHost ----
  guestTranslationChanged(): void {
    this.flushGuest();
    this.hart.translationChanged();
  }

  /** Empties the V TLB sets. */
  flushGuest(): void {
    for (const t of this.vsTlbs) t.flushAll();
    for (const t of this.vuTlbs) t.flushAll();
    this.hart.fetchBase = Number.NaN;
  }

  /** Whether loads and stores are translated in two stages now: V=1, or M-mode MPRV with MPV=1 (H chapter). */
  private dataVirt(): boolean {
    const c = this.hart.csr;
    if (c.virt !== 0) return true;
    return c.priv === R.PRV_M && (c.mstatus & R.MSTATUS_MPRV) !== 0 && (c.hi[R.CSR_MSTATUS] & H.MSTATUS_HI_MPV) !== 0 &&
      (c.mstatus & R.MSTATUS_MPP) >>> R.MSTATUS_MPP_SHIFT !== R.PRV_M;
  }

  /** The guest's satp (vsatp) words: in the satp slot while V=1, in vsatp's otherwise (hext-trap.ts's swap). */
  private vsatpLo(): number {
    const c = this.hart.csr;
    return c.virt !== 0 ? c.lo[R.CSR_SATP] : c.lo[H.CSR_VSATP];
  }
  private vsatpHi(): number {
    const c = this.hart.csr;
    return c.virt !== 0 ? c.hi[R.CSR_SATP] : c.hi[H.CSR_VSATP];
  }
  /** The guest's sstatus fields and HS's, wherever the swap has put them. */
  private guestStatus(): number {
    const c = this.hart.csr;
    return c.virt !== 0 ? c.mstatus : c.lo[H.CSR_VSSTATUS];
  }
  private hsStatus(): number {
    const c = this.hart.csr;
    return c.virt !== 0 ? c.lo[H.CSR_VSSTATUS] : c.mstatus;
  }

  /**
   * Called at the end of Hart.translationChanged: points the fetch and data
   * TLBs at the V sets where translation is two-stage.
   */
  select(): void {
    const c = this.hart.csr;
    const h = this.hart;
    const key = (this.guestStatus() & (R.MSTATUS_SUM | R.MSTATUS_MXR)) | (this.hsStatus() & R.MSTATUS_MXR ? 1 : 0) | ((this.vsatpHi() >>> 28) << 24);
    if (key !== this.lastGuestKey) {
      this.lastGuestKey = key;
      this.flushGuest();
    }
    const asidKey = ((this.vsatpHi() >>> R.SATP_HI_ASID_SHIFT) & R.SATP_ASID_MASK) * ASID_KEY_STRIDE;
    if (c.virt !== 0) {
      h.fetchTlb = (c.priv === R.PRV_S ? this.vsTlbs : this.vuTlbs)[ACCESS_FETCH];
      h.fetchKey = asidKey;
    }
    if (this.dataVirt()) {
      const priv = c.virt !== 0 ? c.priv : (c.mstatus & R.MSTATUS_MPP) >>> R.MSTATUS_MPP_SHIFT;
      const set = priv === R.PRV_S ? this.vsTlbs : this.vuTlbs;
      h.loadTlb = set[ACCESS_LOAD];
      h.storeTlb = set[ACCESS_STORE];
      h.dataKey = asidKey;
    }
  }

  /** Whether Hart.translate must hand this access to translate() below. */
  translates(access: Access): boolean {
    return this.hlv || (access === ACCESS_FETCH ? this.hart.csr.virt !== 0 : this.dataVirt());
  }

  /**
   * Two-stage translation of a guest virtual address (Hart.translate's slow
   * path with V=1, under MPRV+MPV, or for an HLV/HSV): returns the machine
   * address, or -1 after raising the fault.
   */
  translate(vaLo: number, vaHi: number, access: Access, pc: number): number {
    const h = this.hart;
    const c = h.csr;
    const guest = this.guestStatus();
    const hsMxr = (this.hsStatus() & R.MSTATUS_MXR) !== 0;
    let priv: number;
    if (this.hlv) priv = (c.lo[H.CSR_HSTATUS] & H.HSTATUS_SPVP) !== 0 ? R.PRV_S : R.PRV_U;
    else if (c.virt !== 0) priv = c.priv;
    else priv = (c.mstatus & R.MSTATUS_MPP) >>> R.MSTATUS_MPP_SHIFT;
    const satpHi = this.vsatpHi();
    const sv39 = satpHi >>> 28 === R.SATP_MODE_SV39;
    const rootPpn = sv39 ? (satpHi & R.SATP_HI_PPN_MASK) * TWO_32 + (this.vsatpLo() >>> 0) : -1;
    const vs = { rootPpn, priv, sum: (guest & R.MSTATUS_SUM) !== 0, mxr: (guest & R.MSTATUS_MXR) !== 0 || hsMxr };
    const g = this.reader.g;
    g.bare = c.hi[H.CSR_HGATP] >>> 28 === H.HGATP_MODE_BARE;
    g.rootPpn = (c.hi[H.CSR_HGATP] & R.SATP_HI_PPN_MASK) * TWO_32 + (c.lo[H.CSR_HGATP] >>> 0);
    g.mxr = hsMxr;
    this.fault.gpa = -1;
    const out = h.walkOut;
    const cause = walkTwoStage(this.reader, vs, vaLo, vaHi, access, this.hlvx, out, this.fault);
    if (cause !== 0) {
      this.trapInfo.gpa = this.fault.gpa;
      h.raisePair(cause, vaLo, vaHi, loOf(pc), hiOf(pc));
      return -1;
    }
    const pa = out.pa;
    const off = h.env.mem.offsetOf(pa);
    if (!this.hlv && off >= 0 && (access !== ACCESS_STORE || out.writable) && ((vaHi << 25) >> 25) === vaHi) {
      const tlb = access === ACCESS_FETCH ? h.fetchTlb : access === ACCESS_LOAD ? h.loadTlb : h.storeTlb;
      const key = access === ACCESS_FETCH ? h.fetchKey : h.dataKey;
      const vpn = ((vaHi & 0x7f) << 20) | (vaLo >>> 12);
      tlb.fill(vpn, key / ASID_KEY_STRIDE, out.global, off - (off % PAGE_SIZE), out.spanShift);
    }
    return pa;
  }

  /** A 16-bit parcel at a guest virtual address, for xtval (Hart.instructionBits); -1 when unreadable. No trap, no TLB fill. */
  fetchHalf(va: number): number {
    const h = this.hart;
    const c = h.csr;
    const satpHi = c.hi[R.CSR_SATP];
    const sv39 = satpHi >>> 28 === R.SATP_MODE_SV39;
    const vs = { rootPpn: sv39 ? (satpHi & R.SATP_HI_PPN_MASK) * TWO_32 + (c.lo[R.CSR_SATP] >>> 0) : -1, priv: c.priv, sum: false, mxr: false };
    const g = this.reader.g;
    g.bare = c.hi[H.CSR_HGATP] >>> 28 === H.HGATP_MODE_BARE;
    g.rootPpn = (c.hi[H.CSR_HGATP] & R.SATP_HI_PPN_MASK) * TWO_32 + (c.lo[H.CSR_HGATP] >>> 0);
    g.mxr = false;
    if (walkTwoStage(this.reader, vs, va | 0, Math.floor(va / TWO_32) | 0, ACCESS_FETCH, false, h.walkOut, this.fault) !== 0) return -1;
    const off = h.env.mem.offsetOf(h.walkOut.pa);
    return off < 0 ? -1 : h.env.mem.u16[off >>> 1];
  }

  // ---- traps ----

  /** Trap entry (hext-trap.ts) with the fault's guest physical address and HLV flag; returns the handler's pc. */
  enterTrap(cause: number, interrupt: boolean, tvalLo: number, tvalHi: number, pcLo: number, pcHi: number): number {
    const info = this.trapInfo;
    info.hlv = this.hlv;
    const pc = enterTrapH(this.hart.csr, cause, interrupt, tvalLo, tvalHi, pcLo, pcHi, info);
    info.gpa = -1;
    return pc;
  }

  /**
   * Whether an exception stays inside the guest (goes to VS): with a host
   * trap handler installed (a hypervisor playing M and HS) only the others
   * leave the hart — CSR accesses, sret, sfence.vma and the guest's own page
   * faults never do.
   */
  staysInGuest(cause: number): boolean {
    return exceptionGoesToVs(this.hart.csr, cause);
  }

  /** The guest physical address of the last guest-page fault (for a host trap handler: htval's value << 2), or -1. */
  get faultGpa(): number {
    return this.trapInfo.gpa;
  }

  pendingInterrupt(): number {
    return pendingInterruptH(this.hart.csr);
  }

  /** A virtual-instruction exception (cause 22) at pc; tval holds the instruction's bits, as for illegal instruction. */
  private virtualInstruction(pc: number, w0: number, imm: number): false {
    return this.hart.raise(H.CAUSE_VIRTUAL_INSTRUCTION, this.hart.instructionBits(pc), pc, w0, imm);
  }

  // ---- xRET, WFI, SFENCE.VMA with H ----

  /** mret: V becomes MPV unless returning to M; MPV clears. */
  mret(): number {
    const c = this.hart.csr;
    const mpv = (c.hi[R.CSR_MSTATUS] & H.MSTATUS_HI_MPV) !== 0;
    const pc = mret(c);
    c.hi[R.CSR_MSTATUS] &= ~H.MSTATUS_HI_MPV;
    if (mpv && c.priv !== R.PRV_M) setVirt(c, 1);
    this.hart.translationChanged();
    return pc;
  }

  /**
   * sret: from HS, V becomes hstatus.SPV (which clears); from VS, the
   * guest's own sret unless VTSR. Returns the CSR slot that held the return
   * address (Hart.sret checks it for a wild return), or -1 after a trap.
   */
  sret(pc: number, w0: number, imm: number): number {
    const h = this.hart;
    const c = h.csr;
    if (c.virt !== 0) {
      if (c.priv === R.PRV_U || (c.lo[H.CSR_HSTATUS] & H.HSTATUS_VTSR) !== 0) return this.virtualInstruction(pc, w0, imm) ? 0 : -1;
      h.pc = sret(c);
      return R.CSR_SEPC;
    }
    if (c.priv === R.PRV_U || (c.priv === R.PRV_S && (c.mstatus & R.MSTATUS_TSR) !== 0)) return h.illegal(pc, w0, imm) ? 0 : -1;
    const spv = (c.lo[H.CSR_HSTATUS] & H.HSTATUS_SPV) !== 0;
    h.pc = sret(c);
    let epc = R.CSR_SEPC;
    if (c.priv !== R.PRV_M) {
      c.lo[H.CSR_HSTATUS] &= ~H.HSTATUS_SPV;
      if (spv) {
        setVirt(c, 1);
        epc = H.CSR_VSEPC; // HS's sepc, swapped out of the way
      }
    }
    h.translationChanged();
    return epc;
  }

  /** Whether wfi may run here; raises (illegal or virtual instruction) when not. */
  wfiAllowed(pc: number, w0: number, imm: number): boolean {
    const c = this.hart.csr;
    if (c.priv < R.PRV_M && (c.mstatus & R.MSTATUS_TW) !== 0) return this.hart.illegal(pc, w0, imm);
    if (c.virt !== 0) {
      if (c.priv === R.PRV_U || (c.lo[H.CSR_HSTATUS] & H.HSTATUS_VTW) !== 0) return this.virtualInstruction(pc, w0, imm);
      return true;
    }
    return c.priv !== R.PRV_U || this.hart.illegal(pc, w0, imm);
  }

  /** sfence.vma with V=1: the guest's translations only; VU-mode, or VS with VTVM, get a virtual-instruction exception. */
  sfenceVmaVirtual(rs1: number, rs2: number, pc: number, w0: number, imm: number): boolean {
    const c = this.hart.csr;
    if (c.priv === R.PRV_U || (c.lo[H.CSR_HSTATUS] & H.HSTATUS_VTVM) !== 0) return this.virtualInstruction(pc, w0, imm);
    this.fenceGuest(rs1, rs2);
    return true;
  }

  /** Drops the V sets' entries for x[rs1]'s page and x[rs2]'s ASID (x0: all), as sfence.vma does for the host's. */
  private fenceGuest(rs1: number, rs2: number): void {
    const x = this.hart.x;
    const vpn = rs1 === 0 ? -1 : ((x[rs1 + 1] & 0x7f) << 20) | (x[rs1] >>> 12);
    const asid = rs2 === 0 ? -1 : x[rs2] & R.SATP_ASID_MASK;
    for (const t of [...this.vsTlbs, ...this.vuTlbs]) {
      if (vpn < 0 && asid < 0) t.flushAll();
      else if (asid < 0) t.flushPage(vpn);
      else if (vpn < 0) t.flushAsid(asid);
      else t.flushPageAsid(vpn, asid);
    }
    this.hart.fetchBase = Number.NaN;
  }

  // ---- the H instructions (ops 100..114) ----

  /** Executes hlv*, hlvx*, hsv*, hfence.*; returns the next pc (the handler's after a trap). */
  execute(op: number, w0: number, imm: number, pc: number, len: number): number {
    const h = this.hart;
    const c = h.csr;
    const rd = (w0 >>> 8) & 0xff;
    const rs1 = (w0 >>> 16) & 0xff;
    const rs2 = w0 >>> 24;
    // All are HS-level: a virtual-instruction exception from VS/VU, illegal from U (HLV/HSV: unless hstatus.HU).
    if (c.virt !== 0) {
      this.virtualInstruction(pc, w0, imm);
      return h.pc;
    }
    const isFence = op >= OP_HFENCE_VVMA;
    const uOk = !isFence && (c.lo[H.CSR_HSTATUS] & H.HSTATUS_HU) !== 0;
    if (c.priv === R.PRV_U && !uOk) {
      h.illegal(pc, w0, imm);
      return h.pc;
    }
    if (isFence) {
      if (op === OP_HFENCE_GVMA) {
        if (c.priv === R.PRV_S && (c.mstatus & R.MSTATUS_TVM) !== 0) {
          h.illegal(pc, w0, imm);
          return h.pc;
        }
        // The V sets hold combined translations: any G-stage change may touch any of them.
        this.flushGuest();
      } else this.fenceGuest(rs1, rs2);
      return pc + len;
    }
    this.hlv = true;
    this.hlvx = op === OP_HLVX_HU || op === OP_HLVX_HU + 1;
    const x = h.x;
    let ok: boolean;
    if (op >= OP_HSV_B) ok = h.storeSlow(x[rs1], x[rs1 + 1], 1 << (op - OP_HSV_B), x[rs2], x[rs2 + 1], pc);
    else ok = h.loadSlow(x[rs1], x[rs1 + 1], HLV_WIDTH[op - OP_HLV_B], pc);
    this.hlv = false;
    this.hlvx = false;
    if (!ok) return h.pc;
    if (op < OP_HSV_B) {
      const width = HLV_WIDTH[op - OP_HLV_B];
      const signed = HLV_SIGNED[op - OP_HLV_B];
      let lo = h.valueLo;
      let hi = h.valueHi;
      if (width < 8) {
        const shift = 32 - 8 * width;
        lo = width === 4 ? lo : signed ? (lo << shift) >> shift : lo & ((1 << (8 * width)) - 1);
        hi = signed ? lo >> 31 : 0;
      }
      x[rd] = lo;
      x[rd + 1] = hi;
    }
    return pc + len;
  }

  // ---- CSR accesses ----

  /**
   * A CSR instruction that failed the plain privilege check (Hart.csrInstruction):
   * HS-mode may reach the hypervisor-level CSRs (bits 9:8 = 2); anything else
   * is an illegal- or virtual-instruction exception. Returns the next pc.
   */
  csrInstruction(kind: number, immediate: boolean, w0: number, imm: number, pc: number, len: number): number {
    const h = this.hart;
    const c = h.csr;
    const csrNum = imm & 0xfff;
    if (c.virt === 0 && c.priv === R.PRV_S && ((csrNum >>> 8) & 3) === 2) {
      const result = executeCsrInstruction(c, h.x, kind, immediate, (w0 >>> 8) & 0xff, (w0 >>> 16) & 0xff, csrNum, 2);
      if (result !== CSR_ILLEGAL) {
        if (result === CSR_WROTE && csrAffectsInterrupts(csrNum) && this.pendingInterrupt() >= 0) h.stop = true;
        return pc + len;
      }
    }
    return this.csrFault(kind, w0, imm, pc);
  }

  /** Raises the right exception for a CSR access that may not happen; returns the handler's pc. */
  csrFault(kind: number, w0: number, imm: number, pc: number): number {
    const writes = kind === 0 || ((w0 >>> 16) & 0xff) !== 0;
    if (virtualCsrFault(this.hart.csr, imm & 0xfff, writes)) this.virtualInstruction(pc, w0, imm);
    else this.hart.illegal(pc, w0, imm);
    return this.hart.pc;
  }
}

/**
 * Whether a CSR access refused with V=1 is a virtual-instruction exception
 * (H chapter, "Virtual Instruction exceptions"): it would have been allowed
 * with V=0 (a hypervisor or VS CSR from VS/VU, a supervisor CSR from VU, a
 * counter hcounteren hides, satp under VTVM), as opposed to illegal.
 */
function virtualCsrFault(c: CsrFile, csr: number, writes: boolean): boolean {
  if (c.virt === 0 || !CsrFile.exists(csr) || (writes && csr >>> 10 === 3)) return false;
  const level = (csr >>> 8) & 3;
  if (level === 3) return false;
  if (level === 2) return true;
  if (level === 1) {
    if (c.priv === R.PRV_U) return true;
    if (csr === R.CSR_SATP) return (c.lo[H.CSR_HSTATUS] & H.HSTATUS_VTVM) !== 0;
    if (csr === R.CSR_STIMECMP) return (c.lo[R.CSR_MCOUNTEREN] & R.COUNTEREN_TM) !== 0 && c.stce;
    return false;
  }
  if (csr >= R.CSR_CYCLE && csr <= R.CSR_CYCLE + 31) {
    const bit = 1 << (csr - R.CSR_CYCLE);
    if ((c.lo[R.CSR_MCOUNTEREN] & bit) === 0) return false;
    if ((c.lo[H.CSR_HCOUNTEREN] & bit) === 0) return true;
    return c.priv === R.PRV_U && (c.lo[R.CSR_SCOUNTEREN] & bit) === 0;
  }
  return false;
}
