/*
 * Shadow page tables for one vCPU (the classic VMM's answer to guest
 * paging, as in KVM's shadow MMU): Sv39 tables in machine memory that map
 * guest-virtual pages straight to machine frames, composed from the guest's
 * own table (guest-virtual -> guest-physical) and the VM's guest-physical
 * map (guest-physical -> machine frame). The vCPU's real hart runs in U-mode
 * with its real satp on one of them.
 *
 * Views. The guest's kernel and its processes both run in real U-mode, so a
 * shadow space is kept per (guest root, guest ASID, view), where the view is
 * what the real hart cannot tell apart by itself: the virtual privilege of
 * the accesses (U, S, or M with MPRV and MPP = S/U) and the SUM and MXR bits
 * (priv spec 4.3.1, 3.1.6.3). A virtual-U view never holds an entry the
 * guest's U bit does not allow, a virtual-S view none with U set unless SUM
 * allows it (and never for fetches). Virtual M without MPRV, and Bare satp,
 * use the VM's guest-physical table (ASID 0). Under MPRV, data accesses are
 * translated and fetches are not: the view's entries come from either rule
 * by the access that faulted (a page used both ways flips between them).
 *
 * Filling is lazy: every shadow entry starts absent; the real hart's fault
 * on it exits; fill() walks the guest's table with the machine's own Sv39
 * walker (src/machine/mmu.ts, reading guest memory through the VM's map) at
 * the view's privilege. A mapping the guest allows becomes an entry (a
 * hidden fault, pf_fixed) with just the permission that access needed (R
 * for a load, plus W if the guest PTE is already dirty; R|W for a store; X
 * for a fetch), and the walk sets the guest PTE's A and D exactly as the
 * hardware would: a page is writable in the shadow only once D is set in
 * the guest's PTE. A mapping the guest does not allow is the guest's own
 * page fault (a true fault, pf_guest), reflected with stval = the address.
 *
 * Coherence policy (--shadow-coherence tlb, the default): the shadow is a
 * cache of guest translations with the architectural lifetime of TLB
 * entries. The guest's page-table pages are
 * not write-protected: RISC-V requires an sfence.vma after any PTE change
 * before the change must be seen (priv spec 4.2.1, including invalid-to-valid
 * changes), and a remote one (SBI RFENCE, or an IPI the other hart answers
 * with sfence.vma) for other harts, so the guest's own fences say exactly
 * which entries to drop: sfence.vma all / by address / by ASID / both zap
 * the matching entries of every kept space, an RFENCE is a shootdown
 * (shootdown.ts). Until its fence a guest may see the old mapping, as on
 * hardware. A satp switch selects (or builds) a space and drops nothing, so
 * a context switch back to a kept space rebuilds nothing.
 *
 * Coherence by write-protection (--shadow-coherence wp, the classic VMMs'
 * way, for the lesson): on top of the fences above, every guest page-table
 * page a fill walked through is recorded (pt-directory.ts: where it was
 * used) and mapped read-only in every shadow space of this vCPU: no
 * writable shadow leaf names its frame (wrMap finds those to downgrade when
 * a table is first seen). A store to one faults; fill() answers
 * FILL_PT_WRITE and the exit handler emulates the store through the guest
 * memory view (exits/pt-write.ts), then ptStored() zaps the shadow entries
 * the changed guest PTE fed (mmu_pte_write). Flooding, as KVM: a table
 * stored to PT_FLOOD_WRITES times with no walk through it in between (a
 * kernel filling a fresh table, or tearing one down) stops being shadowed:
 * what it fed is zapped and it is writable again until a walk uses it
 * (mmu_flooded). An AMO, LR/SC or misaligned store is not emulated: the page
 * is unprotected the same way and the instruction retried natively. Stores
 * from another vCPU are seen by that vCPU's own write-protection (its
 * shadows are filled from the same tables); for this vCPU's entries the
 * guest's remote fence is still what drops them, as the architecture says.
 *
 * Superpages (2 MiB, 1 GiB) in the guest's table are shadowed as 4 KiB
 * pages, filled one by one; the non-leaf shadow PTE above them carries RSW
 * bit 8, so an sfence.vma of any address in the superpage drops every piece
 * of it (the spec's "entries for the leaf covering the address").
 *
 * Isolation: a shadow leaf's frame comes only from the VM's guest-physical
 * map (GuestPhysView.translate), whatever the guest's PTEs say; addresses
 * outside guest RAM never become mappings (fill reports them: MMIO or an
 * access fault). Shadow tables come from a fixed per-vCPU pool of machine
 * frames; when it runs dry the least recently used other space is recycled
 * (mmu_recycled), and as a last resort the current one is emptied.
 *
 * Each vCPU has its own shadow spaces: only its own thread (or the main
 * thread while it waits in an exit) ever writes them, and its hart walks
 * them only while no one else does. PTEs are still written high word first
 * and cleared low word (V) first, the discipline guest-memory.ts uses.
 */

