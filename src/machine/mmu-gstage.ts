/*
 * Two-stage address translation (priv spec, H chapter, "Two-Stage Address
 * Translation"). With V=1 a guest virtual address goes through the guest's
 * own Sv39 table (VS-stage, vsatp) to a guest physical address, and that
 * through the hypervisor's Sv39x4 table (G-stage, hgatp) to a machine
 * address. Every PTE the VS-stage walk reads sits at a guest physical
 * address, so the VS-stage walk is mmu.ts's walkSv39 over a PteMemory that
 * runs the G-stage for each read (GStagePteReader).
 *
 *   Sv39x4 guest physical address (41 bits):
 *    40        30 29     21 20     12 11        0
 *   +------------+---------+---------+-----------+
 *   |  VPN[2]:11 | VPN[1]:9| VPN[0]:9|  offset   |   root table: 2048 entries, 16 KiB
 *   +------------+---------+---------+-----------+
 *
 * G-stage leaves are checked as U-mode accesses (U must be set), with the
 * HS-level MXR. Walks are bounded by the three levels; A/D updates are a
 * compare-and-swap, as in walkSv39.
 */

import * as R from "./riscv.ts";
import * as H from "./hext-defs.ts";
import { ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE, accessFaultCause, walkSv39, type Access, type PteMemory, type Translation, type WalkContext } from "./mmu.ts";

const GUEST_PAGE_FAULT: readonly number[] = [H.CAUSE_FETCH_GUEST_PAGE_FAULT, H.CAUSE_LOAD_GUEST_PAGE_FAULT, H.CAUSE_STORE_GUEST_PAGE_FAULT];
const TWO_22 = 4194304;
const TWO_30 = 1073741824;
const TWO_32 = 4294967296;
/** Sv39x4 covers guest physical addresses below 2^41. */
const GPA_LIMIT = 2199023255552;
const AD_RETRIES = 8;

/** What the G-stage needs: hgatp's root (or bare) and the HS-level MXR. */
export interface GStageContext {
  /** hgatp.MODE is Bare: guest physical is machine physical. */
  bare: boolean;
  rootPpn: number;
  mxr: boolean;
}

/**
 * Walks the Sv39x4 G-stage for a guest physical address. Returns 0 with
 * out.pa (and out.writable) set, a guest-page-fault cause, or an access
 * fault when a PTE lies outside RAM. `execOnly`: HLVX, whose read needs X.
 */
function walkGStage(mem: PteMemory, g: GStageContext, gpa: number, access: Access, execOnly: boolean, out: Translation): number {
  if (!(gpa >= 0 && gpa < GPA_LIMIT)) return GUEST_PAGE_FAULT[access];
  if (g.bare) {
    out.pa = gpa;
    out.writable = true;
    out.spanShift = 0;
    return 0;
  }
  const vpn2 = Math.floor(gpa / TWO_30);
  const lo = gpa % TWO_32;
  const vpn1 = (lo >>> 21) & 0x1ff;
  const vpn0 = (lo >>> 12) & 0x1ff;
  for (let attempt = 0; attempt < AD_RETRIES; attempt++) {
    let table = g.rootPpn * 4096;
    for (let level = 2; level >= 0; level--) {
      const vpn = level === 2 ? vpn2 : level === 1 ? vpn1 : vpn0;
      const off = mem.offsetOf(table + vpn * 8);
      if (off < 0) return accessFaultCause(access);
      const word = off >>> 2;
      const pteLo = Atomics.load(mem.i32, word);
      const pteHi = mem.i32[word + 1];
      if ((pteLo & R.PTE_V) === 0 || ((pteLo & R.PTE_R) === 0 && (pteLo & R.PTE_W) !== 0)) return GUEST_PAGE_FAULT[access];
      if ((pteHi & R.PTE_HI_RESERVED) !== 0) return GUEST_PAGE_FAULT[access];
      const ppn = (pteHi & 0x3f_ffff) * TWO_22 + (pteLo >>> 10);
      if ((pteLo & (R.PTE_R | R.PTE_X)) === 0) {
        if (level === 0) return GUEST_PAGE_FAULT[access];
        table = ppn * 4096;
        continue;
      }
      if (!gLeafAllows(pteLo, g.mxr, access, execOnly)) return GUEST_PAGE_FAULT[access];
      const lowPpn = level === 2 ? ppn % (1 << 18) : level === 1 ? ppn % (1 << 9) : 0;
      if (lowPpn !== 0) return GUEST_PAGE_FAULT[access];
      const want = R.PTE_A | (access === ACCESS_STORE ? R.PTE_D : 0);
      if ((pteLo & want) !== want) {
        if (Atomics.compareExchange(mem.i32, word, pteLo, pteLo | want) !== pteLo) break; // changed under us: walk again
      }
      const inPage = level === 2 ? (vpn1 * 512 + vpn0) : level === 1 ? vpn0 : 0;
      out.pa = (ppn + inPage) * 4096 + (lo & 0xfff);
      out.writable = (pteLo & R.PTE_W) !== 0 && ((pteLo | want) & R.PTE_D) !== 0;
      out.spanShift = 9 * level;
      return 0;
    }
  }
  return GUEST_PAGE_FAULT[access];
}

