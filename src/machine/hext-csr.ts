/*
 * The H extension's CSRs (priv spec, H chapter): the hypervisor CSRs h*,
 * the guest's virtual-supervisor copies vs*, mtval2/mtinst, and the changes
 * H makes to existing rows (misa.H, medeleg/mideleg/mie/mip widths, sie/sip
 * seen as vsie/vsip when V=1, hcounteren and hstatus.VTVM gating VS).
 * Every row exists only on a hart with H (CsrHost.hext): without it the
 * table answers exactly as before. Importing this module installs the rows.
 *
 * While V=1 the s* slots hold the guest's values (see CsrFile.virt), so
 * sstatus, stvec, sscratch, sepc, scause, stval and satp need no change here;
 * sie and sip are not storage and are redirected below.
 */

import { csrRow, defineCsr, type CsrFile, type CsrRow } from "./csr.ts";
import * as R from "./riscv.ts";
import * as H from "./hext-defs.ts";
import { isExactPair } from "./u64.ts";

const ALL = -1;
const hasH = (c: CsrFile): boolean => c.host.hext !== undefined;
const guestTranslationChanged = (c: CsrFile): void => c.host.hext?.guestTranslationChanged();

/** A new H-only row: absent (illegal instruction) on a hart without H. */
function defineH(csr: number, row: Omit<CsrRow, "allowed"> & { readonly allowed?: (c: CsrFile) => boolean }): void {
  const extra = row.allowed;
  defineCsr(csr, { ...row, allowed: extra === undefined ? hasH : (c) => hasH(c) && extra(c) });
}

/** Replaces an existing row with one that behaves as `withH` says when H is present, and as before otherwise. */
function wrap(csr: number, withH: (base: CsrRow) => Partial<CsrRow>): void {
  const base = csrRow(csr);
  if (base === undefined) throw new Error(`hext-csr: no row for CSR 0x${csr.toString(16)} to extend`);
  const h = withH(base);
  const pick = <K extends "allowed" | "read" | "write">(k: K): CsrRow[K] => {
    const hf = h[k];
    const bf = base[k];
    if (hf === undefined) return bf;
    if (k === "allowed") {
      const ha = hf as (c: CsrFile) => boolean;
      const ba = bf as ((c: CsrFile) => boolean) | undefined;
      return ((c: CsrFile) => (hasH(c) ? ha(c) : ba === undefined || ba(c))) as CsrRow[K];
    }
    if (k === "read") {
      const hr = hf as (c: CsrFile) => void;
      const br = bf as ((c: CsrFile) => void) | undefined;
      return ((c: CsrFile) => {
        if (hasH(c)) hr(c);
        else if (br !== undefined) br(c);
        else storageRead(c, csr);
      }) as CsrRow[K];
    }
    const hw = hf as (c: CsrFile, lo: number, hi: number) => void;
    const bw = bf as ((c: CsrFile, lo: number, hi: number) => void) | undefined;
    return ((c: CsrFile, lo: number, hi: number) => {
      if (hasH(c)) hw(c, lo, hi);
      else if (bw !== undefined) bw(c, lo, hi);
      else maskedWrite(c, csr, lo, hi, base.maskLo ?? 0, base.maskHi ?? 0);
    }) as CsrRow[K];
  };
  defineCsr(csr, { name: base.name, allowed: pick("allowed"), read: pick("read"), write: pick("write"), maskLo: base.maskLo, maskHi: base.maskHi });
}

function storageRead(c: CsrFile, csr: number): void {
  c.rlo = c.lo[csr];
  c.rhi = c.hi[csr];
}
function maskedWrite(c: CsrFile, csr: number, lo: number, hi: number, ml: number, mh: number): void {
  c.lo[csr] = (c.lo[csr] & ~ml) | (lo & ml);
  c.hi[csr] = (c.hi[csr] & ~mh) | (hi & mh);
}
function setMipSw(c: CsrFile, mask: number, lo: number): void {
  c.mipSw = (c.mipSw & ~mask) | (lo & mask);
}
function tvecLegal(lo: number, hi: number): boolean {
  return (lo & 3) < 2 && isExactPair(lo, hi);
}
/** Accepts only Bare and Sv39 (Sv39x4 for hgatp): other MODE writes have no effect (priv spec 4.1.11). */
function atpModeLegal(hi: number): boolean {
  const mode = hi >>> 28;
  return mode === R.SATP_MODE_BARE || mode === R.SATP_MODE_SV39;
}

