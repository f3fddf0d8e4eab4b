/*
 * Trap-and-emulate, one exit at a time: a trap as the hart in U-mode reports
 * it (cause, tval, pc, instruction bits) goes to the dispatcher, which must
 * leave the virtual hart exactly where the privileged spec says real hardware
 * would be. No threads here: a VcpuContext over a run page and the dispatcher.
 */

import { describe, expect, it } from "vitest";
import { EXIT_CONTINUE, EXIT_STOP, EXIT_TO_MAIN, EXIT_WAIT, TrapDispatcher, type MainThreadExits } from "../../../src/hypervisor/exits/dispatch.ts";
import { injectPendingInterrupt } from "../../../src/hypervisor/exits/reflect.ts";
import { fastCsr } from "../../../src/hypervisor/exits/csr.ts";
import { decodeInto } from "../../../src/isa/decode.ts";
import type { VmServices } from "../../../src/hypervisor/exits/services.ts";
import { RunPage } from "../../../src/hypervisor/runpage.ts";
import { STAT } from "../../../src/hypervisor/stats.ts";
import { VcpuContext, VmClock } from "../../../src/hypervisor/vcpu-context.ts";
import { enc } from "../../../src/isa/encode.ts";
import * as R from "../../../src/machine/riscv.ts";
import { PhysMem } from "../../../src/machine/physmem.ts";
import { PhysMemView } from "../../../src/machine/physmem-view.ts";

const PC = 0x8000_1000;
const A0 = 10;
const A1 = 11;
const T0 = 5;

const services: VmServices = {
  hartCount: 1,
  consoleWrite: () => {},
  consoleRead: () => -1,
  memory: new PhysMemView(new PhysMem(0x1_0000)),
  shutdown: () => {},
  reboot: () => {},
  hartState: () => 0,
  hartStart: () => 0,
  hartStop: () => {},
  hartSuspend: () => 0,
  sendIpi: () => {},
  remoteFenceI: () => {},
  remoteSfenceVma: () => {},
};

function setup(priv: number, main?: MainThreadExits): { ctx: VcpuContext; d: TrapDispatcher } {
  const ctx = new VcpuContext(0, new RunPage(), new VmClock(VmClock.now()));
  ctx.csr.priv = priv;
  return { ctx, d: new TrapDispatcher(ctx, false, services, main) };
}

/** The trap a privileged instruction raises in real U-mode: illegal instruction, tval = its bits. */
function execute(d: TrapDispatcher, insn: number, pc = PC): number {
  return d.dispatch(R.CAUSE_ILLEGAL_INSTRUCTION, insn, pc, insn);
}