import { FAULT_UNBACKED } from "../../machine/guest-memory-view.ts";
import { DRAM_BASE, PAGE_SIZE } from "../../machine/memlayout.ts";
import { ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE, walkSv39, type Access, type PteMemory, type Translation } from "../../machine/mmu.ts";
import type { PhysMem } from "../../machine/physmem.ts";
import * as R from "../../machine/riscv.ts";
import type { CsrFile } from "../../machine/csr.ts";
import type { GuestPhysView } from "../../machine/guest-phys-view.ts";
import { STAT } from "../stats.ts";
import * as H from "./shadow-state.ts";
import * as D from "./pt-directory.ts";

/** Results of fill(). */
export const FILL_DONE = 0;
/** The guest's own table refuses the access: reflect `cause` with stval = the address. */
export const FILL_GUEST_FAULT = 1;
/** The guest maps it to a RAM page that has no frame yet: back `gpa` (main thread), then fill again. */
export const FILL_UNBACKED = 2;
/** The guest maps a load or store to `gpa` outside RAM: an MMIO access to emulate. */
export const FILL_MMIO = 3;
/** A fetch from outside RAM: an instruction access fault for the guest. */
export const FILL_FETCH_NOT_RAM = 4;
/** --shadow-coherence wp: a permitted store to a write-protected guest page-table page at `gpa`: emulate it (exits/pt-write.ts). */
export const FILL_PT_WRITE = 5;

/** Stores to one guest table, with no walk through it in between, before it is unshadowed (KVM's flooding count is 3). */
const PT_FLOOD_WRITES = 3;

// View bits: the virtual privilege of data accesses, whether fetches are untranslated (MPRV), SUM, MXR.
const VIEW_S = 1;
const VIEW_MPRV = 2;
const VIEW_SUM = 4;
const VIEW_MXR = 8;

const STATUS_BITS = R.MSTATUS_SUM | R.MSTATUS_MXR | R.MSTATUS_MPRV | R.MSTATUS_MPP;
const TWO_22 = 4194304;
const TWO_32 = 4294967296;
/** RSW bit 8 of a non-leaf shadow PTE: the subtree holds pieces of a guest superpage. */
const PTE_SUPER = 1 << 8;
const LEAF_BASE = R.PTE_V | R.PTE_U | R.PTE_A | R.PTE_D;
const PERMS = R.PTE_R | R.PTE_W | R.PTE_X;
/** Sv39 VPNs are 27 bits; an upper-half address's negative page number is taken modulo 2^27. */
const VPN_MASK = 0x7ff_ffff;

/** The guest's memory as the Sv39 walker reads it: through the VM's map; unbacked RAM reads as the zero frame. */
class GuestPtes implements PteMemory {
  readonly i32: Int32Array;
  /** Machine offsets of the last three PTEs read (a ring, `reads` counts): a walk's tables, root first. */
  readonly lastReads = new Float64Array(3);
  reads = 0;
  constructor(
    private readonly guest: GuestPhysView,
    mem: PhysMem,
    private readonly zeroOffset: number,
  ) {
    this.i32 = mem.i32;
  }
  offsetOf(gpa: number): number {
    const off = this.guest.translate(gpa, 8);
    const at = off === FAULT_UNBACKED ? this.zeroOffset + (gpa & (PAGE_SIZE - 1)) : off;
    this.lastReads[this.reads++ % 3] = at;
    return at;
  }
}

export class ShadowMmu {
  readonly state: H.ShadowState;
  private readonly h: Int32Array;
  private readonly slots: Int32Array;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly ptes: GuestPtes;
  /** --shadow-coherence wp (shadow-state.ts H_WRITE_PROTECT). */
  private readonly writeProtect: boolean;
  private readonly dir: Int32Array;
  private readonly wrMap: Int32Array;
  private readonly walkOut: Translation = { pa: 0, global: false, writable: false, spanShift: 0 };
  private readonly walkCtx = { rootPpn: 0, priv: 0, sum: false, mxr: false };
  /** Set when allocFrame had to empty the slot being filled: the fill restarts from its root. */
  private emptiedSlot = -1;
  /** A table left unprotected for the next fill (unprotectForRetry), or -1. */
  private retryFrame = -1;
  /** Outputs of fill(): the guest-physical address, or the guest's fault cause. */
  gpa = 0;
  cause = 0;

