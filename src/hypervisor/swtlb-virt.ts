/*
 * `--virt trap --mmu swtlb`: virtualizing a software-managed TLB, the way a
 * VMM for a MIPS-like machine does it. The real hart has a soft TLB too
 * (src/machine/swtlb.ts); the guest kernel, deprivileged, believes it owns
 * one. The flow, each step an exit counted in stats.ts:
 *
 *   1. the guest (virtual U or S, real U) misses in the real TLB: a refill
 *      exit. If the guest's *virtual* TLB (in the run page) has no entry
 *      either, the refill is reflected into the guest's handler at its
 *      virtual privilege (swtlb_miss_exit), stlbvpn preset as hardware would.
 *   2. the handler walks its own table and writes stlbpte, then stlbrandom or
 *      stlbindex: CSR exits. The write goes into the virtual TLB
 *      (swtlb_write_exit) and the hypervisor installs the entry in the real
 *      TLB as VPN -> machine frame (swtlb_install): the guest's PFN is a
 *      guest-physical page, looked up in the VM's map. A PFN outside the map
 *      is never installed (swtlb_refused): isolation.
 *   3. the handler's sret exits (xret_exit) and the guest's access is retried
 *      and hits the real TLB.
 *
 * The real TLB holds a subset of the virtual one (composed with the map): an
 * entry the guest's write evicts, or flushes, leaves the real TLB too, so the
 * guest sees exactly the refills the hardware would raise. A real miss the
 * virtual TLB can serve (the real TLB evicted it, or it was installed for
 * another view) is filled without the guest (swtlb_hidden_refill).
 * While the guest runs untranslated (virtual satp Bare, or virtual M) its
 * addresses are guest-physical, and the hypervisor fills the real TLB from the
 * VM's map itself (swtlb_hv_fill). Anything not in RAM (a device, an unbacked
 * page) goes on as the page-fault exit the Sv39 path knows: MMIO or first touch.
 *
 * A real page fault while the guest translates is decided by the guest's own
 * entry: a true fault (swtlb_true_fault) is reflected, and an access the
 * guest's entry allows after all (under its SUM or MXR) is filled like a
 * hidden refill. A change of the guest's SUM or MXR empties the real TLB.
 * MPRV from virtual M is not virtualized here (virtual M runs untranslated).
 *
 * Views: the real hart runs everything in U-mode, so the guest's S-only pages
 * and its user pages must not share real entries. Real ASIDs name a view:
 * 0 untranslated; 1 + 2·(guest ASID mod 2^14) + (virtual U ? 1 : 0)
 * otherwise. A guest's global entries are installed per view (and filled
 * again after a view change: hidden refills). Guest ASIDs that agree in
 * their low 14 bits share real entries: the real TLB is flushed when the
 * guest's ASID changes to one with the same low bits (a documented limit).
 *
 * Threads: the virtual TLB's CSRs may be emulated on either thread (the
 * vCPU's with --exit-handler vcpu, else the main thread); they leave what the
 * real TLB must do in the run page's vtlbPending, and only the vCPU thread
 * touches the real hart (afterExit), before the guest runs on.
 */

import type { CsrFile, SoftTlbHost } from "../machine/csr.ts";
import type { Hart } from "../machine/hart.ts";
import { flushSoft, installSoftEntry, needsSoftwareUpdate } from "../machine/hart-swtlb.ts";
import type { GuestMemoryView } from "../machine/guest-memory-view.ts";
import { DRAM_BASE, PAGE_SIZE } from "../machine/memlayout.ts";
import { pageFaultCause, type Access } from "../machine/mmu.ts";
import * as R from "../machine/riscv.ts";
import { SoftTlb, softEntryAllows, vpnOf } from "../machine/swtlb.ts";
import { hiOf, loOf } from "../machine/u64.ts";
import { reflectException } from "./exits/reflect.ts";
import type { RunPage } from "./runpage.ts";
import { STAT } from "./stats.ts";
import type { VcpuContext } from "./vcpu-context.ts";

/** vtlbPending ops. */
const PENDING_NONE = 0;
const PENDING_INSTALL = 1;
const PENDING_FLUSH_ALL = 2;
const PENDING_FLUSH_VPN = 3;

const TWO_22 = 4194304;
const TWO_32 = 4294967296;
/** Guest ASID bits kept in a real view ASID. */
const VIEW_ASID_MASK = 0x3fff;