// ---- hypervisor CSRs ----

defineH(H.CSR_HSTATUS, {
  name: "hstatus",
  read: (c) => {
    c.rlo = c.lo[H.CSR_HSTATUS] & H.HSTATUS_WRITABLE;
    c.rhi = H.HSTATUS_HI_VSXL64;
  },
  write: (c, lo) => {
    c.lo[H.CSR_HSTATUS] = lo & H.HSTATUS_WRITABLE;
  },
});
defineH(H.CSR_HEDELEG, { name: "hedeleg", write: (c, lo) => maskedWrite(c, H.CSR_HEDELEG, lo, 0, H.HEDELEG_WRITABLE, 0) });
defineH(H.CSR_HIDELEG, { name: "hideleg", write: (c, lo) => maskedWrite(c, H.CSR_HIDELEG, lo, 0, H.VS_INTERRUPTS, 0) });
defineH(H.CSR_HIE, {
  name: "hie",
  read: (c) => {
    c.rlo = c.mie & H.VS_INTERRUPTS;
    c.rhi = 0;
  },
  write: (c, lo) => maskedWrite(c, R.CSR_MIE, lo, 0, H.VS_INTERRUPTS, 0),
});
defineH(H.CSR_HIP, {
  name: "hip",
  read: (c) => {
    c.rlo = c.mip & H.VS_INTERRUPTS;
    c.rhi = 0;
  },
  // Only VSSIP is writable here (an alias of hvip.VSSIP).
  write: (c, lo) => setMipSw(c, H.MIP_VSSIP, lo),
});
// hvip: the VS-level interrupts the hypervisor injects. They live in the software-pending bits, so mip shows them.
defineH(H.CSR_HVIP, {
  name: "hvip",
  read: (c) => {
    c.rlo = c.mipSw & H.VS_INTERRUPTS;
    c.rhi = 0;
  },
  write: (c, lo) => setMipSw(c, H.VS_INTERRUPTS, lo),
});
defineH(H.CSR_HCOUNTEREN, { name: "hcounteren", write: (c, lo) => maskedWrite(c, H.CSR_HCOUNTEREN, lo, 0, ALL, 0) });
defineH(H.CSR_HTIMEDELTA, { name: "htimedelta", write: (c, lo, hi) => maskedWrite(c, H.CSR_HTIMEDELTA, lo, hi, ALL, ALL) });
// GEILEN is 0: no guest external interrupt files, so hgeie and hgeip are read-only zero.
defineH(H.CSR_HGEIE, { name: "hgeie", read: (c) => { c.rlo = 0; c.rhi = 0; }, write: () => {} });
defineH(H.CSR_HGEIP, { name: "hgeip", read: (c) => { c.rlo = 0; c.rhi = 0; } });
defineH(H.CSR_HENVCFG, { name: "henvcfg", write: (c, lo) => maskedWrite(c, H.CSR_HENVCFG, lo, 0, R.ENVCFG_FIOM, 0) });
defineH(H.CSR_HTVAL, { name: "htval", write: (c, lo, hi) => maskedWrite(c, H.CSR_HTVAL, lo, hi, ALL, ALL) });
defineH(H.CSR_HTINST, { name: "htinst", write: (c, lo, hi) => maskedWrite(c, H.CSR_HTINST, lo, hi, ALL, ALL) });
defineH(H.CSR_HGATP, {
  name: "hgatp",
  // mstatus.TVM traps HS-mode's hgatp accesses too (H chapter, hgatp).
  allowed: (c) => !(c.priv === R.PRV_S && (c.mstatus & R.MSTATUS_TVM) !== 0),
  write: (c, lo, hi) => {
    if (!atpModeLegal(hi)) return;
    const bare = hi >>> 28 === H.HGATP_MODE_BARE;
    c.lo[H.CSR_HGATP] = bare ? 0 : lo & H.HGATP_LO_PPN_MASK;
    c.hi[H.CSR_HGATP] = bare ? 0 : hi & ((0xf << 28) | H.HGATP_HI_VMID_MASK | R.SATP_HI_PPN_MASK);
    guestTranslationChanged(c);
  },
});

