/*
 * Trap entry and return with the H extension (priv spec, H chapter, "Traps"):
 * where a trap goes (M, HS or VS) by medeleg/mideleg and hedeleg/hideleg,
 * what it records (hstatus.SPV/SPVP/GVA, htval, mstatus.MPV/GVA, mtval2),
 * the V switch, and which interrupt is takeable. Pure operations on a CSR
 * file, like trap.ts.
 *
 * The V switch swaps the supervisor CSR slots with the vs* ones (QEMU swaps
 * the same set), so that while V=1 every S-mode path — sret, trap entry to
 * S, the satp the walker reads — serves the guest unchanged:
 *
 *   V=0:  sstatus fields, stvec, ... satp  = HS's    vs* slots = guest's
 *   V=1:  sstatus fields, stvec, ... satp  = guest's vs* slots = HS's
 */

import type { CsrFile } from "./csr.ts";
import * as R from "./riscv.ts";
import * as H from "./hext-defs.ts";

/** The CSR slots that trade places on a V switch (besides sstatus's fields of mstatus). */
const SWAPPED: readonly (readonly [number, number])[] = [
  [R.CSR_STVEC, H.CSR_VSTVEC], [R.CSR_SSCRATCH, H.CSR_VSSCRATCH], [R.CSR_SEPC, H.CSR_VSEPC],
  [R.CSR_SCAUSE, H.CSR_VSCAUSE], [R.CSR_STVAL, H.CSR_VSTVAL], [R.CSR_SATP, H.CSR_VSATP],
];

/** Sets V, swapping the S and VS slots when it changes. The caller tells the host (translationChanged). */
export function setVirt(c: CsrFile, v: number): void {
  if (c.virt === v) return;
  const fields = R.SSTATUS_VISIBLE;
  const s = c.mstatus;
  c.mstatus = (s & ~fields) | (c.lo[H.CSR_VSSTATUS] & fields);
  c.lo[H.CSR_VSSTATUS] = s & fields;
  for (const [a, b] of SWAPPED) {
    const lo = c.lo[a];
    const hi = c.hi[a];
    c.lo[a] = c.lo[b];
    c.hi[a] = c.hi[b];
    c.lo[b] = lo;
    c.hi[b] = hi;
  }
  c.virt = v;
}

/** Causes whose xtval is an address (so GVA says whether it is a guest virtual one). */
const ADDRESS_CAUSES =
  (1 << 0) | (1 << R.CAUSE_FETCH_ACCESS) | (1 << R.CAUSE_MISALIGNED_LOAD) | (1 << R.CAUSE_LOAD_ACCESS) |
  (1 << R.CAUSE_MISALIGNED_STORE) | (1 << R.CAUSE_STORE_ACCESS) | (1 << R.CAUSE_FETCH_PAGE_FAULT) |
  (1 << R.CAUSE_LOAD_PAGE_FAULT) | (1 << R.CAUSE_STORE_PAGE_FAULT) | (1 << H.CAUSE_FETCH_GUEST_PAGE_FAULT) |
  (1 << H.CAUSE_LOAD_GUEST_PAGE_FAULT) | (1 << H.CAUSE_STORE_GUEST_PAGE_FAULT);

/** What a trap entry needs beyond the cause: the faulting guest physical address (or -1) and whether an HLV/HSV raised it. */
export interface HTrapInfo {
  readonly gpa: number;
  readonly hlv: boolean;
}

/**
 * Takes a trap on a hart with H; returns the handler's pc. tval and pc are
 * exact pairs as in trap.ts's enterTrapPair.
 */
export function enterTrapH(c: CsrFile, cause: number, interrupt: boolean, tvalLo: number, tvalHi: number, pcLo: number, pcHi: number, info: HTrapInfo): number {
  const virt = c.virt;
  const priv = c.priv;
  const gva = (virt !== 0 || info.hlv) && !interrupt && cause < 32 && ((ADDRESS_CAUSES >>> cause) & 1) === 1;
  // htval / mtval2 hold a guest physical address only for a guest-page fault; zero for anything else.
  const gpa = !interrupt && (cause === H.CAUSE_FETCH_GUEST_PAGE_FAULT || cause === H.CAUSE_LOAD_GUEST_PAGE_FAULT || cause === H.CAUSE_STORE_GUEST_PAGE_FAULT) ? info.gpa : -1;
  const mdeleg = interrupt ? c.mideleg | H.VS_INTERRUPTS : c.medeleg;
  const hdeleg = interrupt ? c.lo[H.CSR_HIDELEG] : c.lo[H.CSR_HEDELEG];
  const toS = priv <= R.PRV_S && ((mdeleg >>> cause) & 1) === 1;
  const toVS = toS && virt !== 0 && ((hdeleg >>> cause) & 1) === 1;
  let tvec: number;
  let reported = cause;
  if (toVS) {
    // A VS-level interrupt reaches the guest as its S-level twin (VSEI 10 -> SEI 9, ...).
    if (interrupt) reported = cause - 1;
    tvec = enterS(c, reported, interrupt, tvalLo, tvalHi, pcLo, pcHi, priv);
  } else if (toS) {
    setVirt(c, 0);
    let hs = c.lo[H.CSR_HSTATUS] & ~(H.HSTATUS_SPV | H.HSTATUS_GVA);
    if (virt !== 0) hs = (hs & ~H.HSTATUS_SPVP) | H.HSTATUS_SPV | (priv === R.PRV_S ? H.HSTATUS_SPVP : 0);
    if (gva) hs |= H.HSTATUS_GVA;
    c.lo[H.CSR_HSTATUS] = hs;
    setShifted(c, H.CSR_HTVAL, gpa);
    c.lo[H.CSR_HTINST] = 0;
    c.hi[H.CSR_HTINST] = 0;
    tvec = enterS(c, cause, interrupt, tvalLo, tvalHi, pcLo, pcHi, priv);
  } else {
    setVirt(c, 0);
    let hi = c.hi[R.CSR_MSTATUS] & ~(H.MSTATUS_HI_MPV | H.MSTATUS_HI_GVA);
    if (virt !== 0) hi |= H.MSTATUS_HI_MPV;
    if (gva) hi |= H.MSTATUS_HI_GVA;
    c.hi[R.CSR_MSTATUS] = hi;
    setShifted(c, H.CSR_MTVAL2, gpa);
    c.lo[H.CSR_MTINST] = 0;
    c.hi[H.CSR_MTINST] = 0;
    c.lo[R.CSR_MEPC] = pcLo;
    c.hi[R.CSR_MEPC] = pcHi;
    c.lo[R.CSR_MCAUSE] = cause;
    c.hi[R.CSR_MCAUSE] = interrupt ? 1 << 31 : 0;
    c.lo[R.CSR_MTVAL] = tvalLo;
    c.hi[R.CSR_MTVAL] = tvalHi;
    let status = c.mstatus;
    status = (status & R.MSTATUS_MIE) !== 0 ? status | R.MSTATUS_MPIE : status & ~R.MSTATUS_MPIE;
    status = (status & ~R.MSTATUS_MPP) | (priv << R.MSTATUS_MPP_SHIFT);
    c.mstatus = status & ~R.MSTATUS_MIE;
    c.priv = R.PRV_M;
    tvec = c.num(R.CSR_MTVEC);
  }
  c.host.translationChanged();
  const mode = tvec & 3;
  const base = tvec - mode;
  return interrupt && mode === R.TVEC_MODE_VECTORED ? base + 4 * reported : base;
}