/** A G-stage leaf is a user page to the guest as a whole: U must be set (H chapter, "Guest Physical Address Translation"). */
function gLeafAllows(pte: number, mxr: boolean, access: Access, execOnly: boolean): boolean {
  if ((pte & R.PTE_U) === 0) return false;
  switch (access) {
    case ACCESS_FETCH:
      return (pte & R.PTE_X) !== 0;
    case ACCESS_LOAD:
      if (execOnly) return (pte & R.PTE_X) !== 0;
      return (pte & R.PTE_R) !== 0 || (mxr && (pte & R.PTE_X) !== 0);
    default:
      return (pte & R.PTE_W) !== 0;
  }
}

/**
 * The VS-stage walk's view of guest physical memory: each PTE address goes
 * through the G-stage first (an implicit load). A G-stage failure is kept
 * here (faultGpa) so the caller reports a guest-page fault rather than the
 * access fault walkSv39 sees.
 */
export class GStagePteReader implements PteMemory {
  readonly g: GStageContext = { bare: true, rootPpn: 0, mxr: false };
  /** The guest physical address whose G-stage walk failed, or -1. */
  faultGpa = -1;
  private readonly scratch: Translation = { pa: 0, global: false, writable: false, spanShift: 0 };

  constructor(readonly memory: PteMemory) {}

  get i32(): Int32Array {
    return this.memory.i32;
  }

  offsetOf(gpa: number): number {
    if (walkGStage(this.memory, this.g, gpa, ACCESS_LOAD, false, this.scratch) !== 0) {
      this.faultGpa = gpa;
      return -1;
    }
    return this.memory.offsetOf(this.scratch.pa);
  }
}

/** Where a two-stage walk that failed in the G-stage leaves the guest physical address (for htval / mtval2). */
export interface TwoStageFault {
  gpa: number;
}

/**
 * Translates a guest virtual address through both stages. `vs`: the VS-stage
 * context (rootPpn < 0 when vsatp is Bare). Returns 0 with out filled
 * (out.global and out.spanShift are the VS-stage leaf's; writable needs both
 * stages), or the exception cause; for a guest-page fault fault.gpa is set.
 */
export function walkTwoStage(
  reader: GStagePteReader, vs: WalkContext, vaLo: number, vaHi: number, access: Access, execOnly: boolean, out: Translation, fault: TwoStageFault,
): number {
  let gpa: number;
  let global = false;
  let spanShift = 0;
  let writable = true;
  if (vs.rootPpn < 0) {
    gpa = vaHi >= 0 && vaHi < 512 ? vaHi * TWO_32 + (vaLo >>> 0) : -1;
    if (gpa < 0) {
      fault.gpa = (vaHi >>> 0) * TWO_32 + (vaLo >>> 0);
      return GUEST_PAGE_FAULT[access];
    }
  } else {
    reader.faultGpa = -1;
    // HLVX reads need execute permission in the VS-stage too: MXR does not apply (H chapter, HLVX).
    const ctx = execOnly ? { ...vs, mxr: false } : vs;
    const cause = walkSv39(reader, ctx, vaLo, vaHi, execOnly ? ACCESS_FETCH : access, out);
    if (cause !== 0) {
      if (reader.faultGpa >= 0) {
        fault.gpa = reader.faultGpa;
        return GUEST_PAGE_FAULT[access];
      }
      // An HLVX fetch-permission failure is a load page fault.
      return execOnly ? (cause === R.CAUSE_FETCH_PAGE_FAULT ? R.CAUSE_LOAD_PAGE_FAULT : R.CAUSE_LOAD_ACCESS) : cause;
    }
    gpa = out.pa;
    global = out.global;
    spanShift = out.spanShift;
    writable = out.writable;
  }
  const cause = walkGStage(reader.memory, reader.g, gpa, access, execOnly, out);
  if (cause !== 0) {
    if (cause === GUEST_PAGE_FAULT[access]) fault.gpa = gpa;
    return cause;
  }
  out.global = global;
  out.writable = writable && out.writable;
  // The VS-stage leaf's size: what a guest's sfence.vma va must drop (a G-stage change flushes everything).
  out.spanShift = spanShift;
  return 0;
}
