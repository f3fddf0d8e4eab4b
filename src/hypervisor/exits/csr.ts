/*
 * CSR instructions executed by the guest. In the hart's real U-mode every
 * access to an S- or M-level CSR (and to counters, which the hypervisor keeps
 * disabled in the real mcounteren) is an illegal instruction; the hypervisor
 * executes the instruction against the virtual CSR file instead, with the
 * virtual privilege's access rules and the same WARL legalisation as the
 * machine (src/machine/csr.ts is shared).
 */

import { CSR_ILLEGAL, CSR_WROTE, csrAffectsInterrupts, executeCsrInstruction } from "../../machine/csr.ts";
import { OP } from "../../isa/ops.ts";
import * as R from "../../machine/riscv.ts";
import type { VcpuContext } from "../vcpu-context.ts";
import { reflectException } from "./reflect.ts";
import type { DecodedTrap } from "./decode-trap.ts";
import { STAT } from "../stats.ts";

const OP_CSRRW = OP.csrrw;
const OP_CSRRWI = OP.csrrwi;
const OP_CSRRCI = OP.csrrci;

const CSR_OK = 0;
const CSR_REFLECTED = 1;
/** The guest enabled Sv39 from virtual S-mode on a dispatcher without shadow paging. */
export const CSR_PAGING_UNSUPPORTED = 2;

/**
 * Emulates the CSR instruction `t` at `pc`; advances pc or reflects illegal
 * instruction. `shadowed`: guest paging is virtualized (shadow/), so satp
 * takes Sv39 like the hardware's; without it (a bare dispatcher in tests)
 * Sv39 is refused as below.
 */
export function emulateCsr(ctx: VcpuContext, t: DecodedTrap, pc: number, shadowed: boolean): number {
  const c = ctx.csr;
  ctx.count(STAT.csr_exit);
  const satpLo = c.lo[R.CSR_SATP];
  const satpHi = c.hi[R.CSR_SATP];
  const result = executeCsrInstruction(c, ctx.x, t.csrKind, t.csrImmediate, t.rd, t.rs1, t.csr);
  if (result === CSR_ILLEGAL) {
    ctx.count(STAT.instr_illegal_exits);
    reflectException(ctx, R.CAUSE_ILLEGAL_INSTRUCTION, t.insn >>> 0, pc);
    return CSR_REFLECTED;
  }
  // Without shadow paging, satp is WARL and Bare-only is a legal implementation, so a
  // write of MODE=Sv39 is undone (an M-mode probe sees Bare and moves on); from virtual S-mode — an
  // OS turning paging on — the VM stops with a clear message instead of running untranslated.
  // (With --mmu swtlb, satp names no table the hardware walks: the guest's TLB is virtualized, swtlb-virt.ts.)
  if (!shadowed && t.csr === R.CSR_SATP && result === CSR_WROTE && c.hi[R.CSR_SATP] >>> 28 === R.SATP_MODE_SV39 && ctx.softTlb === undefined) {
    c.lo[R.CSR_SATP] = satpLo;
    c.hi[R.CSR_SATP] = satpHi;
    if (c.priv === R.PRV_S) return CSR_PAGING_UNSUPPORTED;
  }
  ctx.pc = pc + t.length;
  return CSR_OK;
}

/**
 * The hottest exit without the general dispatch, as KVM keeps fast paths for
 * its hottest exits: a CSR instruction, given as the hart predecoded it, on a
 * CSR with no effect beyond the CSR file — not satp (guest paging), not one
 * that may make an interrupt takeable. Registers are read from and written
 * to `x`: the vCPU's own on its thread, or on the main thread a scratch file
 * holding just the operand the vCPU sent in its exit mailbox. Returns -1,
 * having changed nothing, whenever the general path (emulateCsr through the
 * dispatcher) must decide, including every access that is illegal at the
 * virtual privilege; otherwise the next pc (negative for an upper-half pc:
 * callers test for -1 exactly).
 */
export function fastCsr(ctx: VcpuContext, x: Int32Array, w0: number, imm: number, pc: number): number {
  const op = w0 & 0x7f;
  if (op < OP_CSRRW || op > OP_CSRRCI) return -1;
  const csr = imm & 0xfff;
  if (csr === R.CSR_SATP || csrAffectsInterrupts(csr)) return -1;
  const immediate = op >= OP_CSRRWI;
  const kind = op - (immediate ? OP_CSRRWI : OP_CSRRW);
  if (executeCsrInstruction(ctx.csr, x, kind, immediate, (w0 >>> 8) & 0xff, (w0 >>> 16) & 0xff, csr) === CSR_ILLEGAL) return -1;
  ctx.count(STAT.csr_exit);
  return pc + ((w0 & 0x80) !== 0 ? 2 : 4);
}