  constructor(
    buffer: SharedArrayBuffer,
    mem: PhysMem,
    private readonly guest: GuestPhysView,
    /** The counters of the thread this object lives on (VcpuContext.stats). */
    private readonly stats: Float64Array,
  ) {
    this.state = new H.ShadowState(buffer);
    this.h = this.state.header;
    this.slots = this.state.slots;
    this.i32 = mem.i32;
    this.u8 = mem.u8;
    this.ptes = new GuestPtes(guest, mem, this.h[H.H_ZERO_PPN] * PAGE_SIZE - DRAM_BASE);
    this.writeProtect = this.h[H.H_WRITE_PROTECT] === 1;
    this.dir = this.state.ptDir;
    this.wrMap = this.state.wrMap;
  }

  // ---- selection: which table the real satp names ----

  /**
   * The shadow slot for the virtual hart's current translation state, built
   * if new; -1 when the guest-physical table applies (Bare, or virtual M
   * without MPRV). Cheap when nothing changed since the last call.
   */
  select(csr: CsrFile): number {
    const h = this.h;
    const priv = csr.priv;
    const status = csr.mstatus & STATUS_BITS;
    const satpLo = csr.lo[R.CSR_SATP];
    const satpHi = csr.hi[R.CSR_SATP];
    if (h[H.H_CUR_VALID] === 1 && h[H.H_CUR_PRIV] === priv && h[H.H_CUR_STATUS] === status && h[H.H_CUR_SATP_LO] === satpLo && h[H.H_CUR_SATP_HI] === satpHi) {
      return h[H.H_CUR_SLOT];
    }
    const view = viewOf(priv, status, satpHi);
    const previous = h[H.H_CUR_VALID] === 1 ? h[H.H_CUR_SLOT] : -1;
    const slot = view < 0 ? -1 : this.findOrBuild(satpLo, satpHi & R.SATP_HI_PPN_MASK, (satpHi >>> R.SATP_HI_ASID_SHIFT) & R.SATP_ASID_MASK, view, previous);
    h[H.H_CUR_VALID] = 1;
    h[H.H_CUR_PRIV] = priv;
    h[H.H_CUR_STATUS] = status;
    h[H.H_CUR_SATP_LO] = satpLo;
    h[H.H_CUR_SATP_HI] = satpHi;
    h[H.H_CUR_SLOT] = slot;
    return slot;
  }

  /** The real satp for a slot: Sv39, ASID slot + 1, the shadow root. */
  realSatpLo(slot: number): number {
    return this.slots[slot * H.SLOT_FIELDS + H.S_SHADOW_ROOT];
  }
  realSatpHi(slot: number): number {
    return (R.SATP_MODE_SV39 << 28) | ((slot + 1) << R.SATP_HI_ASID_SHIFT);
  }

  /** Takes the "flush the hart's TLB" request (vCPU thread, before guest code runs again). */
  takeFlushPending(): boolean {
    return Atomics.load(this.h, H.H_FLUSH_PENDING) !== 0 && Atomics.exchange(this.h, H.H_FLUSH_PENDING, 0) !== 0;
  }

  private findOrBuild(rootLo: number, rootHi: number, asid: number, view: number, previous: number): number {
    const s = this.slots;
    const stamp = ++this.h[H.H_STAMP];
    let free = -1;
    let lru = -1;
    for (let i = 0; i < H.SLOT_COUNT; i++) {
      const b = i * H.SLOT_FIELDS;
      if (s[b + H.S_SHADOW_ROOT] === 0) {
        if (free < 0) free = i;
        continue;
      }
      if (s[b + H.S_ROOT_LO] === rootLo && s[b + H.S_ROOT_HI] === rootHi && s[b + H.S_ASID] === asid && s[b + H.S_VIEW] === view) {
        s[b + H.S_LAST_USE] = stamp;
        if (i !== previous) this.stats[STAT.mmu_table_kept]++;
        return i;
      }
      if (lru < 0 || s[b + H.S_LAST_USE] < s[lru * H.SLOT_FIELDS + H.S_LAST_USE]) lru = i;
    }
    let slot = free;
    if (slot < 0) {
      slot = lru;
      this.freeSlot(slot);
      this.stats[STAT.mmu_recycled]++;
    }
    const root = this.allocFrame(slot);
    const b = slot * H.SLOT_FIELDS;
    s[b + H.S_ROOT_LO] = rootLo;
    s[b + H.S_ROOT_HI] = rootHi;
    s[b + H.S_ASID] = asid;
    s[b + H.S_VIEW] = view;
    s[b + H.S_SHADOW_ROOT] = root;
    s[b + H.S_LAST_USE] = stamp;
    this.stats[STAT.mmu_table_built]++;
    return slot;
  }

