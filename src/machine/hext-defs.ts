/*
 * Names from the privileged spec's "Hypervisor Extension" chapter: the H
 * CSRs, the hstatus and mstatus bits it adds, its causes and interrupts.
 * Kept beside riscv.ts rather than in it, so the H extension reads as one
 * unit (hext*.ts, mmu-gstage.ts).
 *
 *  V=0: M, HS (S with the hypervisor CSRs), U
 *  V=1: VS (the guest kernel, S), VU (its user mode, U)
 */

import * as R from "./riscv.ts";

// ---- hypervisor and virtual-supervisor CSR numbers (priv spec, H chapter) ----
export const CSR_HSTATUS = 0x600;
export const CSR_HEDELEG = 0x602;
export const CSR_HIDELEG = 0x603;
export const CSR_HIE = 0x604;
export const CSR_HTIMEDELTA = 0x605;
export const CSR_HCOUNTEREN = 0x606;
export const CSR_HGEIE = 0x607;
export const CSR_HENVCFG = 0x60a;
export const CSR_HTVAL = 0x643;
export const CSR_HIP = 0x644;
export const CSR_HVIP = 0x645;
export const CSR_HTINST = 0x64a;
export const CSR_HGATP = 0x680;
export const CSR_HGEIP = 0xe12;

export const CSR_VSSTATUS = 0x200;
export const CSR_VSIE = 0x204;
export const CSR_VSTVEC = 0x205;
export const CSR_VSSCRATCH = 0x240;
export const CSR_VSEPC = 0x241;
export const CSR_VSCAUSE = 0x242;
export const CSR_VSTVAL = 0x243;
export const CSR_VSIP = 0x244;
export const CSR_VSATP = 0x280;

export const CSR_MTINST = 0x34a;
export const CSR_MTVAL2 = 0x34b;

// ---- hstatus (RV64), low word; VSXL (bits 33:32) is read-only 2 (64-bit VS) ----
export const HSTATUS_GVA = 1 << 6;
export const HSTATUS_SPV = 1 << 7;
export const HSTATUS_SPVP = 1 << 8;
export const HSTATUS_HU = 1 << 9;
export const HSTATUS_VTVM = 1 << 20;
export const HSTATUS_VTW = 1 << 21;
export const HSTATUS_VTSR = 1 << 22;
/** VGEIN is read-only zero: GEILEN is 0 here (no guest external interrupt files). VSBE is zero: little-endian only. */
export const HSTATUS_WRITABLE = HSTATUS_GVA | HSTATUS_SPV | HSTATUS_SPVP | HSTATUS_HU | HSTATUS_VTVM | HSTATUS_VTW | HSTATUS_VTSR;
export const HSTATUS_HI_VSXL64 = 2;

// ---- mstatus high word: MPV (bit 39) and GVA (bit 38) ----
export const MSTATUS_HI_GVA = 1 << 6;
export const MSTATUS_HI_MPV = 1 << 7;

// ---- hgatp (priv spec, H chapter): MODE 63:60, VMID 57:44, PPN 43:0 ----
export const HGATP_MODE_BARE = 0;
export const HGATP_MODE_SV39X4 = 8;
/** VMID bits 57:44 are bits 25:12 of the high word; VMIDLEN 14, as QEMU. */
export const HGATP_HI_VMID_MASK = 0x3fff << 12;
/** Sv39x4's root table is 16 KiB: PPN bits 1:0 are zero (WARL). */
export const HGATP_LO_PPN_MASK = ~3;

// ---- causes ----
export const CAUSE_ECALL_VS = 10;
export const CAUSE_FETCH_GUEST_PAGE_FAULT = 20;
export const CAUSE_LOAD_GUEST_PAGE_FAULT = 21;
export const CAUSE_VIRTUAL_INSTRUCTION = 22;
export const CAUSE_STORE_GUEST_PAGE_FAULT = 23;

/** Exceptions medeleg may delegate beyond the base set once H is present (ecall from VS, guest-page faults, virtual instruction). */
export const MEDELEG_H_WRITABLE = (1 << CAUSE_ECALL_VS) | (0xf << CAUSE_FETCH_GUEST_PAGE_FAULT);
/** Exceptions hedeleg may delegate on to VS: not ecalls from HS/VS/M, not the guest-page faults or virtual instruction (those are HS's). */
export const HEDELEG_WRITABLE = 0xb1ff;

// ---- interrupts ----
export const IRQ_VS_SOFT = 2;
const IRQ_VS_TIMER = 6;
const IRQ_VS_EXT = 10;
/** Supervisor guest external interrupt: never pending here (GEILEN is 0), kept for the priority order. */
const IRQ_S_GEXT = 12;
export const MIP_VSSIP = 1 << IRQ_VS_SOFT;
const MIP_VSTIP = 1 << IRQ_VS_TIMER;
const MIP_VSEIP = 1 << IRQ_VS_EXT;
/** The VS-level interrupts: read-only one in mideleg with H, writable in hideleg, hvip, hie. */
export const VS_INTERRUPTS = MIP_VSSIP | MIP_VSTIP | MIP_VSEIP;
/** Order of simultaneous interrupts with H (priv spec 3.1.9 and the H chapter): M, then HS, then VS. */
export const IRQ_PRIORITY_H: readonly number[] = [...R.IRQ_PRIORITY, IRQ_S_GEXT, IRQ_VS_EXT, IRQ_VS_SOFT, IRQ_VS_TIMER];

/** The ISA extension letter misa and the device tree gain. */
export const MISA_H = 1 << 7;