/** The guest's virtual TLB, over its run page. */
function virtualTlbOf(page: RunPage): SoftTlb {
  return new SoftTlb({ entries: page.vtlb, state: page.vtlbState });
}

/**
 * The virtual CSR file's TLB-write CSRs (CsrHost.softTlb of a VcpuContext):
 * same slot rules as the hardware's, on the virtual TLB; the real TLB's part
 * is left in vtlbPending for the vCPU thread.
 */
export function virtualSoftTlbHost(ctx: VcpuContext): SoftTlbHost {
  const vtlb = virtualTlbOf(ctx.page);
  const pending = ctx.page.vtlbPending;
  return {
    command(c: CsrFile, csr: number, lo: number, hi: number): void {
      if (csr === R.CSR_STLBFLUSH) {
        ctx.count(STAT.swtlb_flush_exit);
        if (lo === 0 && hi === 0) {
          vtlb.flushAll();
          pending[0] = PENDING_FLUSH_ALL;
        } else {
          const vpn = vpnOf(lo, hi);
          vtlb.flushVpn(vpn);
          pending[0] = PENDING_FLUSH_VPN;
          pending[1] = vpn;
        }
        return;
      }
      ctx.count(STAT.swtlb_write_exit);
      const vpn = c.lo[R.CSR_STLBVPN];
      const asid = c.hi[R.CSR_STLBVPN];
      const slot = vtlb.chooseSlot(csr === R.CSR_STLBINDEX, lo, vpn, asid);
      const evicted = vtlb.put(slot, vpn, asid, c.lo[R.CSR_STLBPTE], c.hi[R.CSR_STLBPTE]);
      c.lo[R.CSR_STLBINDEX] = slot;
      c.hi[R.CSR_STLBINDEX] = 0;
      pending[0] = PENDING_INSTALL;
      pending[1] = slot;
      pending[2] = evicted;
    },
    nextRandom: () => vtlb.nextRandom(),
  };
}

/** SwtlbShadow.onTrap's answers. */
export const SWTLB_HANDLED = 0;
export const SWTLB_FORWARD = 1;
const SWTLB_NOT_MINE = 2;

/** The vCPU thread's side: the real hart's soft TLB, kept as the guest's virtual TLB composed with the VM's map. */
export class SwtlbShadow {
  private readonly vtlb: SoftTlb;
  private readonly real: SoftTlb;
  /** The real ASID (view) the hart runs under now. */
  private view = -1;
  /** The guest ASID last seen, to detect a switch that aliases in the view's 14 bits. */
  private lastGuestAsid = -1;
  /** The guest's sstatus.SUM and MXR when the real entries were filled. */
  private lastSumMxr = 0;
  /** For SWTLB_FORWARD: the page fault to hand to the usual path, and its address (guest-physical). */
  forwardCause = 0;
  forwardTval = 0;

  constructor(
    private readonly hart: Hart,
    private readonly ctx: VcpuContext,
    /** The VM's guest-physical map as this thread sees it. */
    private readonly memory: GuestMemoryView,
  ) {
    if (hart.soft === undefined) throw new Error("SwtlbShadow: the real hart has no soft TLB (--mmu swtlb)");
    this.real = hart.soft;
    this.vtlb = virtualTlbOf(ctx.page);
  }

  /** Whether the guest's current accesses are translated by its TLB (virtual satp Sv39, not virtual M). */
  private guestTranslates(): boolean {
    const c = this.ctx.csr;
    return c.priv !== R.PRV_M && c.hi[R.CSR_SATP] >>> 28 === R.SATP_MODE_SV39;
  }

  private guestAsid(): number {
    return (this.ctx.csr.hi[R.CSR_SATP] >>> R.SATP_HI_ASID_SHIFT) & R.SATP_ASID_MASK;
  }

  /** The real ASID for the guest's view: see the header. */
  private viewFor(translated: boolean, userPages: boolean): number {
    return translated ? 1 + ((this.guestAsid() & VIEW_ASID_MASK) << 1) + (userPages ? 1 : 0) : 0;
  }

