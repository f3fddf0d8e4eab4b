/*
 * Fix 1 for --isa-variant nonvirt: paravirtualization. A guest built for the
 * hypervisor (guests/nonvirt-demo built with -DPARAVIRT) replaces each
 * instruction the variant does not trap (isa-variant.ts) with a hypercall,
 * as Xen's PV guests replaced pushf/popf and cli/sti. popek's hypercalls are
 * a small SBI extension of its own, served from any virtual privilege that
 * could have made the access itself (an M-mode guest under --bios none
 * included, whose other ecalls go to its own trap vector):
 *
 *   EID  0x504F504B ("POPK")
 *   a6   FID: 0 CSR_READ, 1 CSR_WRITE, 2 CSR_SET, 3 CSR_CLEAR
 *   a0   the CSR: 0x100 (sstatus) or 0x300 (mstatus)
 *   a1   the value written (WRITE), or the bits set/cleared (SET, CLEAR)
 *   ret  a0 = SBI_SUCCESS, a1 = the CSR's value before the call
 *        a0 = SBI_ERR_NOT_SUPPORTED (-2)  unknown FID
 *        a0 = SBI_ERR_INVALID_PARAM (-3)  a CSR the extension does not cover
 *        a0 = SBI_ERR_DENIED (-4)         the caller's virtual privilege may not access that CSR
 *   pc += 4 in every case.
 *
 * The access itself is the one a trapping CSR instruction would get
 * (executeCsrInstruction on the virtual CSR file: same privilege rule, same
 * WARL masks), so PV and trap-and-emulate cannot disagree about its effect.
 */

import { REG } from "../../isa/regnames.ts";
import { CSR_ILLEGAL, executeCsrInstruction } from "../../machine/csr.ts";
import { isNonvirtCsr } from "../../machine/isa-variant.ts";
import type { VcpuContext } from "../vcpu-context.ts";
import { SBI_ERR_INVALID_PARAM, SBI_ERR_NOT_SUPPORTED } from "../exits/services.ts";
import { STAT } from "../stats.ts";

/** "POPK" in ASCII, the extension's id (a7). */
export const EID_POPK = 0x504f504b;
export const POPK_CSR_READ = 0;
export const POPK_CSR_WRITE = 1;
export const POPK_CSR_SET = 2;
export const POPK_CSR_CLEAR = 3;
/** SBI spec 3: the caller lacks the privilege for what it asked. */
export const SBI_ERR_DENIED = -4;

/** FID -> csrrs-style kind of executeCsrInstruction (0 rw, 1 rs, 2 rc); READ is csrrs with x0. */
const KIND_OF_FID = [1, 0, 1, 2] as const;

/** Doubled register indices in the scratch file: the operand in x1, the result in x2. */
const RS1 = 2;
const RD = 4;
/** A register file for the access: x0, the operand, the result (no allocation per hypercall). */
const scratch = new Int32Array(6);

/** Serves a POPK hypercall at `pc` (a7 = EID_POPK already checked): registers, pc and the stat. */
export function handlePopk(ctx: VcpuContext, pc: number): void {
  ctx.count(STAT.hypercall_exit);
  ctx.pc = pc + 4;
  const x = ctx.x;
  const fid = x[2 * REG.a6];
  const csr = x[2 * REG.a0];
  if (x[2 * REG.a6 + 1] !== 0 || fid < 0 || fid >= KIND_OF_FID.length) return ret(ctx, SBI_ERR_NOT_SUPPORTED);
  if (x[2 * REG.a0 + 1] !== 0 || !isNonvirtCsr(csr)) return ret(ctx, SBI_ERR_INVALID_PARAM);
  scratch.fill(0);
  const read = fid === POPK_CSR_READ;
  scratch[RS1] = read ? 0 : x[2 * REG.a1];
  scratch[RS1 + 1] = read ? 0 : x[2 * REG.a1 + 1];
  const result = executeCsrInstruction(ctx.csr, scratch, KIND_OF_FID[fid], false, RD, read ? 0 : RS1, csr);
  if (result === CSR_ILLEGAL) return ret(ctx, SBI_ERR_DENIED);
  ctx.setReg(REG.a0, 0);
  ctx.setRegPair(REG.a1, scratch[RD], scratch[RD + 1]);
}

function ret(ctx: VcpuContext, error: number): void {
  ctx.setReg(REG.a0, error);
  ctx.setReg(REG.a1, 0);
}
