/*
 * Sv39 address translation (priv spec 4.3.2, 4.4): the page-table walk with
 * its permission rules and hardware A/D update. The walk is bounded by the
 * three levels; A/D bits are set with a compare-and-swap so that a walk racing
 * another hart's PTE update (harts in other threads) never loses a write.
 */

import * as R from "./riscv.ts";

/**
 * Where the walk reads PTEs: machine memory (PhysMem) for the hart, or a
 * guest's own memory seen through its guest-physical map (the hypervisor's
 * shadow fill walks the guest's table with this same walker). offsetOf gives
 * the index base (bytes into i32's buffer) of a PTE's address, or < 0 when
 * no memory is there (the walk then raises an access fault).
 */
export interface PteMemory {
  offsetOf(pa: number): number;
  readonly i32: Int32Array;
  /** RAM with decoded code (PhysMem): an A/D update is a write like any other and forgets code it overlaps. */
  readonly codeMap?: Uint8Array;
  invalidateCode?(off: number, width: number): void;
}

export const ACCESS_FETCH = 0;
export const ACCESS_LOAD = 1;
export const ACCESS_STORE = 2;
export type Access = typeof ACCESS_FETCH | typeof ACCESS_LOAD | typeof ACCESS_STORE;

const PAGE_FAULT: readonly number[] = [R.CAUSE_FETCH_PAGE_FAULT, R.CAUSE_LOAD_PAGE_FAULT, R.CAUSE_STORE_PAGE_FAULT];
const ACCESS_FAULT: readonly number[] = [R.CAUSE_FETCH_ACCESS, R.CAUSE_LOAD_ACCESS, R.CAUSE_STORE_ACCESS];
const TWO_22 = 4194304;
/** A/D updates retried this often when the PTE keeps changing under the walk; then the walk faults. */
const AD_RETRIES = 8;

/** The page-fault cause for an access kind. */
export function pageFaultCause(access: Access): number {
  return PAGE_FAULT[access];
}
/** The access-fault cause for an access kind. */
export function accessFaultCause(access: Access): number {
  return ACCESS_FAULT[access];
}

/** Result of a successful walk. */
export interface Translation {
  /** Physical address of the accessed byte. */
  pa: number;
  /** The mapping is global (G set in the leaf or an ancestor). */
  global: boolean;
  /** The leaf allows what the TLB must know to reuse it: stores need W and D. */
  writable: boolean;
  /** The leaf's size as a VPN shift: 0 for 4 KiB, 9 for a 2 MiB and 18 for a 1 GiB superpage (sfence.vma needs it). */
  spanShift: number;
}

export interface WalkContext {
  /** satp's root page number. */
  readonly rootPpn: number;
  /** Effective privilege of the access (MPRV already applied). */
  readonly priv: number;
  readonly sum: boolean;
  readonly mxr: boolean;
}

/**
 * Translates a canonical-checked Sv39 virtual address. Returns 0 and fills
 * `out`, or the exception cause (page fault, or access fault when a PTE lies
 * outside RAM).
 */
export function walkSv39(mem: PteMemory, ctx: WalkContext, vaLo: number, vaHi: number, access: Access, out: Translation): number {
  // Bits 63:39 must equal bit 38 (priv spec 4.4.1).
  if (((vaHi << 25) >> 25) !== vaHi) return PAGE_FAULT[access];
  const vpn2 = ((vaHi & 0x7f) << 2) | (vaLo >>> 30);
  const vpn1 = (vaLo >>> 21) & 0x1ff;
  const vpn0 = (vaLo >>> 12) & 0x1ff;
  for (let attempt = 0; attempt < AD_RETRIES; attempt++) {
    let table = ctx.rootPpn * 4096;
    let global = false;
    for (let level = 2; level >= 0; level--) {
      const vpn = level === 2 ? vpn2 : level === 1 ? vpn1 : vpn0;
      const off = mem.offsetOf(table + vpn * 8);
      if (off < 0) return ACCESS_FAULT[access];
      const word = off >>> 2;
      const pteLo = Atomics.load(mem.i32, word);
      const pteHi = mem.i32[word + 1];
      if ((pteLo & R.PTE_V) === 0 || ((pteLo & R.PTE_R) === 0 && (pteLo & R.PTE_W) !== 0)) return PAGE_FAULT[access];
      if ((pteHi & R.PTE_HI_RESERVED) !== 0) return PAGE_FAULT[access];
      global ||= (pteLo & R.PTE_G) !== 0;
      const ppn = (pteHi & 0x3f_ffff) * TWO_22 + (pteLo >>> 10);
      if ((pteLo & (R.PTE_R | R.PTE_X)) === 0) {
        if (level === 0) return PAGE_FAULT[access];
        table = ppn * 4096;
        continue;
      }
      // A leaf: permission checks (4.3.2 step 5).
      if (!leafAllows(pteLo, ctx, access)) return PAGE_FAULT[access];
      // Superpages must be aligned (step 6).
      const lowPpn = level === 2 ? ppn % (1 << 18) : level === 1 ? ppn % (1 << 9) : 0;
      if (lowPpn !== 0) return PAGE_FAULT[access];
      // Hardware A/D update (step 7, Svadu behaviour, as QEMU does).
      const want = R.PTE_A | (access === ACCESS_STORE ? R.PTE_D : 0);
      if ((pteLo & want) !== want) {
        if (Atomics.compareExchange(mem.i32, word, pteLo, pteLo | want) !== pteLo) break; // changed under us: walk again
        if (mem.codeMap !== undefined && mem.codeMap[off >>> 12] !== 0) mem.invalidateCode?.(off, 4);
      }
      const inPage = level === 2 ? vpn1 * 512 + vpn0 : level === 1 ? vpn0 : 0;
      out.pa = (ppn + inPage) * 4096 + (vaLo & 0xfff);
      out.global = global;
      out.writable = (pteLo & R.PTE_W) !== 0 && ((pteLo | want) & R.PTE_D) !== 0;
      out.spanShift = 9 * level;
      return 0;
    }
  }
  return PAGE_FAULT[access];
}

function leafAllows(pte: number, ctx: WalkContext, access: Access): boolean {
  const user = (pte & R.PTE_U) !== 0;
  if (ctx.priv === R.PRV_U && !user) return false;
  if (ctx.priv === R.PRV_S && user && (access === ACCESS_FETCH || !ctx.sum)) return false;
  switch (access) {
    case ACCESS_FETCH:
      return (pte & R.PTE_X) !== 0;
    case ACCESS_LOAD:
      return (pte & R.PTE_R) !== 0 || (ctx.mxr && (pte & R.PTE_X) !== 0);
    default:
      return (pte & R.PTE_W) !== 0;
  }
}