// ---- the guest's virtual-supervisor CSRs (accessed from HS and M; V=1 sees them as s*) ----

defineH(H.CSR_VSSTATUS, {
  name: "vsstatus",
  read: (c) => {
    c.rlo = c.lo[H.CSR_VSSTATUS] & R.SSTATUS_VISIBLE;
    c.rhi = R.MSTATUS_HI_XLEN64 & 0x3;
  },
  write: (c, lo) => {
    maskedWrite(c, H.CSR_VSSTATUS, lo, 0, R.SSTATUS_WRITABLE, 0);
    guestTranslationChanged(c);
  },
});
defineH(H.CSR_VSIE, { name: "vsie", read: readVsie, write: writeVsie });
defineH(H.CSR_VSIP, { name: "vsip", read: readVsip, write: writeVsip });
defineH(H.CSR_VSTVEC, {
  name: "vstvec",
  write: (c, lo, hi) => {
    if (tvecLegal(lo, hi)) maskedWrite(c, H.CSR_VSTVEC, lo, hi, ALL, ALL);
  },
});
defineH(H.CSR_VSSCRATCH, { name: "vsscratch", write: (c, lo, hi) => maskedWrite(c, H.CSR_VSSCRATCH, lo, hi, ALL, ALL) });
defineH(H.CSR_VSEPC, { name: "vsepc", write: (c, lo, hi) => maskedWrite(c, H.CSR_VSEPC, lo, hi, ~1, ALL) });
defineH(H.CSR_VSCAUSE, { name: "vscause", write: (c, lo, hi) => maskedWrite(c, H.CSR_VSCAUSE, lo, hi, ALL, ALL) });
defineH(H.CSR_VSTVAL, { name: "vstval", write: (c, lo, hi) => maskedWrite(c, H.CSR_VSTVAL, lo, hi, ALL, ALL) });
defineH(H.CSR_VSATP, {
  name: "vsatp",
  write: (c, lo, hi) => {
    if (!atpModeLegal(hi)) return;
    c.lo[H.CSR_VSATP] = lo;
    c.hi[H.CSR_VSATP] = hi;
    guestTranslationChanged(c);
  },
});

defineH(H.CSR_MTVAL2, { name: "mtval2", write: (c, lo, hi) => maskedWrite(c, H.CSR_MTVAL2, lo, hi, ALL, ALL) });
defineH(H.CSR_MTINST, { name: "mtinst", write: (c, lo, hi) => maskedWrite(c, H.CSR_MTINST, lo, hi, ALL, ALL) });

/** vsie: the VS-level enables hideleg hands the guest, shifted to their S positions (VSSIE -> SSIE, ...). */
function readVsie(c: CsrFile): void {
  c.rlo = (c.mie & c.lo[H.CSR_HIDELEG] & H.VS_INTERRUPTS) >>> 1;
  c.rhi = 0;
}
function writeVsie(c: CsrFile, lo: number): void {
  maskedWrite(c, R.CSR_MIE, lo << 1, 0, c.lo[H.CSR_HIDELEG] & H.VS_INTERRUPTS, 0);
}
/** vsip: likewise for pending bits; only SSIP (VSSIP) is writable. */
function readVsip(c: CsrFile): void {
  c.rlo = (c.mip & c.lo[H.CSR_HIDELEG] & H.VS_INTERRUPTS) >>> 1;
  c.rhi = 0;
}
function writeVsip(c: CsrFile, lo: number): void {
  setMipSw(c, c.lo[H.CSR_HIDELEG] & H.MIP_VSSIP, lo << 1);
}

// ---- existing rows that H changes ----