  // ---- filling ----

  /**
   * Handles the real hart's page fault at guest-virtual `va` (exact, below
   * 2^53 in magnitude) for `access` in `slot`: FILL_* (see above); gpa and
   * cause say more.
   */
  fill(slot: number, access: Access, va: number): number {
    const view = this.slots[slot * H.SLOT_FIELDS + H.S_VIEW];
    let gpa: number;
    let level = 0;
    let perms: number;
    const walked = (view & VIEW_MPRV) === 0 || access !== ACCESS_FETCH;
    if (!walked) {
      gpa = va; // M-mode fetches are untranslated even under MPRV (priv spec 3.1.6.3)
      perms = R.PTE_X;
    } else {
      const b = slot * H.SLOT_FIELDS;
      const ctx = this.walkCtx;
      ctx.rootPpn = (this.slots[b + H.S_ROOT_HI] >>> 0) * TWO_32 + (this.slots[b + H.S_ROOT_LO] >>> 0);
      ctx.priv = (view & VIEW_S) !== 0 ? R.PRV_S : R.PRV_U;
      ctx.sum = (view & VIEW_SUM) !== 0;
      ctx.mxr = (view & VIEW_MXR) !== 0;
      this.ptes.reads = 0;
      const cause = walkSv39(this.ptes, ctx, va | 0, Math.floor(va / TWO_32) | 0, access, this.walkOut);
      if (cause !== 0) {
        this.retryFrame = -1;
        this.cause = cause;
        this.stats[STAT.pf_guest]++;
        return FILL_GUEST_FAULT;
      }
      gpa = this.walkOut.pa;
      level = this.walkOut.spanShift / 9;
      perms = access === ACCESS_FETCH ? R.PTE_X : access === ACCESS_LOAD ? R.PTE_R | (this.walkOut.writable ? R.PTE_W : 0) : R.PTE_R | R.PTE_W;
    }
    this.gpa = gpa;
    const off = gpa < 0 ? -1 : this.guest.translate(gpa - (gpa % PAGE_SIZE), 1);
    if (off === FAULT_UNBACKED) return FILL_UNBACKED;
    if (off < 0) {
      if (access === ACCESS_FETCH) return FILL_FETCH_NOT_RAM;
      // A device page the VM maps straight into the guest (an assigned device's registers): a
      // mapping like RAM's, for loads and stores only, so the guest's accesses there never exit.
      const device = gpa < 0 ? -1 : this.guest.devicePage(gpa);
      if (device < 0) return FILL_MMIO;
      this.insert(slot, va, device / PAGE_SIZE, perms, level);
      this.stats[STAT.pf_fixed]++;
      return FILL_DONE;
    }
    const frame = off / PAGE_SIZE;
    if (this.writeProtect && walked) {
      // The tables this walk went through: write-protected from now on (the target may be one of them).
      const protectedAll = this.protectWalk(slot, va, level);
      this.retryFrame = -1;
      if (!protectedAll) return this.fill(slot, access, va); // the directory started over: walk again
      if ((perms & R.PTE_W) !== 0 && D.dirFind(this.dir, frame) >= 0) {
        if (access === ACCESS_STORE) return FILL_PT_WRITE;
        perms &= ~R.PTE_W;
      }
    }
    this.insert(slot, va, (off + DRAM_BASE) / PAGE_SIZE, perms, level);
    if (this.writeProtect && (perms & R.PTE_W) !== 0) this.wrMap[frame >>> 5] |= 1 << (frame & 31);
    this.stats[STAT.pf_fixed]++;
    return FILL_DONE;
  }

  // ---- write-protection of the guest's tables (--shadow-coherence wp) ----

