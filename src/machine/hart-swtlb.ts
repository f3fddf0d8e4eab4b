/*
 * The hart's side of `--mmu swtlb` (swtlb.ts): translation by lookup in the
 * software-refilled TLB instead of a page-table walk, and the TLB-write CSRs'
 * effects. Both run only on the hart's slow path (a miss of its fast TLBs,
 * tlb.ts), which stay what they are: caches of translations, here of soft TLB
 * entries, so every change of an entry drops that page from them.
 */

import type { CsrFile, SoftTlbHost } from "./csr.ts";
import { pageFaultCause, type Access, type Translation, type WalkContext } from "./mmu.ts";
import * as R from "./riscv.ts";
import { softEntryAllows, vpnOf, type SoftTlb } from "./swtlb.ts";

const PAGE = 4096;

/** What of the hart this file uses (the Hart class, named structurally: hart.ts imports this file). */
export interface SoftTlbOwner {
  readonly csr: CsrFile;
  /** Where a translation's result goes. */
  readonly walkOut: Translation;
  /** Drops the hart's cached translations of one page (every ASID), or of all pages. */
  dropCachedPage(vpn: number): void;
  dropCachedAll(): void;
}

/** The current ASID (satp bits 59:44). */
function currentAsid(c: CsrFile): number {
  return (c.hi[R.CSR_SATP] >>> R.SATP_HI_ASID_SHIFT) & R.SATP_ASID_MASK;
}

/**
 * Translates through the soft TLB into h.walkOut. Returns 0, a page fault
 * (non-canonical address, or an entry that does not allow the access), or the
 * refill exception — having preset stlbvpn to the missing page and ASID, as
 * MIPS presets EntryHi, so a handler need not compute it.
 */
export function translateSoft(h: SoftTlbOwner, soft: SoftTlb, ctx: WalkContext, vaLo: number, vaHi: number, access: Access): number {
  if (((vaHi << 25) >> 25) !== vaHi) return pageFaultCause(access);
  const c = h.csr;
  const vpn = vpnOf(vaLo, vaHi);
  const asid = currentAsid(c);
  const slot = soft.lookup(vpn, asid);
  if (slot < 0 || needsSoftwareUpdate(soft.pteLoAt(slot), access)) {
    c.lo[R.CSR_STLBVPN] = vpn;
    c.hi[R.CSR_STLBVPN] = asid;
    return R.CAUSE_TLB_REFILL_FETCH + access;
  }
  return hit(soft, slot, ctx, vaLo, access, h.walkOut);
}

/**
 * An entry without A, or a store to a writable entry without D, refills like
 * a miss (as MIPS raises "TLB modified"): the handler keeps A and D in its
 * own table and rewrites the entry, which replaces this one (installSoftEntry).
 */
export function needsSoftwareUpdate(pte: number, access: Access): boolean {
  return (pte & R.PTE_A) === 0 || (access === 2 && (pte & (R.PTE_W | R.PTE_D)) === R.PTE_W);
}

/** translateSoft without side effects (for reading an instruction's bits): 0 or a nonzero "no". */
export function translateSoftQuiet(soft: SoftTlb, c: CsrFile, ctx: WalkContext, vaLo: number, vaHi: number, out: Translation): number {
  if (((vaHi << 25) >> 25) !== vaHi) return 1;
  const slot = soft.lookup(vpnOf(vaLo, vaHi), currentAsid(c));
  return slot < 0 ? 1 : hit(soft, slot, ctx, vaLo, 0, out);
}

function hit(soft: SoftTlb, slot: number, ctx: WalkContext, vaLo: number, access: Access, out: Translation): number {
  const pte = soft.pteLoAt(slot);
  if (!softEntryAllows(pte, ctx.priv, ctx.sum, ctx.mxr, access)) return pageFaultCause(access);
  out.pa = soft.ppnAt(slot) * PAGE + (vaLo & (PAGE - 1));
  out.global = (pte & R.PTE_G) !== 0;
  out.writable = (pte & R.PTE_W) !== 0 && (pte & R.PTE_D) !== 0;
  out.spanShift = 0;
  return 0;
}

/**
 * Writes a soft TLB entry and drops what the fast TLBs cached for the page it
 * replaces and the page it maps. A page already held under the same ASID is
 * never held twice: that entry is emptied first (a random write reuses its slot).
 */
export function installSoftEntry(h: SoftTlbOwner, soft: SoftTlb, slot: number, vpn: number, asid: number, pteLo: number, pteHi: number): void {
  const old = soft.put(slot, vpn, asid, pteLo, pteHi);
  if (old >= 0) h.dropCachedPage(old);
  h.dropCachedPage(vpn);
}

/** Empties the soft TLB (vpn < 0) or drops one page's entries under every ASID. */
export function flushSoft(h: SoftTlbOwner, soft: SoftTlb, vpn: number): void {
  if (vpn < 0) {
    soft.flushAll();
    h.dropCachedAll();
  } else {
    soft.flushVpn(vpn);
    h.dropCachedPage(vpn);
  }
}

/** The TLB-write CSRs of a hart with a soft TLB (CsrHost.softTlb). */
export function softTlbHost(h: SoftTlbOwner, soft: SoftTlb): SoftTlbHost {
  return {
    command(c, csr, lo, hi) {
      switch (csr) {
        case R.CSR_STLBINDEX:
        case R.CSR_STLBRANDOM: {
          const vpn = c.lo[R.CSR_STLBVPN];
          const asid = c.hi[R.CSR_STLBVPN];
          const slot = soft.chooseSlot(csr === R.CSR_STLBINDEX, lo, vpn, asid);
          installSoftEntry(h, soft, slot, vpn, asid, c.lo[R.CSR_STLBPTE], c.hi[R.CSR_STLBPTE]);
          c.lo[R.CSR_STLBINDEX] = slot;
          c.hi[R.CSR_STLBINDEX] = 0;
          return;
        }
        default:
          flushSoft(h, soft, lo === 0 && hi === 0 ? -1 : vpnOf(lo, hi));
      }
    },
    nextRandom: () => soft.nextRandom(),
  };
}
