/*
 * Reflection: the core lesson of trap-and-emulate. A trap the guest kernel
 * must see (its process's ecall, a page fault, an illegal instruction) is
 * delivered into the *virtual* hart exactly as hardware would deliver it:
 * xepc/xcause/xtval/xstatus updated, virtual privilege switched, execution
 * resumed at the guest's own xtvec — by the same trap-entry code the machine
 * uses for real traps (src/machine/trap.ts), applied to the virtual CSR file.
 */

import { enterTrap, enterTrapPair, pendingInterrupt } from "../../machine/trap.ts";
import type { VcpuContext } from "../vcpu-context.ts";
import { STAT } from "../stats.ts";

/** Delivers an exception into the guest at `pc`. */
export function reflectException(ctx: VcpuContext, cause: number, tval: number, pc: number): void {
  ctx.pc = enterTrap(ctx.csr, cause, false, tval, pc);
  ctx.count(STAT.reflected_exceptions);
}

/** reflectException with tval and pc as exact 64-bit pairs (a wild address, u64.ts). */
export function reflectExceptionPair(ctx: VcpuContext, cause: number, tvalLo: number, tvalHi: number, pcLo: number, pcHi: number): void {
  ctx.pc = enterTrapPair(ctx.csr, cause, false, tvalLo, tvalHi, pcLo, pcHi);
  ctx.count(STAT.reflected_exceptions);
}

/**
 * Delivers the highest-priority virtual interrupt that is pending and enabled
 * at the guest's virtual privilege (priv spec 3.1.9), if any. Returns whether
 * one was delivered.
 */
export function injectPendingInterrupt(ctx: VcpuContext): boolean {
  const irq = pendingInterrupt(ctx.csr);
  if (irq < 0) return false;
  ctx.pc = enterTrap(ctx.csr, irq, true, 0, ctx.pc);
  ctx.count(STAT.injected_interrupts);
  return true;
}

/** Whether a wfi may end: some interrupt pending and enabled in the virtual mie (priv spec 3.3.3). */
export function interruptWaiting(ctx: VcpuContext): boolean {
  return (ctx.csr.mip & ctx.csr.mie) !== 0;
}