  /**
   * Records the tables of the walk just made (levels 2 .. the leaf's) as used
   * by `slot` for `va`'s regions, resets their flooding counts, and
   * write-protects the ones seen for the first time. False when the
   * directory was full and everything started over (the caller walks again).
   */
  private protectWalk(slot: number, va: number, leafLevel: number): boolean {
    const dir = this.dir;
    const vpn = Math.floor(va / PAGE_SIZE) & VPN_MASK;
    const n = 3 - leafLevel;
    const reads = this.ptes.reads;
    for (let k = 0; k < n; k++) {
      const tableLevel = 2 - k;
      const frame = Math.floor(this.ptes.lastReads[(reads - n + k) % 3] / PAGE_SIZE);
      if (frame === this.retryFrame) continue;
      let e = D.dirFind(dir, frame);
      if (e < 0) {
        e = D.dirInsert(dir, frame);
        if (e < 0) {
          this.startOver();
          return false;
        }
        this.downgrade(frame);
        this.stats[STAT.mmu_pt_protected]++;
      }
      dir[e + D.E_WRITES] = 0;
      const regionVpn = tableLevel === 2 ? 0 : vpn - (vpn % 512 ** (tableLevel + 1));
      const u = D.findUse(dir, e, tableLevel, regionVpn);
      if (u >= 0) {
        dir[u + D.U_SLOTS] |= 1 << slot;
        continue;
      }
      if (dir[e + D.E_USES] === D.USES_MAX) {
        this.zapUse(D.useAt(e, 0), true);
        D.dropOldestUse(dir, e);
      }
      D.addUse(dir, e, tableLevel, regionVpn, 1 << slot);
    }
    return true;
  }

  /**
   * No writable shadow leaf may name a write-protected table's frame: takes
   * W off every leaf that does (a scan of this vCPU's shadow tables, which
   * also rebuilds wrMap), unless wrMap says there is none.
   */
  private downgrade(frame: number): void {
    const wrMap = this.wrMap;
    if ((wrMap[frame >>> 5] & (1 << (frame & 31))) === 0) return;
    wrMap.fill(0);
    const ppn = frame + DRAM_BASE / PAGE_SIZE;
    for (let i = 0; i < H.SLOT_COUNT; i++) {
      const root = this.slots[i * H.SLOT_FIELDS + H.S_SHADOW_ROOT];
      if (root !== 0) this.downgradeTable(root, 2, ppn);
    }
    Atomics.store(this.h, H.H_FLUSH_PENDING, 1); // the hart's TLB may still allow the store
  }

  private downgradeTable(table: number, level: number, ppn: number): void {
    for (let e = 0; e < 512; e++) {
      const word = this.wordOf(table, e);
      const lo = this.i32[word];
      if ((lo & R.PTE_V) === 0) continue;
      const target = pteTable(lo, this.i32[word + 1]);
      if (level > 0) {
        this.downgradeTable(target, level - 1, ppn);
        continue;
      }
      if ((lo & R.PTE_W) === 0) continue;
      if (target === ppn) Atomics.store(this.i32, word, lo & ~R.PTE_W);
      else {
        const f = target - DRAM_BASE / PAGE_SIZE;
        this.wrMap[f >>> 5] |= 1 << (f & 31);
      }
    }
  }

  /**
   * Performs a guest store the hypervisor emulates into a write-protected
   * table (FILL_PT_WRITE; `width` bytes of lo:hi at `gpa`, naturally aligned),
   * through the guest memory view, then zaps what it changed (ptStored). A
   * doubleword goes in as two words in the order a walker on another vCPU
   * never sees half of: high word first when the new PTE is valid, low word
   * (V) first otherwise.
   */
  storeToTable(gpa: number, width: number, lo: number, hi: number): void {
    const guest = this.guest;
    if (width === 1) guest.writeU8(gpa, lo & 0xff);
    else if (width === 2) guest.writeU16(gpa, lo & 0xffff);
    else if (width === 4) guest.writeU32(gpa, lo >>> 0);
    else {
      const word = guest.translate(gpa, 8) >>> 2;
      if ((lo & R.PTE_V) !== 0) {
        Atomics.store(this.i32, word + 1, hi);
        Atomics.store(this.i32, word, lo);
      } else {
        Atomics.store(this.i32, word, lo);
        Atomics.store(this.i32, word + 1, hi);
      }
    }
    this.ptStored(gpa, width);
  }