describe("CSR instructions against the virtual CSR file", () => {
  it("csrrw mscratch in virtual M reads the old value, writes the new and steps pc", () => {
    const { ctx, d } = setup(R.PRV_M);
    ctx.csr.write(R.CSR_MSCRATCH, 0x1234, 0);
    ctx.setReg(T0, 0x5678);
    expect(execute(d, enc.csrrw(A0, R.CSR_MSCRATCH, T0))).toBe(EXIT_CONTINUE);
    expect(ctx.reg(A0)).toBe(0x1234);
    expect(ctx.csr.lo[R.CSR_MSCRATCH]).toBe(0x5678);
    expect(ctx.pc).toBe(PC + 4);
    expect(ctx.stats[STAT.csr_exit]).toBe(1);
  });

  it("an M-level CSR from virtual S is reflected as an illegal instruction into virtual M (not delegated), bits in mtval", () => {
    const { ctx, d } = setup(R.PRV_S);
    ctx.csr.write(R.CSR_MTVEC, 0x8000_0100, 0);
    const insn = enc.csrrs(A0, R.CSR_MSTATUS, 0);
    expect(execute(d, insn)).toBe(EXIT_CONTINUE);
    expect(ctx.csr.priv).toBe(R.PRV_M);
    expect(ctx.pc).toBe(0x8000_0100);
    expect(ctx.csr.lo[R.CSR_MCAUSE]).toBe(R.CAUSE_ILLEGAL_INSTRUCTION);
    expect(ctx.csr.lo[R.CSR_MTVAL] >>> 0).toBe(insn >>> 0);
    expect(ctx.csr.num(R.CSR_MEPC)).toBe(PC);
    // MPP records virtual S.
    expect((ctx.csr.mstatus & R.MSTATUS_MPP) >>> R.MSTATUS_MPP_SHIFT).toBe(R.PRV_S);
  });

  it("writes are legalised by the machine's WARL rules (mstatus.MPP = 2 keeps the old value)", () => {
    const { ctx, d } = setup(R.PRV_M);
    ctx.setReg(T0, 2 << R.MSTATUS_MPP_SHIFT);
    execute(d, enc.csrrw(0, R.CSR_MSTATUS, T0));
    expect(ctx.csr.mstatus & R.MSTATUS_MPP).toBe(0);
  });

  it("counters read virtual time and are gated by the virtual mcounteren in S", () => {
    const { ctx, d } = setup(R.PRV_S);
    ctx.csr.write(R.CSR_STVEC, 0x8000_0200, 0);
    execute(d, enc.csrrs(A0, R.CSR_TIME, 0));
    expect(ctx.csr.lo[R.CSR_MCAUSE]).toBe(R.CAUSE_ILLEGAL_INSTRUCTION); // TM clear: trap to virtual M
    const { ctx: c2, d: d2 } = setup(R.PRV_S);
    c2.csr.write(R.CSR_MCOUNTEREN, R.COUNTEREN_TM, 0);
    execute(d2, enc.csrrs(A0, R.CSR_TIME, 0));
    expect(c2.pc).toBe(PC + 4);
    expect(c2.reg(A0)).toBeGreaterThanOrEqual(0);
  });

  it("turning Sv39 on from virtual S stops the VM with a clear reason; from M the write is ignored (WARL)", () => {
    const { ctx, d } = setup(R.PRV_S);
    ctx.x[2 * T0 + 1] = R.SATP_MODE_SV39 << 28;
    expect(execute(d, enc.csrrw(0, R.CSR_SATP, T0))).toBe(EXIT_STOP);
    expect(d.stopReason).toMatch(/paging is not yet supported/);
    const m = setup(R.PRV_M);
    m.ctx.x[2 * T0 + 1] = R.SATP_MODE_SV39 << 28;
    expect(execute(m.d, enc.csrrw(0, R.CSR_SATP, T0))).toBe(EXIT_CONTINUE);
    expect(m.ctx.csr.hi[R.CSR_SATP]).toBe(0);
  });
});