wrap(R.CSR_MISA, () => ({ read: (c) => { c.rlo = R.MISA_LO | H.MISA_H; c.rhi = R.MISA_HI; } }));
wrap(R.CSR_MSTATUS, (base) => ({
  // MPV and GVA are writable high-word bits; the base write resets the high word to its XLEN fields.
  write: (c, lo, hi) => {
    base.write?.(c, lo, hi);
    c.hi[R.CSR_MSTATUS] |= hi & (H.MSTATUS_HI_MPV | H.MSTATUS_HI_GVA);
    c.host.translationChanged(); // MPV steers MPRV's translation
  },
}));
wrap(R.CSR_MEDELEG, () => ({ write: (c, lo) => maskedWrite(c, R.CSR_MEDELEG, lo, 0, R.MEDELEG_WRITABLE | H.MEDELEG_H_WRITABLE, 0) }));
// mideleg's VS-level bits are read-only one with H: those interrupts always go at least to HS.
wrap(R.CSR_MIDELEG, () => ({
  read: (c) => {
    c.rlo = c.mideleg | H.VS_INTERRUPTS;
    c.rhi = 0;
  },
}));
wrap(R.CSR_MIE, () => ({ write: (c, lo) => maskedWrite(c, R.CSR_MIE, lo, 0, R.ALL_INTERRUPTS | H.VS_INTERRUPTS, 0) }));
wrap(R.CSR_MIP, (base) => ({
  write: (c, lo, hi) => {
    base.write?.(c, lo, hi);
    setMipSw(c, H.MIP_VSSIP, lo);
  },
}));
wrap(R.CSR_SIE, (base) => ({
  read: (c) => (c.virt !== 0 ? readVsie(c) : base.read?.(c)),
  write: (c, lo, hi) => (c.virt !== 0 ? writeVsie(c, lo) : base.write?.(c, lo, hi)),
}));
wrap(R.CSR_SIP, (base) => ({
  read: (c) => (c.virt !== 0 ? readVsip(c) : base.read?.(c)),
  write: (c, lo, hi) => (c.virt !== 0 ? writeVsip(c, lo) : base.write?.(c, lo, hi)),
}));
wrap(R.CSR_SATP, () => ({
  // In VS-mode satp is vsatp, trapped by hstatus.VTVM instead of mstatus.TVM.
  allowed: (c) =>
    c.virt !== 0 ? (c.lo[H.CSR_HSTATUS] & H.HSTATUS_VTVM) === 0 : !(c.priv === R.PRV_S && (c.mstatus & R.MSTATUS_TVM) !== 0),
}));
// vstimecmp is not implemented (henvcfg.STCE is read-only zero): VS-mode has no stimecmp.
wrap(R.CSR_STIMECMP, (base) => ({ allowed: (c) => c.virt === 0 && (base.allowed === undefined || base.allowed(c)) }));

/** Counters from VS/VU need hcounteren's bit as well (H chapter, hcounteren). */
function gateCounter(csr: number, bit: number): void {
  wrap(csr, (base) => ({
    allowed: (c) => (base.allowed === undefined || base.allowed(c)) && (c.virt === 0 || (c.lo[H.CSR_HCOUNTEREN] & bit) !== 0),
  }));
}
gateCounter(R.CSR_CYCLE, R.COUNTEREN_CY);
gateCounter(R.CSR_TIME, R.COUNTEREN_TM);
gateCounter(R.CSR_INSTRET, R.COUNTEREN_IR);
for (let n = 3; n <= 31; n++) gateCounter(R.CSR_HPMCOUNTER3 + n - 3, 1 << n);
// time in VS/VU reads time + htimedelta.
wrap(R.CSR_TIME, (base) => ({
  read: (c) => {
    base.read?.(c);
    if (c.virt === 0) return;
    const lo = (c.rlo + c.lo[H.CSR_HTIMEDELTA]) | 0;
    c.rhi = (c.rhi + c.hi[H.CSR_HTIMEDELTA] + (lo >>> 0 < c.rlo >>> 0 ? 1 : 0)) | 0;
    c.rlo = lo;
  },
}));