  /**
   * The guest stored `width` bytes at `gpa` in a write-protected table (the
   * caller emulated the store): zaps the shadow entries each changed guest
   * PTE fed, in every place the table is used; past PT_FLOOD_WRITES stores
   * with no walk in between, unshadows the table instead.
   */
  private ptStored(gpa: number, width: number): void {
    const off = this.guest.translate(gpa - (gpa % PAGE_SIZE), 1);
    if (off < 0) return;
    const dir = this.dir;
    const e = D.dirFind(dir, off / PAGE_SIZE);
    if (e < 0) return; // unshadowed meanwhile: nothing derived from it is left
    this.stats[STAT.mmu_pte_write]++;
    if (++dir[e + D.E_WRITES] >= PT_FLOOD_WRITES) {
      this.unprotect(gpa);
      return;
    }
    const first = Math.floor((gpa % PAGE_SIZE) / 8);
    const last = Math.floor(((gpa % PAGE_SIZE) + width - 1) / 8);
    for (let k = 0; k < dir[e + D.E_USES]; k++) {
      const u = D.useAt(e, k);
      const level = dir[u + D.U_LEVEL];
      for (let index = first; index <= last; index++) this.zapUseEntry(u, dir[u + D.U_VPN] + index * 512 ** level, level);
    }
    Atomics.store(this.h, H.H_FLUSH_PENDING, 1);
  }

  /**
   * Takes the table holding `gpa` out of write-protection: every shadow entry
   * it fed is zapped, and it stays writable until a walk goes through it
   * again (flooding, or a store the hypervisor does not emulate).
   */
  unprotect(gpa: number): void {
    const off = this.guest.translate(gpa - (gpa % PAGE_SIZE), 1);
    if (off < 0) return;
    this.dropProtection(off / PAGE_SIZE);
  }

  /**
   * unprotect() for a store the hypervisor does not emulate, which is then
   * retried natively: the next fill leaves that table writable even if its
   * own walk goes through it (a table mapped as data in itself), so the
   * retried store can complete; a later walk protects it again.
   */
  unprotectForRetry(gpa: number): void {
    const off = this.guest.translate(gpa - (gpa % PAGE_SIZE), 1);
    if (off < 0) return;
    this.dropProtection(off / PAGE_SIZE);
    this.retryFrame = off / PAGE_SIZE;
  }

  private dropProtection(frame: number): void {
    const dir = this.dir;
    const e = D.dirFind(dir, frame);
    if (e < 0) return;
    for (let k = 0; k < dir[e + D.E_USES]; k++) this.zapUse(D.useAt(e, k), true);
    D.dirRemove(dir, e);
    this.stats[STAT.mmu_flooded]++;
    Atomics.store(this.h, H.H_FLUSH_PENDING, 1);
  }

  /** Zaps, in every slot of use `u`, the whole region its table maps (whole: every entry of the table). */
  private zapUse(u: number, whole: boolean): void {
    const dir = this.dir;
    const level = dir[u + D.U_LEVEL];
    if (whole && level === 2) {
      for (let mask = dir[u + D.U_SLOTS], i = 0; mask !== 0; mask >>>= 1, i++) {
        const root = this.slots[i * H.SLOT_FIELDS + H.S_SHADOW_ROOT];
        if ((mask & 1) !== 0 && root !== 0) this.emptyTable(root, 2);
      }
      return;
    }
    this.zapUseEntry(u, dir[u + D.U_VPN], level + 1);
  }

  /** Zaps, in every slot of use `u`, the shadow entry at `level` covering `vpn`. */
  private zapUseEntry(u: number, vpn: number, level: number): void {
    for (let mask = this.dir[u + D.U_SLOTS], i = 0; mask !== 0; mask >>>= 1, i++) {
      const root = this.slots[i * H.SLOT_FIELDS + H.S_SHADOW_ROOT];
      if ((mask & 1) !== 0 && root !== 0) this.zapEntry(root, vpn, level);
    }
  }

  /** The directory is full: drop every shadow entry and every record, and start again. */
  private startOver(): void {
    for (let i = 0; i < H.SLOT_COUNT; i++) {
      const root = this.slots[i * H.SLOT_FIELDS + H.S_SHADOW_ROOT];
      if (root !== 0) this.emptyTable(root, 2);
    }
    D.dirClear(this.dir);
    this.wrMap.fill(0);
    Atomics.store(this.h, H.H_FLUSH_PENDING, 1);
  }