describe("reflection: the guest kernel sees its traps as hardware would deliver them", () => {
  it("a U-mode ecall is reflected to the guest's S handler when delegated: sepc, scause 8, SPP=U, SPIE=SIE, SIE=0", () => {
    const { ctx, d } = setup(R.PRV_U);
    ctx.csr.write(R.CSR_MEDELEG, 1 << R.CAUSE_ECALL_U, 0);
    ctx.csr.write(R.CSR_STVEC, 0x8000_0300, 0);
    ctx.csr.mstatus |= R.MSTATUS_SIE;
    expect(d.dispatch(R.CAUSE_ECALL_U, 0, PC, 0)).toBe(EXIT_CONTINUE);
    expect(ctx.csr.priv).toBe(R.PRV_S);
    expect(ctx.pc).toBe(0x8000_0300);
    expect(ctx.csr.num(R.CSR_SEPC)).toBe(PC);
    expect(ctx.csr.lo[R.CSR_SCAUSE]).toBe(R.CAUSE_ECALL_U);
    expect(ctx.csr.mstatus & R.MSTATUS_SPP).toBe(0);
    expect(ctx.csr.mstatus & R.MSTATUS_SPIE).not.toBe(0);
    expect(ctx.csr.mstatus & R.MSTATUS_SIE).toBe(0);
    expect(ctx.stats[STAT.reflected_exceptions]).toBe(1);
  });

  it("an ecall from virtual S (no SBI from the hypervisor) is cause 9, and from virtual M cause 11", () => {
    const s = setup(R.PRV_S);
    s.d.dispatch(R.CAUSE_ECALL_U, 0, PC, 0);
    expect(s.ctx.csr.lo[R.CSR_MCAUSE]).toBe(R.CAUSE_ECALL_S);
    const m = setup(R.PRV_M);
    m.d.dispatch(R.CAUSE_ECALL_U, 0, PC, 0);
    expect(m.ctx.csr.lo[R.CSR_MCAUSE]).toBe(R.CAUSE_ECALL_M);
  });

  it("sret from virtual S returns to U and pops the S stack; the guest kernel's sret is itself an exit", () => {
    const { ctx, d } = setup(R.PRV_S);
    ctx.csr.setNum(R.CSR_SEPC, 0x8000_4000);
    ctx.csr.mstatus = R.MSTATUS_SPIE; // SPP = U
    expect(execute(d, enc.sret())).toBe(EXIT_CONTINUE);
    expect(ctx.csr.priv).toBe(R.PRV_U);
    expect(ctx.pc).toBe(0x8000_4000);
    expect(ctx.csr.mstatus & R.MSTATUS_SIE).not.toBe(0);
    expect(ctx.csr.mstatus & R.MSTATUS_SPIE).not.toBe(0);
    expect(ctx.stats[STAT.xret_exit]).toBe(1);
  });

  it("sret under virtual TSR, and from virtual U, is an illegal instruction for the guest", () => {
    const s = setup(R.PRV_S);
    s.ctx.csr.mstatus = R.MSTATUS_TSR;
    s.ctx.csr.write(R.CSR_MTVEC, 0x8000_0100, 0);
    execute(s.d, enc.sret());
    expect(s.ctx.csr.lo[R.CSR_MCAUSE]).toBe(R.CAUSE_ILLEGAL_INSTRUCTION);
    const u = setup(R.PRV_U);
    execute(u.d, enc.sret());
    expect(u.ctx.csr.lo[R.CSR_MCAUSE]).toBe(R.CAUSE_ILLEGAL_INSTRUCTION);
  });

  it("mret to virtual S with MPRV set clears MPRV and restores MIE from MPIE", () => {
    const { ctx, d } = setup(R.PRV_M);
    ctx.csr.mstatus = R.MSTATUS_MPIE | R.MSTATUS_MPRV | (R.PRV_S << R.MSTATUS_MPP_SHIFT);
    ctx.csr.setNum(R.CSR_MEPC, 0x8020_0000);
    execute(d, enc.mret());
    expect(ctx.csr.priv).toBe(R.PRV_S);
    expect(ctx.pc).toBe(0x8020_0000);
    expect(ctx.csr.mstatus & R.MSTATUS_MIE).not.toBe(0);
    expect(ctx.csr.mstatus & R.MSTATUS_MPRV).toBe(0);
  });

  it("a virtual interrupt goes to the vectored tvec entry BASE + 4 * cause; exceptions go to BASE", () => {
    const { ctx } = setup(R.PRV_S);
    ctx.csr.write(R.CSR_MIDELEG, R.MIP_STIP, 0);
    ctx.csr.write(R.CSR_MIE, R.MIP_STIP, 0);
    ctx.csr.write(R.CSR_STVEC, 0x8000_0400 | R.TVEC_MODE_VECTORED, 0);
    ctx.csr.mstatus |= R.MSTATUS_SIE;
    ctx.pc = PC;
    ctx.csr.setHwPending(R.IRQ_S_TIMER, true);
    expect(injectPendingInterrupt(ctx)).toBe(true);
    expect(ctx.pc).toBe(0x8000_0400 + 4 * R.IRQ_S_TIMER);
    expect(ctx.csr.hi[R.CSR_SCAUSE] >>> 31).toBe(1);
    expect(ctx.stats[STAT.injected_interrupts]).toBe(1);
  });

  it("a delegated interrupt is not taken in virtual M; an M interrupt is taken in S whatever MIE says", () => {
    const m = setup(R.PRV_M);
    m.ctx.csr.write(R.CSR_MIDELEG, R.MIP_SSIP, 0);
    m.ctx.csr.write(R.CSR_MIE, R.MIP_SSIP, 0);
    m.ctx.csr.mipSw = R.MIP_SSIP;
    m.ctx.csr.mstatus |= R.MSTATUS_MIE | R.MSTATUS_SIE;
    expect(injectPendingInterrupt(m.ctx)).toBe(false);
    const s = setup(R.PRV_S);
    s.ctx.csr.write(R.CSR_MIE, R.MIP_MTIP, 0);
    s.ctx.csr.setHwPending(R.IRQ_M_TIMER, true);
    expect(injectPendingInterrupt(s.ctx)).toBe(true);
    expect(s.ctx.csr.priv).toBe(R.PRV_M);
  });
});