/** htval / mtval2: the guest physical address shifted right by 2, or 0 (H chapter). */
function setShifted(c: CsrFile, csr: number, gpa: number): void {
  const v = gpa >= 0 ? Math.floor(gpa / 4) : 0;
  c.lo[csr] = v | 0;
  c.hi[csr] = Math.floor(v / 4294967296) | 0;
}

/** Entry into S (HS or VS: whichever the slots hold now); returns stvec. */
function enterS(c: CsrFile, cause: number, interrupt: boolean, tvalLo: number, tvalHi: number, pcLo: number, pcHi: number, priv: number): number {
  c.lo[R.CSR_SEPC] = pcLo;
  c.hi[R.CSR_SEPC] = pcHi;
  c.lo[R.CSR_SCAUSE] = cause;
  c.hi[R.CSR_SCAUSE] = interrupt ? 1 << 31 : 0;
  c.lo[R.CSR_STVAL] = tvalLo;
  c.hi[R.CSR_STVAL] = tvalHi;
  let status = c.mstatus;
  status = (status & R.MSTATUS_SIE) !== 0 ? status | R.MSTATUS_SPIE : status & ~R.MSTATUS_SPIE;
  status = priv === R.PRV_S ? status | R.MSTATUS_SPP : status & ~R.MSTATUS_SPP;
  c.mstatus = status & ~R.MSTATUS_SIE;
  c.priv = R.PRV_S;
  return c.num(R.CSR_STVEC);
}

/**
 * Whether an exception taken now goes to VS (delegated by medeleg and then
 * hedeleg with V=1): a host playing M and HS (HostTrapHandler) sees only the
 * others, as a real hypervisor does.
 */
export function exceptionGoesToVs(c: CsrFile, cause: number): boolean {
  return c.virt !== 0 && c.priv <= R.PRV_S && ((c.medeleg >>> cause) & 1) === 1 && ((c.lo[H.CSR_HEDELEG] >>> cause) & 1) === 1;
}

/**
 * The interrupt to take now, or -1 (priv spec 3.1.9 and the H chapter):
 * M-level ones unless in M with MIE clear; HS-level ones (delegated by
 * mideleg, not by hideleg) below HS, always when V=1, or in HS with SIE;
 * VS-level ones (delegated by hideleg) only when V=1, in VU, or in VS with
 * the guest's SIE. Higher destinations first, then the fixed priority.
 */
export function pendingInterruptH(c: CsrFile): number {
  const pending = c.mip & c.mie;
  if (pending === 0) return -1;
  const status = c.mstatus; // with V=1, its S fields are the guest's
  const priv = c.priv;
  const virt = c.virt !== 0;
  const mdeleg = c.mideleg | H.VS_INTERRUPTS;
  const hideleg = c.lo[H.CSR_HIDELEG];
  const toM = pending & ~mdeleg;
  const toHS = pending & mdeleg & ~hideleg;
  const toVS = pending & mdeleg & hideleg;
  const mEnabled = priv < R.PRV_M || (status & R.MSTATUS_MIE) !== 0;
  const hsEnabled = virt || priv < R.PRV_S || (priv === R.PRV_S && (status & R.MSTATUS_SIE) !== 0);
  const vsEnabled = virt && (priv === R.PRV_U || (status & R.MSTATUS_SIE) !== 0);
  const takeable = mEnabled && toM !== 0 ? toM : hsEnabled && toHS !== 0 ? toHS : vsEnabled ? toVS : 0;
  if (takeable === 0) return -1;
  for (const irq of H.IRQ_PRIORITY_H) if ((takeable >>> irq) & 1) return irq;
  return -1;
}