  /** Writes the shadow leaf for va's page, creating tables; marks the path when the guest leaf is a superpage. */
  private insert(slot: number, va: number, ppn: number, perms: number, level: number): void {
    const vpn = Math.floor(va / PAGE_SIZE);
    const rootAt = slot * H.SLOT_FIELDS + H.S_SHADOW_ROOT;
    for (let attempt = 0; attempt < 2; attempt++) {
      this.emptiedSlot = -1;
      let table = this.slots[rootAt];
      let ok = true;
      for (let l = 2; l > 0 && ok; l--) {
        const word = this.wordOf(table, (vpn >>> (9 * l)) & 0x1ff);
        const lo = this.i32[word];
        if ((lo & R.PTE_V) !== 0) {
          if (level >= l && (lo & PTE_SUPER) === 0) Atomics.store(this.i32, word, lo | PTE_SUPER);
          table = pteTable(lo, this.i32[word + 1]);
          continue;
        }
        const next = this.allocFrame(slot);
        if (this.emptiedSlot === slot) {
          this.releaseFrame(next);
          ok = false;
          break;
        }
        writePte(this.i32, word, next, R.PTE_V | (level >= l ? PTE_SUPER : 0));
        table = next;
      }
      if (!ok) continue;
      const word = this.wordOf(table, vpn & 0x1ff);
      const lo = this.i32[word];
      let flags = LEAF_BASE | perms;
      if ((lo & R.PTE_V) !== 0) {
        if (pteTable(lo, this.i32[word + 1]) === ppn) flags |= lo & PERMS;
        else Atomics.store(this.h, H.H_FLUSH_PENDING, 1); // a different frame: the old one may sit in the hart's TLB
      }
      writePte(this.i32, word, ppn, flags);
      return;
    }
    throw new Error("shadow: the frame pool cannot hold one walk (--shadow-pages too small)");
  }

  // ---- dropping: guest sfence.vma, remote fences, recycling ----

  /** The guest's sfence.vma: vpn < 0 for every address, asid < 0 for every ASID. */
  sfence(vpn: number, asid: number): void {
    const s = this.slots;
    for (let i = 0; i < H.SLOT_COUNT; i++) {
      const b = i * H.SLOT_FIELDS;
      if (s[b + H.S_SHADOW_ROOT] === 0 || (asid >= 0 && s[b + H.S_ASID] !== asid)) continue;
      if (vpn < 0) this.emptyTable(s[b + H.S_SHADOW_ROOT], 2);
      else this.zapPage(s[b + H.S_SHADOW_ROOT], vpn);
    }
    // Nothing derived from the guest's tables is left: their records (wp) can go too.
    if (this.writeProtect && vpn < 0 && asid < 0) {
      D.dirClear(this.dir);
      this.wrMap.fill(0);
    }
    Atomics.store(this.h, H.H_FLUSH_PENDING, 1);
  }

  /** Drops every entry of every kept space (a remote sfence.vma). */
  flushAll(): void {
    this.sfence(-1, -1);
  }

  /** Frees every slot's tables into the pool (the VM is gone, or a test wants a clean slate). */
  freeAll(): void {
    for (let i = 0; i < H.SLOT_COUNT; i++) if (this.slots[i * H.SLOT_FIELDS + H.S_SHADOW_ROOT] !== 0) this.freeSlot(i);
    this.h[H.H_CUR_VALID] = 0;
  }

  /**
   * Drops the shadow entry at `level` covering `vpn` (a leaf, or a subtree
   * when level > 0); a guest superpage met on the way goes whole.
   */
  private zapEntry(root: number, vpn: number, level: number): void {
    let table = root;
    for (let l = 2; l >= level; l--) {
      const word = this.wordOf(table, (vpn >>> (9 * l)) & 0x1ff);
      const lo = this.i32[word];
      if ((lo & R.PTE_V) === 0) return;
      const next = pteTable(lo, this.i32[word + 1]);
      if (l === level || (l > 0 && (lo & PTE_SUPER) !== 0)) {
        clearPte(this.i32, word);
        if (l > 0) this.freeTable(next, l - 1);
        else this.stats[STAT.mmu_shadow_zapped]++;
        return;
      }
      table = next;
    }
  }

  /** Drops the entries for one page; a guest superpage's pieces all go (found by PTE_SUPER on the path). */
  private zapPage(root: number, vpn: number): void {
    let table = root;
    for (let l = 2; l > 0; l--) {
      const word = this.wordOf(table, (vpn >>> (9 * l)) & 0x1ff);
      const lo = this.i32[word];
      if ((lo & R.PTE_V) === 0) return;
      const next = pteTable(lo, this.i32[word + 1]);
      if ((lo & PTE_SUPER) !== 0) {
        clearPte(this.i32, word);
        this.freeTable(next, l - 1);
        return;
      }
      table = next;
    }
    const word = this.wordOf(table, vpn & 0x1ff);
    if ((this.i32[word] & R.PTE_V) === 0) return;
    clearPte(this.i32, word);
    this.stats[STAT.mmu_shadow_zapped]++;
  }