describe("the rest of the exits", () => {
  it("wfi in virtual S waits (pc stepped); under TW it is illegal", () => {
    const { ctx, d } = setup(R.PRV_S);
    expect(execute(d, enc.wfi())).toBe(EXIT_WAIT);
    expect(ctx.pc).toBe(PC + 4);
    const tw = setup(R.PRV_S);
    tw.ctx.csr.mstatus = R.MSTATUS_TW;
    expect(execute(tw.d, enc.wfi())).toBe(EXIT_CONTINUE);
    expect(tw.ctx.csr.lo[R.CSR_MCAUSE]).toBe(R.CAUSE_ILLEGAL_INSTRUCTION);
  });

  it("a real illegal instruction is reflected with its bits, counted as instr_illegal_exits", () => {
    const { ctx, d } = setup(R.PRV_M);
    execute(d, 0xffff_ffff | 0);
    expect(ctx.csr.lo[R.CSR_MTVAL] >>> 0).toBe(0xffff_ffff);
    expect(ctx.stats[STAT.instr_illegal_exits]).toBe(1);
  });

  it("page faults need the main thread; there a RAM address is mapped and retried, an MMIO one emulated, anything else an access fault", () => {
    const vcpuSide = setup(R.PRV_S);
    expect(vcpuSide.d.dispatch(R.CAUSE_LOAD_PAGE_FAULT, 0x1000_0005, PC, 0)).toBe(EXIT_TO_MAIN);
    const calls: string[] = [];
    const main: MainThreadExits = {
      mapRam: (gpa) => (calls.push(`map ${gpa.toString(16)}`), gpa >= 0x8000_0000),
      mmio: (_ctx, gpa) => (calls.push(`mmio ${gpa.toString(16)}`), gpa === 0x1000_0005),
    };
    const { ctx, d } = setup(R.PRV_S, main);
    ctx.csr.write(R.CSR_MTVEC, 0x8000_0100, 0);
    expect(d.dispatch(R.CAUSE_STORE_PAGE_FAULT, 0x8000_8000, PC, enc.sd(A0, A1, 0))).toBe(EXIT_CONTINUE);
    expect(ctx.pc).toBe(PC);
    expect(d.dispatch(R.CAUSE_LOAD_PAGE_FAULT, 0x1000_0005, PC, enc.lbu(A0, A1, 5))).toBe(EXIT_CONTINUE);
    expect(d.dispatch(R.CAUSE_LOAD_PAGE_FAULT, 0x4000_0000, PC, enc.ld(A0, A1, 0))).toBe(EXIT_CONTINUE);
    expect(ctx.csr.lo[R.CSR_MCAUSE]).toBe(R.CAUSE_LOAD_ACCESS);
    expect(ctx.csr.lo[R.CSR_MTVAL]).toBe(0x4000_0000);
    expect(calls).toEqual(["map 80008000", "map 10000005", "mmio 10000005", "map 40000000", "mmio 40000000"]);
    expect(ctx.stats[STAT.page_fault_exit]).toBe(1);
    expect(ctx.stats[STAT.mmio_exit_kernel]).toBe(1);
  });
});

