/*
 * The privileged instructions other than CSR accesses, emulated with the
 * virtual hart's privilege and its mstatus trap bits (TSR, TW, TVM: priv
 * spec 3.1.6.5): mret and sret (the guest's return from trap — the second
 * half of every reflected trap), wfi, sfence.vma.
 */

import * as R from "../../machine/riscv.ts";
import { mret, sret } from "../../machine/trap.ts";
import type { VcpuContext } from "../vcpu-context.ts";
import { isExactPair } from "../../machine/u64.ts";
import { reflectException, reflectExceptionPair } from "./reflect.ts";
import type { DecodedTrap } from "./decode-trap.ts";
import { STAT } from "../stats.ts";
import type { ShadowMmu } from "../shadow/shadow-mmu.ts";

function illegal(ctx: VcpuContext, t: DecodedTrap, pc: number): false {
  ctx.count(STAT.instr_illegal_exits);
  reflectException(ctx, R.CAUSE_ILLEGAL_INSTRUCTION, t.insn >>> 0, pc);
  return false;
}

/** mret: only from virtual M. */
export function emulateMret(ctx: VcpuContext, t: DecodedTrap, pc: number): void {
  if (ctx.csr.priv !== R.PRV_M) {
    illegal(ctx, t, pc);
    return;
  }
  ctx.count(STAT.xret_exit);
  ctx.pc = mret(ctx.csr);
  faultIfWild(ctx, R.CSR_MEPC);
}

/** sret: from virtual S (unless TSR) or M. */
export function emulateSret(ctx: VcpuContext, t: DecodedTrap, pc: number): void {
  const c = ctx.csr;
  if (c.priv === R.PRV_U || (c.priv === R.PRV_S && (c.mstatus & R.MSTATUS_TSR) !== 0)) {
    illegal(ctx, t, pc);
    return;
  }
  ctx.count(STAT.xret_exit);
  ctx.pc = sret(c);
  faultIfWild(ctx, R.CSR_SEPC);
}

/**
 * After an xret to the address in `epc`: one that pc cannot hold exactly
 * (u64.ts) names no memory, so its fetch faults at once, with xepc = xtval =
 * the exact address — as the machine's hart does (Hart.wildFetch). The
 * guest runs untranslated (guest paging is not supported yet): an access fault.
 */
function faultIfWild(ctx: VcpuContext, epc: number): void {
  const lo = ctx.csr.lo[epc];
  const hi = ctx.csr.hi[epc];
  if (!isExactPair(lo, hi)) reflectExceptionPair(ctx, R.CAUSE_FETCH_ACCESS, lo, hi, lo, hi);
}

/** wfi: returns true when the vCPU should now wait for a virtual interrupt (pc already advanced). */
export function emulateWfi(ctx: VcpuContext, t: DecodedTrap, pc: number): boolean {
  const c = ctx.csr;
  if (c.priv === R.PRV_U || (c.priv === R.PRV_S && (c.mstatus & R.MSTATUS_TW) !== 0)) return illegal(ctx, t, pc);
  ctx.count(STAT.wfi_exit);
  ctx.pc = pc + t.length;
  return true;
}

/**
 * sfence.vma rs1, rs2 (priv spec 4.2.1): the shadow entries it covers are
 * dropped (shadow/shadow-mmu.ts) — by address (rs1 != x0), by ASID
 * (rs2 != x0), both, or all. Without a shadow there is nothing cached.
 */
export function emulateSfenceVma(ctx: VcpuContext, t: DecodedTrap, pc: number, shadow: ShadowMmu | undefined): void {
  const c = ctx.csr;
  if (c.priv === R.PRV_U || (c.priv === R.PRV_S && (c.mstatus & R.MSTATUS_TVM) !== 0)) {
    illegal(ctx, t, pc);
    return;
  }
  ctx.count(STAT.sfence_exit);
  if (shadow !== undefined) {
    const x = ctx.x;
    const vpn = t.rs1 === 0 ? -1 : ((x[t.rs1 + 1] & 0x7f) << 20) | (x[t.rs1] >>> 12);
    const asid = t.rs2 === 0 ? -1 : x[t.rs2] & R.SATP_ASID_MASK;
    shadow.sfence(vpn, asid);
  }
  ctx.pc = pc + t.length;
}
