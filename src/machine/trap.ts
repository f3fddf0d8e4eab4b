/*
 * Trap entry and return (priv spec 3.1.6.1, 3.3.2, 4.1.1), as pure operations
 * on a CSR file. The hart calls them for real traps; the hypervisor calls the
 * same functions on a guest's virtual CSR file to reflect a trap into it.
 */

import type { CsrFile } from "./csr.ts";
import * as R from "./riscv.ts";
import { hiOf, loOf } from "./u64.ts";

/**
 * Takes a trap: picks M or S by delegation, saves pc/cause/tval and the
 * interrupt-enable stack, switches privilege, and returns the handler's pc.
 */
export function enterTrap(c: CsrFile, cause: number, interrupt: boolean, tval: number, pc: number): number {
  return enterTrapPair(c, cause, interrupt, loOf(tval), hiOf(tval), loOf(pc), hiOf(pc));
}

/** enterTrap with tval and the trapping pc as exact 64-bit pairs (u64.ts: a wild address does not fit a number). */
export function enterTrapPair(c: CsrFile, cause: number, interrupt: boolean, tvalLo: number, tvalHi: number, pcLo: number, pcHi: number): number {
  const deleg = interrupt ? c.mideleg : c.medeleg;
  const toS = c.priv <= R.PRV_S && ((deleg >>> cause) & 1) === 1;
  const causeHi = interrupt ? 1 << 31 : 0;
  let status = c.mstatus;
  let tvec: number;
  if (toS) {
    c.lo[R.CSR_SEPC] = pcLo;
    c.hi[R.CSR_SEPC] = pcHi;
    c.lo[R.CSR_SCAUSE] = cause;
    c.hi[R.CSR_SCAUSE] = causeHi;
    c.lo[R.CSR_STVAL] = tvalLo;
    c.hi[R.CSR_STVAL] = tvalHi;
    status = (status & R.MSTATUS_SIE) !== 0 ? status | R.MSTATUS_SPIE : status & ~R.MSTATUS_SPIE;
    status = c.priv === R.PRV_S ? status | R.MSTATUS_SPP : status & ~R.MSTATUS_SPP;
    status &= ~R.MSTATUS_SIE;
    c.priv = R.PRV_S;
    tvec = c.num(R.CSR_STVEC);
  } else {
    c.lo[R.CSR_MEPC] = pcLo;
    c.hi[R.CSR_MEPC] = pcHi;
    c.lo[R.CSR_MCAUSE] = cause;
    c.hi[R.CSR_MCAUSE] = causeHi;
    c.lo[R.CSR_MTVAL] = tvalLo;
    c.hi[R.CSR_MTVAL] = tvalHi;
    status = (status & R.MSTATUS_MIE) !== 0 ? status | R.MSTATUS_MPIE : status & ~R.MSTATUS_MPIE;
    status = (status & ~R.MSTATUS_MPP) | (c.priv << R.MSTATUS_MPP_SHIFT);
    status &= ~R.MSTATUS_MIE;
    c.priv = R.PRV_M;
    tvec = c.num(R.CSR_MTVEC);
  }
  c.mstatus = status;
  c.host.translationChanged();
  const mode = tvec & 3;
  const base = tvec - mode;
  return interrupt && mode === R.TVEC_MODE_VECTORED ? base + 4 * cause : base;
}

/** mret (priv spec 3.3.2): pops the M interrupt-enable stack; returns the new pc. */
export function mret(c: CsrFile): number {
  let status = c.mstatus;
  const mpp = (status & R.MSTATUS_MPP) >>> R.MSTATUS_MPP_SHIFT;
  status = (status & R.MSTATUS_MPIE) !== 0 ? status | R.MSTATUS_MIE : status & ~R.MSTATUS_MIE;
  status |= R.MSTATUS_MPIE;
  status &= ~R.MSTATUS_MPP; // MPP = U, the least-privileged mode
  if (mpp !== R.PRV_M) status &= ~R.MSTATUS_MPRV;
  c.mstatus = status;
  c.priv = mpp;
  c.host.translationChanged();
  return c.num(R.CSR_MEPC);
}

/** sret (priv spec 4.1.1): pops the S interrupt-enable stack; returns the new pc. */
export function sret(c: CsrFile): number {
  let status = c.mstatus;
  const spp = (status & R.MSTATUS_SPP) !== 0 ? R.PRV_S : R.PRV_U;
  status = (status & R.MSTATUS_SPIE) !== 0 ? status | R.MSTATUS_SIE : status & ~R.MSTATUS_SIE;
  status |= R.MSTATUS_SPIE;
  status &= ~R.MSTATUS_SPP;
  status &= ~R.MSTATUS_MPRV; // returning below M clears MPRV (priv spec 1.12)
  c.mstatus = status;
  c.priv = spp;
  c.host.translationChanged();
  return c.num(R.CSR_SEPC);
}

/**
 * The interrupt the hart must take now, or -1 (priv spec 3.1.9): pending and
 * enabled in mie; M-level ones unless in M with MIE clear, delegated ones
 * only below M, or in S with SIE set.
 */
export function pendingInterrupt(c: CsrFile): number {
  const pending = c.mip & c.mie;
  if (pending === 0) return -1;
  const status = c.mstatus;
  const mEnabled = c.priv < R.PRV_M || (status & R.MSTATUS_MIE) !== 0;
  const sEnabled = c.priv < R.PRV_S || (c.priv === R.PRV_S && (status & R.MSTATUS_SIE) !== 0);
  const toM = pending & ~c.mideleg;
  const toS = pending & c.mideleg;
  // Interrupts for M are taken before those for S, whatever their priority ("decreasing order of destined privilege mode").
  const takeable = mEnabled && toM !== 0 ? toM : sEnabled ? toS : 0;
  if (takeable === 0) return -1;
  for (const irq of R.IRQ_PRIORITY) if ((takeable >>> irq) & 1) return irq;
  return -1;
}
