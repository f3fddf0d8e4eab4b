/*
 * The software-managed TLB of `--mmu swtlb` (the MIPS R2000 / SPARC lesson):
 * with it, satp.MODE = Sv39 no longer makes the hart walk page tables. A
 * translation is looked up in this small, fully associative table; a miss
 * raises a refill exception (CAUSE_TLB_REFILL_*, xtval = the address, stlbvpn
 * preset to the missing page and the current ASID) and the kernel's handler
 * walks whatever page table it likes and writes an entry through the custom
 * CSRs (riscv.ts, CSR_STLB*). satp's PPN is then just a register the kernel
 * may use to find its own table; its ASID still tags lookups.
 *
 *   slot   0 .. WIRED-1   written only by stlbindex ("wired": the kernel's own
 *                         pages, which its refill handler must never miss on)
 *          WIRED .. N-1   also chosen by stlbrandom, round robin
 *
 * One entry is four int32 words: VPN (27 bits), ASID, and the leaf PTE as
 * (lo, hi). The storage is injectable: the hart keeps its own arrays, and the
 * hypervisor keeps a guest's virtual TLB in the vCPU's run page, so both
 * share these lookup and replacement rules.
 *
 * A hit is checked like a Sv39 leaf (priv spec 4.3.2 step 5). A and D are
 * software's: an entry without A, or a store through a writable entry
 * without D, raises the refill exception like a miss (MIPS's "TLB
 * modified"), and the handler's rewrite replaces the entry — a page is never
 * held twice under one ASID.
 */

import * as R from "./riscv.ts";

export const SWTLB_ENTRIES = 64;
export const SWTLB_WIRED = 16;
/** int32 words per entry, and the offsets within one. */
const SWTLB_ENTRY_WORDS = 4;
const E_VPN = 0;
const E_ASID = 1;
const E_PTE_LO = 2;
const E_PTE_HI = 3;
/** state words: [next random slot, spare]. */
const SWTLB_STATE_WORDS = 2;

/** What `--mmu` selects: the hardware Sv39 walker, or software refill. */
export const MMU_MODES = ["sv39", "swtlb"] as const;
export type MmuMode = (typeof MMU_MODES)[number];

export interface SoftTlbStorage {
  /** SWTLB_ENTRIES * SWTLB_ENTRY_WORDS words. */
  readonly entries: Int32Array;
  /** SWTLB_STATE_WORDS words. */
  readonly state: Int32Array;
}

function newSoftTlbStorage(): SoftTlbStorage {
  return { entries: new Int32Array(SWTLB_ENTRIES * SWTLB_ENTRY_WORDS), state: new Int32Array(SWTLB_STATE_WORDS) };
}

const TWO_22 = 4194304;

export class SoftTlb {
  readonly entries: Int32Array;
  private readonly state: Int32Array;

  constructor(storage: SoftTlbStorage = newSoftTlbStorage()) {
    if (storage.entries.length < SWTLB_ENTRIES * SWTLB_ENTRY_WORDS || storage.state.length < SWTLB_STATE_WORDS) {
      throw new RangeError("SoftTlb: storage too small");
    }
    this.entries = storage.entries;
    this.state = storage.state;
    if (this.state[0] < SWTLB_WIRED) this.state[0] = SWTLB_WIRED;
  }

  /** The slot holding a valid entry for vpn under asid (or global), or -1. */
  lookup(vpn: number, asid: number): number {
    const e = this.entries;
    for (let i = 0; i < SWTLB_ENTRIES; i++) {
      const b = i * SWTLB_ENTRY_WORDS;
      const lo = e[b + E_PTE_LO];
      if ((lo & R.PTE_V) === 0 || e[b + E_VPN] !== vpn) continue;
      if (e[b + E_ASID] === asid || (lo & R.PTE_G) !== 0) return i;
    }
    return -1;
  }

  /** The slot holding a valid entry for exactly (vpn, asid), global or not, or -1. */
  lookupExact(vpn: number, asid: number): number {
    const e = this.entries;
    for (let i = 0; i < SWTLB_ENTRIES; i++) {
      const b = i * SWTLB_ENTRY_WORDS;
      if ((e[b + E_PTE_LO] & R.PTE_V) !== 0 && e[b + E_VPN] === vpn && e[b + E_ASID] === asid) return i;
    }
    return -1;
  }

