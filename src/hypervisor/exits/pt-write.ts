/*
 * A guest store into one of its own page-table pages, under
 * --shadow-coherence wp (shadow/shadow-mmu.ts): the shadow maps the page
 * read-only, the store faults, and the hypervisor performs it — as an MMIO
 * store is performed (mmio.ts), but into guest RAM through the guest memory
 * view — then zaps the shadow entries the changed PTE fed.
 *
 * Plain naturally aligned stores (sb/sh/sw/sd and their compressed forms)
 * are emulated. Anything else that writes — an AMO, an SC, a misaligned or
 * page-crossing store — is not: the page is taken out of write-protection
 * (everything it fed is zapped) and the instruction retried natively, as
 * KVM unprotects a page for an instruction it will not emulate.
 */

import { pairToNumber } from "../../machine/u64.ts";
import type { ShadowMmu } from "../shadow/shadow-mmu.ts";
import type { VcpuContext } from "../vcpu-context.ts";
import { decodeMmioAccess } from "./mmio-decode.ts";

/**
 * Emulates the store at `pc` (bits `insn`) to guest-physical `gpa`, which
 * the guest addressed as `va`. True when done (pc is past it); false when
 * the table was unprotected instead and the instruction must be retried.
 */
export function emulatePtWrite(ctx: VcpuContext, shadow: ShadowMmu, gpa: number, va: number, insn: number, pc: number): boolean {
  const access = decodeMmioAccess(insn);
  const x = ctx.x;
  let start = Number.NaN;
  if (access !== undefined && access.write) {
    const b = access.base * 2;
    const lo = (x[b] + access.offset) | 0;
    const hi = (x[b + 1] + (access.offset >> 31) + (lo >>> 0 < x[b] >>> 0 ? 1 : 0)) | 0;
    start = pairToNumber(lo, hi);
  }
  if (access === undefined || !access.write || start !== va || gpa % access.width !== 0) {
    shadow.unprotectForRetry(gpa);
    return false;
  }
  const r = access.reg * 2;
  shadow.storeToTable(gpa, access.width, x[r], x[r + 1]);
  ctx.pc = pc + access.length;
  return true;
}