  /** After any exit (or an injected interrupt), before guest code runs: apply the guest's TLB write, then the view. */
  afterExit(): void {
    const pending = this.ctx.page.vtlbPending;
    const op = pending[0];
    if (op !== PENDING_NONE) {
      pending[0] = PENDING_NONE;
      if (op === PENDING_INSTALL) {
        // The real TLB never holds what the guest's does not: the page the write evicted, and any
        // older entry of the page it writes (another view, other permissions), go first.
        if (pending[2] >= 0) flushSoft(this.hart, this.real, pending[2]);
        flushSoft(this.hart, this.real, this.vtlb.vpnAt(pending[1]));
        this.installFromGuest(pending[1]);
      }
      else flushSoft(this.hart, this.real, op === PENDING_FLUSH_ALL ? -1 : pending[1]);
    }
    this.syncView();
  }

  /** Points the real satp's ASID at the view of the guest's current state. */
  syncView(): void {
    const translated = this.guestTranslates();
    // Real entries filled under the guest's SUM or MXR grant what they granted: a change drops them all.
    const sumMxr = this.ctx.csr.mstatus & (R.MSTATUS_SUM | R.MSTATUS_MXR);
    if (sumMxr !== this.lastSumMxr) {
      this.lastSumMxr = sumMxr;
      flushSoft(this.hart, this.real, -1);
    }
    const want = this.viewFor(translated, this.ctx.csr.priv === R.PRV_U);
    if (translated) {
      const asid = this.guestAsid();
      if (this.lastGuestAsid >= 0 && asid !== this.lastGuestAsid && (asid & VIEW_ASID_MASK) === (this.lastGuestAsid & VIEW_ASID_MASK)) {
        flushSoft(this.hart, this.real, -1); // two guest ASIDs alias in the real one
      }
      this.lastGuestAsid = asid;
    }
    if (want === this.view) return;
    this.view = want;
    const c = this.hart.csr;
    const hi = (c.hi[R.CSR_SATP] & ~(R.SATP_ASID_MASK << R.SATP_HI_ASID_SHIFT)) | (want << R.SATP_HI_ASID_SHIFT);
    c.write(R.CSR_SATP, c.lo[R.CSR_SATP], hi);
  }

  /**
   * A trap of the real hart, before the usual dispatch: refills and (while
   * the guest translates) page faults are this module's. SWTLB_HANDLED: the
   * guest goes on at ctx.pc. SWTLB_FORWARD: go on as the page fault in
   * forwardCause at the guest-physical forwardTval (MMIO, first touch, or no
   * memory there). SWTLB_NOT_MINE: the usual dispatch, unchanged.
   */
  onTrap(cause: number, va: number, pc: number): number {
    const isRefill = cause >= R.CAUSE_TLB_REFILL_FETCH && cause <= R.CAUSE_TLB_REFILL_STORE;
    const isPageFault = cause === R.CAUSE_FETCH_PAGE_FAULT || cause === R.CAUSE_LOAD_PAGE_FAULT || cause === R.CAUSE_STORE_PAGE_FAULT;
    if (!isRefill && !isPageFault) return SWTLB_NOT_MINE;
    const translated = this.guestTranslates();
    if (isPageFault) {
      if (!translated) return SWTLB_NOT_MINE;
      const hi = hiOf(va);
      if (((hi << 25) >> 25) !== hi) {
        // Not a canonical address: the guest's fault whatever its TLB holds.
        this.ctx.count(STAT.swtlb_true_fault);
        reflectException(this.ctx, cause, va, pc);
        this.syncView();
        return SWTLB_HANDLED;
      }
      // A real entry refused the access: decide by the guest's own entry and privilege (it may allow
      // what the real one, copied without the guest's MXR or SUM at hand, did not).
      const access = (cause === R.CAUSE_FETCH_PAGE_FAULT ? 0 : cause === R.CAUSE_LOAD_PAGE_FAULT ? 1 : 2) as Access;
      return this.refillTranslated(R.CAUSE_TLB_REFILL_FETCH + access, access, va, pc);
    }
    const access = (cause - R.CAUSE_TLB_REFILL_FETCH) as Access;
    return translated ? this.refillTranslated(cause, access, va, pc) : this.refillPhysical(access, va, pc);
  }

  /** A real miss while the guest is untranslated: its address is guest-physical. */
  private refillPhysical(access: Access, gpa: number, pc: number): number {
    const page = gpa - (gpa % PAGE_SIZE);
    const machine = this.machinePage(page);
    if (machine < 0) return this.forward(access, gpa);
    this.install(vpnOf(loOf(gpa), hiOf(gpa)), 0, machine, R.PTE_R | R.PTE_W | R.PTE_X | R.PTE_D);
    this.ctx.count(STAT.swtlb_hv_fill);
    this.ctx.pc = pc;
    return SWTLB_HANDLED;
  }

