/*
 * The POPK hypercall extension (src/hypervisor/nonvirt/popk.ts): each FID
 * does to the virtual CSR what the trapping instruction would, returns the
 * old value in a1, and every bad argument gets its SBI error.
 */

import { describe, expect, it } from "vitest";
import * as R from "../../../src/machine/riscv.ts";
import { RunPage } from "../../../src/hypervisor/runpage.ts";
import { STAT } from "../../../src/hypervisor/stats.ts";
import { VcpuContext, VmClock } from "../../../src/hypervisor/vcpu-context.ts";
import { SBI_ERR_INVALID_PARAM, SBI_ERR_NOT_SUPPORTED } from "../../../src/hypervisor/exits/services.ts";
import { EID_POPK, POPK_CSR_CLEAR, POPK_CSR_READ, POPK_CSR_SET, POPK_CSR_WRITE, SBI_ERR_DENIED, handlePopk } from "../../../src/hypervisor/nonvirt/popk.ts";

const PC = 0x8000_1000;
const A0 = 10, A1 = 11, A6 = 16, A7 = 17;

function vcpu(priv: number, mstatus: number): VcpuContext {
  const ctx = new VcpuContext(0, new RunPage(), new VmClock(VmClock.now()));
  ctx.csr.mstatus = mstatus;
  ctx.csr.priv = priv;
  return ctx;
}

/** Makes the call (a7 = POPK) and returns a0, a1 as numbers. */
function call(ctx: VcpuContext, fid: number, csr: number, value = 0): { error: number; value: number } {
  ctx.setReg(A7, EID_POPK);
  ctx.setReg(A6, fid);
  ctx.setReg(A0, csr);
  ctx.setReg(A1, value);
  handlePopk(ctx, PC);
  expect(ctx.pc, "pc steps over the ecall").toBe(PC + 4);
  return { error: ctx.reg(A0), value: ctx.reg(A1) };
}

describe("POPK: mstatus and sstatus by hypercall", () => {
  it("CSR_READ returns the virtual mstatus, not the hart's", () => {
    const ctx = vcpu(R.PRV_M, R.MSTATUS_MIE | (3 << R.MSTATUS_MPP_SHIFT));
    const r = call(ctx, POPK_CSR_READ, R.CSR_MSTATUS);
    expect(r.error).toBe(0);
    expect(r.value & 0xffff).toBe(R.MSTATUS_MIE | (3 << R.MSTATUS_MPP_SHIFT));
    expect(ctx.stats[STAT.hypercall_exit]).toBe(1);
  });
  it("CSR_CLEAR clears MIE and returns the old value; CSR_SET and CSR_WRITE change it back", () => {
    const ctx = vcpu(R.PRV_M, R.MSTATUS_MIE);
    expect(call(ctx, POPK_CSR_CLEAR, R.CSR_MSTATUS, R.MSTATUS_MIE).value & R.MSTATUS_MIE).toBe(R.MSTATUS_MIE);
    expect(ctx.csr.mstatus & R.MSTATUS_MIE).toBe(0);
    call(ctx, POPK_CSR_SET, R.CSR_MSTATUS, R.MSTATUS_MIE);
    expect(ctx.csr.mstatus & R.MSTATUS_MIE).toBe(R.MSTATUS_MIE);
    call(ctx, POPK_CSR_WRITE, R.CSR_MSTATUS, 0);
    expect(ctx.csr.mstatus & R.MSTATUS_MIE).toBe(0);
  });
  it("sstatus from virtual S: SIE through the S view (WARL: MIE untouched)", () => {
    const ctx = vcpu(R.PRV_S, R.MSTATUS_MIE);
    expect(call(ctx, POPK_CSR_WRITE, R.CSR_SSTATUS, R.MSTATUS_SIE | R.MSTATUS_MIE).error).toBe(0);
    expect(ctx.csr.mstatus & (R.MSTATUS_SIE | R.MSTATUS_MIE)).toBe(R.MSTATUS_SIE | R.MSTATUS_MIE);
  });
  it("refuses what the caller's virtual privilege could not do (SBI_ERR_DENIED), changing nothing", () => {
    const s = vcpu(R.PRV_S, 0);
    expect(call(s, POPK_CSR_WRITE, R.CSR_MSTATUS, R.MSTATUS_MIE).error).toBe(SBI_ERR_DENIED);
    expect(s.csr.mstatus & R.MSTATUS_MIE).toBe(0);
    const u = vcpu(R.PRV_U, R.MSTATUS_SIE);
    expect(call(u, POPK_CSR_READ, R.CSR_SSTATUS)).toEqual({ error: SBI_ERR_DENIED, value: 0 });
  });
  it("other CSRs are SBI_ERR_INVALID_PARAM, unknown FIDs SBI_ERR_NOT_SUPPORTED", () => {
    const ctx = vcpu(R.PRV_M, 0);
    expect(call(ctx, POPK_CSR_READ, R.CSR_MEPC).error).toBe(SBI_ERR_INVALID_PARAM);
    expect(call(ctx, POPK_CSR_READ, R.CSR_MSTATUS + 2 ** 32).error).toBe(SBI_ERR_INVALID_PARAM);
    expect(call(ctx, 4, R.CSR_MSTATUS).error).toBe(SBI_ERR_NOT_SUPPORTED);
    expect(call(ctx, -1, R.CSR_MSTATUS).error).toBe(SBI_ERR_NOT_SUPPORTED);
  });
});