  vpnAt(slot: number): number {
    return this.entries[slot * SWTLB_ENTRY_WORDS + E_VPN];
  }
  asidAt(slot: number): number {
    return this.entries[slot * SWTLB_ENTRY_WORDS + E_ASID];
  }
  pteLoAt(slot: number): number {
    return this.entries[slot * SWTLB_ENTRY_WORDS + E_PTE_LO];
  }
  pteHiAt(slot: number): number {
    return this.entries[slot * SWTLB_ENTRY_WORDS + E_PTE_HI];
  }
  /** The entry's physical page number. */
  ppnAt(slot: number): number {
    return (this.pteHiAt(slot) & 0x3f_ffff) * TWO_22 + (this.pteLoAt(slot) >>> 10);
  }
  /** Whether the slot holds a valid entry. */
  validAt(slot: number): boolean {
    return (this.pteLoAt(slot) & R.PTE_V) !== 0;
  }

  /** The slot stlbrandom writes next (round robin over the unwired slots). */
  nextRandom(): number {
    return this.state[0];
  }

  /** Takes the next random slot and advances the counter. */
  takeRandom(): number {
    const slot = this.state[0];
    this.state[0] = slot + 1 >= SWTLB_ENTRIES ? SWTLB_WIRED : slot + 1;
    return slot;
  }

  /** Writes an entry; an invalid PTE (V = 0) simply empties the slot. */
  write(slot: number, vpn: number, asid: number, pteLo: number, pteHi: number): void {
    const b = slot * SWTLB_ENTRY_WORDS;
    const e = this.entries;
    e[b + E_VPN] = vpn;
    e[b + E_ASID] = asid;
    e[b + E_PTE_HI] = pteHi;
    e[b + E_PTE_LO] = pteLo;
  }

  /**
   * Where a TLB-write CSR puts {vpn, asid}: the slot stlbindex names, or for
   * stlbrandom the slot already holding that page (a rewrite replaces it in
   * place), else the next unwired slot round robin.
   */
  chooseSlot(indexed: boolean, index: number, vpn: number, asid: number): number {
    if (indexed) return index & (SWTLB_ENTRIES - 1);
    const twin = this.lookupExact(vpn, asid);
    return twin >= SWTLB_WIRED ? twin : this.takeRandom();
  }

  /**
   * Writes an entry, first emptying any other slot that holds the same page
   * under the same ASID (a page is never held twice). Returns the VPN the slot
   * held before, or -1 if it was empty: its cached translations must go.
   */
  put(slot: number, vpn: number, asid: number, pteLo: number, pteHi: number): number {
    const twin = this.lookupExact(vpn, asid);
    if (twin >= 0 && twin !== slot) this.write(twin, 0, 0, 0, 0);
    const old = this.validAt(slot) ? this.vpnAt(slot) : -1;
    this.write(slot, vpn, asid, pteLo, pteHi);
    return old;
  }

  flushAll(): void {
    this.entries.fill(0);
  }

  /** Empties every slot holding vpn (any ASID); returns how many. */
  flushVpn(vpn: number): number {
    let n = 0;
    for (let i = 0; i < SWTLB_ENTRIES; i++) {
      if (this.validAt(i) && this.vpnAt(i) === vpn) {
        this.entries[i * SWTLB_ENTRY_WORDS + E_PTE_LO] = 0;
        n++;
      }
    }
    return n;
  }
}

/** A Sv39 VPN (VA bits 38:12, 27 bits) from a virtual address as (lo, hi). */
export function vpnOf(vaLo: number, vaHi: number): number {
  return ((vaHi & 0x7f) << 20) | (vaLo >>> 12);
}

/**
 * Whether a TLB entry's PTE allows an access (Sv39 leaf rules, priv spec
 * 4.3.2 step 5, plus Svade: A set, and D for a store). `access`: 0 fetch,
 * 1 load, 2 store.
 */
export function softEntryAllows(pte: number, priv: number, sum: boolean, mxr: boolean, access: number): boolean {
  if ((pte & R.PTE_A) === 0) return false;
  const user = (pte & R.PTE_U) !== 0;
  if (priv === R.PRV_U && !user) return false;
  if (priv === R.PRV_S && user && (access === 0 || !sum)) return false;
  switch (access) {
    case 0:
      return (pte & R.PTE_X) !== 0;
    case 1:
      return (pte & R.PTE_R) !== 0 || (mxr && (pte & R.PTE_X) !== 0);
    default:
      return (pte & R.PTE_W) !== 0 && (pte & R.PTE_D) !== 0;
  }
}