describe("the vCPU thread's fast path for CSR exits", () => {
  const words = new Int32Array(2);
  function predecode(insn: number): [number, number] {
    decodeInto(insn, words, 0);
    return [words[0], words[1]];
  }

  it("emulates a plain CSR access exactly as the general path does", () => {
    const { ctx } = setup(R.PRV_S);
    ctx.csr.write(R.CSR_SSCRATCH, 0x77, 0);
    const [w0, imm] = predecode(enc.csrrs(A0, R.CSR_SSCRATCH, 0));
    expect(fastCsr(ctx, ctx.x, w0, imm, PC)).toBe(PC + 4); // the next pc
    expect(ctx.reg(A0)).toBe(0x77);
    expect(ctx.stats[STAT.csr_exit]).toBe(1);
  });

  it("at an upper-half pc (a paging kernel's, negative here) it returns that pc's successor, not the -1 of declining", () => {
    const { ctx } = setup(R.PRV_S);
    const kernelPc = -0x7f57edc0; // 0xffffffff80a81240
    const [w0, imm] = predecode(enc.csrrs(A0, R.CSR_SSCRATCH, 0));
    expect(fastCsr(ctx, ctx.x, w0, imm, kernelPc)).toBe(kernelPc + 4);
  });

  it("a read of time past the SBI timer's deadline raises the virtual STIP at once, not at the next slice", () => {
    const { ctx } = setup(R.PRV_S);
    ctx.csr.write(R.CSR_MCOUNTEREN, R.COUNTEREN_TM, 0);
    ctx.csr.write(R.CSR_STIMECMP, -1, -1); // Sstc's comparator disarmed: only the SBI timer counts
    ctx.page.timerDeadline[0] = ctx.mtime() + 2000; // 200 µs from now
    ctx.csr.updateStimecmp();
    expect(ctx.csr.mip & R.MIP_STIP).toBe(0);
    while (ctx.mtime() <= ctx.page.timerDeadline[0]) {
      // let the deadline pass without the guest looking
    }
    expect(ctx.csr.mip & R.MIP_STIP, "nobody has looked at the time yet").toBe(0);
    const [w0, imm] = predecode(enc.csrrs(A0, R.CSR_TIME, 0));
    expect(fastCsr(ctx, ctx.x, w0, imm, PC)).toBe(PC + 4);
    expect(ctx.reg(A0)).toBeGreaterThan(ctx.page.timerDeadline[0]);
    expect(ctx.csr.mip & R.MIP_STIP).toBe(R.MIP_STIP);
  });

  it("on the main thread a read of time also brings the VM's CLINT up to date (onTimeRead)", () => {
    const { ctx } = setup(R.PRV_M);
    let clintUpdates = 0;
    ctx.onTimeRead = () => clintUpdates++;
    const [w0, imm] = predecode(enc.csrrs(A0, R.CSR_TIME, 0));
    expect(fastCsr(ctx, ctx.x, w0, imm, PC)).toBe(PC + 4);
    expect(clintUpdates).toBe(1);
  });

  it("leaves satp, interrupt-relevant CSRs and illegal accesses to the general path, changing nothing", () => {
    for (const [priv, insn] of [
      [R.PRV_S, enc.csrrw(0, R.CSR_SATP, T0)],
      [R.PRV_S, enc.csrrs(A0, R.CSR_SSTATUS, T0)],
      [R.PRV_M, enc.csrrw(0, R.CSR_MIE, T0)],
      [R.PRV_U, enc.csrrs(A0, R.CSR_SSCRATCH, 0)],
    ] as const) {
      const { ctx } = setup(priv);
      ctx.pc = PC;
      ctx.setReg(A0, 5);
      const [w0, imm] = predecode(insn);
      expect(fastCsr(ctx, ctx.x, w0, imm, PC)).toBe(-1);
      expect(ctx.reg(A0)).toBe(5);
      expect(ctx.pc).toBe(PC);
      expect(ctx.stats[STAT.csr_exit]).toBe(0);
    }
  });
});
