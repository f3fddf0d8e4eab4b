/*
 * --virt hw: the guest's virtual S and U run in the real hart's VS and VU
 * modes (the H extension, src/machine/hext*.ts) instead of deprivileged in
 * U-mode. The popek hypervisor plays HS: the VM's guest-physical table is
 * the G-stage (hgatp, Sv39x4; its root is 16 KiB for that), the guest's own
 * satp is vsatp, and what the guest's virtual M delegates (medeleg) the
 * hart delegates on to VS (hedeleg). So CSR accesses, sret, sfence.vma and
 * the guest's own page faults never exit; SBI calls (ecall from VS),
 * G-stage faults (first touches and MMIO), wfi (hstatus.VTW), counters and
 * stimecmp (virtual-instruction exceptions) and what virtual M must see do.
 *
 * Virtual M still runs trap-and-emulate (a VS guest cannot hold M), so the
 * guest's state moves between two homes: the virtual CSR file (ctx.csr, in
 * the run page, which every exit handler and the main thread use) and the
 * real hart's VS CSRs. enter() copies it in before a slice in VS/VU;
 * leave() copies it back at every exit and slice end, and returns the hart
 * to trap-and-emulate's ground (V=0, U-mode), so every existing exit
 * handler sees the virtual CSR file exactly as under --virt trap.
 *
 * Interrupts are delivered as under --virt trap (injectPendingInterrupt at a
 * slice boundary); the guest's pending and enabled S-level interrupts are
 * mirrored into hvip/hie only so that the hart ends its slice when the guest
 * enables one that is pending.
 */

import type { Hart } from "../machine/hart.ts";
import type { CsrFile } from "../machine/csr.ts";
import * as R from "../machine/riscv.ts";
import * as H from "../machine/hext-defs.ts";
import { setVirt } from "../machine/hext-trap.ts";

/** Virtual S CSR -> the real hart's VS copy (written while V=0, when the vs* slots are the guest's). */
const VS_PAIRS: readonly (readonly [number, number])[] = [
  [R.CSR_STVEC, H.CSR_VSTVEC], [R.CSR_SSCRATCH, H.CSR_VSSCRATCH], [R.CSR_SEPC, H.CSR_VSEPC],
  [R.CSR_SCAUSE, H.CSR_VSCAUSE], [R.CSR_STVAL, H.CSR_VSTVAL], [R.CSR_SATP, H.CSR_VSATP],
  // S CSRs with no VS copy: VS-mode reaches the real ones, so they travel as they are.
  [R.CSR_SCOUNTEREN, R.CSR_SCOUNTEREN], [R.CSR_SENVCFG, R.CSR_SENVCFG],
];
const ALL = -1;

export class HwMode {
  constructor(
    private readonly hart: Hart,
    /** The guest's virtual CSR file (VcpuContext.csr). */
    private readonly v: CsrFile,
    hgatpLo: number,
    hgatpHi: number,
  ) {
    const c = hart.csr;
    c.write(H.CSR_HGATP, hgatpLo, hgatpHi);
    // Every exception may reach VS if the guest's M delegates it (hedeleg decides); VS-level interrupts go to VS.
    c.write(R.CSR_MEDELEG, ALL, 0);
    c.write(H.CSR_HIDELEG, H.VS_INTERRUPTS, 0);
    // Counters and stimecmp from VS are virtual-instruction exceptions (hcounteren 0, vstimecmp absent),
    // never illegal ones the guest's own handler would take: the hypervisor emulates them.
    c.write(R.CSR_MCOUNTEREN, ALL, 0);
    c.write(H.CSR_HCOUNTEREN, 0, 0);
    c.write(R.CSR_MENVCFG, 0, R.MENVCFG_HI_STCE);
    c.write(R.CSR_STIMECMP, ALL, ALL);
  }

  /** Whether the hart is in VS/VU now. */
  get active(): boolean {
    return this.hart.csr.virt !== 0;
  }

  /** Loads the guest's virtual S state into the real hart and puts it in VS (virtual S) or VU (virtual U). */
  enter(): void {
    const c = this.hart.csr;
    const v = this.v;
    if (c.virt !== 0) return;
    c.lo[H.CSR_VSSTATUS] = v.mstatus & R.SSTATUS_VISIBLE;
    for (const [s, vs] of VS_PAIRS) {
      c.lo[vs] = v.lo[s];
      c.hi[vs] = v.hi[s];
    }
    c.lo[H.CSR_HEDELEG] = v.medeleg & H.HEDELEG_WRITABLE;
    // The guest's M-level trap bits for S become the hypervisor's for VS; wfi always exits.
    const status = v.mstatus;
    c.lo[H.CSR_HSTATUS] =
      H.HSTATUS_VTW | ((status & R.MSTATUS_TVM) !== 0 ? H.HSTATUS_VTVM : 0) | ((status & R.MSTATUS_TSR) !== 0 ? H.HSTATUS_VTSR : 0);
    const deleg = v.mideleg & R.S_INTERRUPTS;
    c.lo[R.CSR_MIE] = (c.mie & ~H.VS_INTERRUPTS) | ((v.mie & deleg) << 1);
    c.mipSw = (c.mipSw & ~H.VS_INTERRUPTS) | ((v.mip & deleg) << 1);
    setVirt(c, 1);
    c.priv = v.priv;
    this.hart.translationChanged();
  }

  /** Writes the real hart's VS state back into the virtual CSR file and returns the hart to V=0, U-mode. */
  leave(): void {
    const c = this.hart.csr;
    const v = this.v;
    if (c.virt === 0) return;
    v.priv = c.priv;
    setVirt(c, 0);
    c.priv = R.PRV_U;
    v.mstatus = (v.mstatus & ~R.SSTATUS_VISIBLE) | (c.lo[H.CSR_VSSTATUS] & R.SSTATUS_VISIBLE);
    for (const [s, vs] of VS_PAIRS) {
      v.lo[s] = c.lo[vs];
      v.hi[s] = c.hi[vs];
    }
    const deleg = v.mideleg & R.S_INTERRUPTS;
    v.lo[R.CSR_MIE] = (v.mie & ~deleg) | (((c.mie & H.VS_INTERRUPTS) >>> 1) & deleg);
    // Only SSIP is the guest's to write (sip); STIP and SEIP are the hypervisor's wires.
    const ssip = deleg & R.MIP_SSIP;
    v.mipSw = (v.mipSw & ~ssip) | (((c.mipSw & H.MIP_VSSIP) >>> 1) & ssip);
    c.lo[R.CSR_MIE] &= ~H.VS_INTERRUPTS;
    c.mipSw &= ~H.VS_INTERRUPTS;
    this.hart.translationChanged();
  }
}