  private refillTranslated(cause: number, access: Access, va: number, pc: number): number {
    const ctx = this.ctx;
    const lo = loOf(va);
    const hi = hiOf(va);
    const vpn = vpnOf(lo, hi);
    const asid = this.guestAsid();
    const slot = this.vtlb.lookup(vpn, asid);
    const pte = slot < 0 ? 0 : this.vtlb.pteLoAt(slot);
    if (slot < 0 || needsSoftwareUpdate(pte, access)) {
      // The guest's own TLB misses too: its refill handler runs, as on the hardware.
      const c = ctx.csr;
      c.lo[R.CSR_STLBVPN] = vpn;
      c.hi[R.CSR_STLBVPN] = asid;
      ctx.count(STAT.swtlb_miss_exit);
      reflectException(ctx, cause, va, pc);
      this.syncView();
      return SWTLB_HANDLED;
    }
    const c = ctx.csr;
    const mxr = (c.mstatus & R.MSTATUS_MXR) !== 0;
    if (!softEntryAllows(pte, c.priv, (c.mstatus & R.MSTATUS_SUM) !== 0, mxr, access)) {
      ctx.count(STAT.swtlb_true_fault);
      reflectException(ctx, pageFaultCause(access), va, pc);
      this.syncView();
      return SWTLB_HANDLED;
    }
    const gpaPage = this.vtlb.ppnAt(slot) * PAGE_SIZE;
    const machine = this.machinePage(gpaPage);
    if (machine < 0) return this.forward(access, gpaPage + (va % PAGE_SIZE));
    // A load MXR allows through an execute-only page: the real entry (this view's, flushed when MXR changes) says R.
    this.install(vpn, this.view, machine, access === 1 && mxr ? pte | R.PTE_R : pte);
    ctx.count(STAT.swtlb_hidden_refill);
    ctx.pc = pc;
    return SWTLB_HANDLED;
  }

  /** Installs the guest's entry in `slot` of its virtual TLB into the real TLB, if its frame is in the VM's map. */
  private installFromGuest(slot: number): void {
    const v = this.vtlb;
    if (!v.validAt(slot)) return;
    const pte = v.pteLoAt(slot);
    if ((pte & R.PTE_A) === 0) return; // it refills again first (needsSoftwareUpdate): nothing worth installing
    const machine = this.machinePage(v.ppnAt(slot) * PAGE_SIZE);
    if (machine < 0) {
      this.ctx.count(STAT.swtlb_refused);
      return;
    }
    // A guest user page goes to the user view, a kernel page to the kernel view, of the entry's ASID.
    const asid = (pte & R.PTE_G) !== 0 ? this.guestAsid() : v.asidAt(slot);
    const view = 1 + ((asid & VIEW_ASID_MASK) << 1) + ((pte & R.PTE_U) !== 0 ? 1 : 0);
    this.install(v.vpnAt(slot), view, machine, pte);
  }

  /**
   * Writes a real entry: the guest's permissions (R W X, and D so that a clean
   * page still refills on its first store), U because the real hart runs
   * everything in U-mode, never G (views separate what G would share).
   */
  private install(vpn: number, view: number, machinePage: number, guestPte: number): void {
    const flags = R.PTE_V | R.PTE_U | R.PTE_A | (guestPte & (R.PTE_R | R.PTE_W | R.PTE_X | R.PTE_D));
    const ppn = machinePage / PAGE_SIZE;
    const pteLo = ((ppn % TWO_22) << 10) | flags;
    const pteHi = Math.floor(ppn / TWO_22);
    installSoftEntry(this.hart, this.real, this.real.chooseSlot(false, 0, vpn, view), vpn, view, pteLo, pteHi);
    this.ctx.count(STAT.swtlb_install);
  }

  /** The machine address of a guest-physical page's frame, or -1 when it is not backed RAM of this VM. */
  private machinePage(gpaPage: number): number {
    if (gpaPage < 0 || gpaPage >= TWO_32 * 4096) return -1;
    const off = this.memory.translate(gpaPage, PAGE_SIZE);
    return off < 0 ? -1 : off + DRAM_BASE;
  }

  private forward(access: Access, gpa: number): number {
    this.forwardCause = pageFaultCause(access);
    this.forwardTval = gpa;
    return SWTLB_FORWARD;
  }
}