  /** Clears every entry of a table at `level`, freeing the tables below it. */
  private emptyTable(table: number, level: number): void {
    for (let e = 0; e < 512; e++) {
      const word = this.wordOf(table, e);
      const lo = this.i32[word];
      if ((lo & R.PTE_V) === 0) continue;
      clearPte(this.i32, word);
      if (level > 0) this.freeTable(pteTable(lo, this.i32[word + 1]), level - 1);
      else this.stats[STAT.mmu_shadow_zapped]++;
    }
  }

  /** Empties a table already unlinked from its parent and returns it to the pool (bounded by the three levels). */
  private freeTable(table: number, level: number): void {
    this.emptyTable(table, level);
    this.releaseFrame(table);
  }

  private freeSlot(slot: number): void {
    const at = slot * H.SLOT_FIELDS + H.S_SHADOW_ROOT;
    const root = this.slots[at];
    if (root === 0) return;
    this.freeTable(root, 2);
    this.slots[at] = 0;
    if (this.h[H.H_CUR_SLOT] === slot) this.h[H.H_CUR_VALID] = 0;
    Atomics.store(this.h, H.H_FLUSH_PENDING, 1);
  }

  // ---- the frame pool ----

  /** A zeroed frame's page number; recycles another space (or empties `slot`'s own, noted in emptiedSlot) when the pool is dry. */
  private allocFrame(slot: number): number {
    const h = this.h;
    if (h[H.H_FREE_TOP] === 0) {
      let lru = -1;
      for (let i = 0; i < H.SLOT_COUNT; i++) {
        const b = i * H.SLOT_FIELDS;
        if (i === slot || this.slots[b + H.S_SHADOW_ROOT] === 0) continue;
        if (lru < 0 || this.slots[b + H.S_LAST_USE] < this.slots[lru * H.SLOT_FIELDS + H.S_LAST_USE]) lru = i;
      }
      if (lru >= 0) this.freeSlot(lru);
      else if (this.slots[slot * H.SLOT_FIELDS + H.S_SHADOW_ROOT] !== 0) {
        this.emptyTable(this.slots[slot * H.SLOT_FIELDS + H.S_SHADOW_ROOT], 2);
        this.emptiedSlot = slot;
        Atomics.store(h, H.H_FLUSH_PENDING, 1);
      }
      this.stats[STAT.mmu_recycled]++;
      if (h[H.H_FREE_TOP] === 0) throw new Error("shadow: the frame pool is empty (--shadow-pages too small)");
    }
    return this.state.pool[--h[H.H_FREE_TOP]];
  }

  private releaseFrame(ppn: number): void {
    const off = ppn * PAGE_SIZE - DRAM_BASE;
    this.u8.fill(0, off, off + PAGE_SIZE);
    this.state.pool[this.h[H.H_FREE_TOP]++] = ppn;
  }

  private wordOf(tablePpn: number, index: number): number {
    return (tablePpn * PAGE_SIZE - DRAM_BASE + index * 8) >>> 2;
  }
}

/** The view for a virtual translation state, or -1 when the guest-physical table applies. */
function viewOf(priv: number, status: number, satpHi: number): number {
  if (satpHi >>> 28 !== R.SATP_MODE_SV39) return -1;
  let view: number;
  if (priv === R.PRV_M) {
    const mpp = (status & R.MSTATUS_MPP) >>> R.MSTATUS_MPP_SHIFT;
    if ((status & R.MSTATUS_MPRV) === 0 || mpp === R.PRV_M) return -1;
    view = VIEW_MPRV | (mpp === R.PRV_S ? VIEW_S : 0);
  } else {
    view = priv === R.PRV_S ? VIEW_S : 0;
  }
  if ((view & VIEW_S) !== 0 && (status & R.MSTATUS_SUM) !== 0) view |= VIEW_SUM;
  if ((status & R.MSTATUS_MXR) !== 0) view |= VIEW_MXR;
  return view;
}

function pteTable(lo: number, hi: number): number {
  return (hi & 0x3f_ffff) * TWO_22 + (lo >>> 10);
}

/** A PTE, high word first so a walk never sees a valid half-PTE (as guest-memory.ts writes them). */
function writePte(i32: Int32Array, word: number, ppn: number, flags: number): void {
  Atomics.store(i32, word + 1, Math.floor(ppn / TWO_22));
  Atomics.store(i32, word, ((ppn % TWO_22) << 10) | flags);
}

/** Clears a PTE, V (low word) first. */
function clearPte(i32: Int32Array, word: number): void {
  Atomics.store(i32, word, 0);
  Atomics.store(i32, word + 1, 0);
}
