/*
 * Trap entry and return as pure operations on a CSR file (priv spec 3.1.6.1,
 * 3.1.7, 3.1.8, 3.1.9, 3.3.2, 4.1.1): which mode takes a trap, what is saved,
 * how the interrupt-enable stack moves, and which pending interrupt wins.
 */

import { describe, expect, it } from "vitest";
import { CsrFile, type CsrHost } from "../../src/machine/csr.ts";
import * as R from "../../src/machine/riscv.ts";
import { enterTrap, mret, pendingInterrupt, sret } from "../../src/machine/trap.ts";

class FakeHost implements CsrHost {
  changes = 0;
  mtime(): number {
    return 0;
  }
  retired(): number {
    return 0;
  }
  translationChanged(): void {
    this.changes++;
  }
}

const MTVEC = 0x8000_4000;
const STVEC = 0x8000_8000;

function setup(): { c: CsrFile; host: FakeHost } {
  const host = new FakeHost();
  const c = new CsrFile(0, host);
  c.setNum(R.CSR_MTVEC, MTVEC);
  c.setNum(R.CSR_STVEC, STVEC);
  return { c, host };
}
const has = (c: CsrFile, bit: number): boolean => (c.mstatus & bit) !== 0;
const mpp = (c: CsrFile): number => (c.mstatus & R.MSTATUS_MPP) >>> R.MSTATUS_MPP_SHIFT;

describe("trap entry (priv spec 3.1.6.1, 3.1.8)", () => {
  it("an exception in U without delegation goes to M: mepc, mcause, mtval, MPIE=MIE, MIE=0, MPP=U", () => {
    const { c, host } = setup();
    c.priv = R.PRV_U;
    c.mstatus = R.MSTATUS_MIE;
    const pc = enterTrap(c, R.CAUSE_LOAD_PAGE_FAULT, false, 0x1234, 0x1_0000);
    expect(pc).toBe(MTVEC);
    expect(c.priv).toBe(R.PRV_M);
    expect(c.num(R.CSR_MEPC)).toBe(0x1_0000);
    expect(c.num(R.CSR_MCAUSE)).toBe(R.CAUSE_LOAD_PAGE_FAULT);
    expect(c.num(R.CSR_MTVAL)).toBe(0x1234);
    expect(has(c, R.MSTATUS_MPIE), "MPIE").toBe(true);
    expect(has(c, R.MSTATUS_MIE), "MIE").toBe(false);
    expect(mpp(c)).toBe(R.PRV_U);
    expect(host.changes, "translation context changed").toBeGreaterThan(0);
  });
  it("MPP records S and M; MPIE records MIE = 0", () => {
    for (const p of [R.PRV_S, R.PRV_M]) {
      const { c } = setup();
      c.priv = p;
      c.mstatus = R.MSTATUS_MPIE;
      enterTrap(c, R.CAUSE_ILLEGAL_INSTRUCTION, false, 0, 0x100);
      expect(mpp(c), `from ${p}`).toBe(p);
      expect(has(c, R.MSTATUS_MPIE), "MPIE = old MIE = 0").toBe(false);
    }
  });
  it("a delegated exception from U or S goes to S: sepc, scause, stval, SPIE=SIE, SIE=0, SPP", () => {
    for (const p of [R.PRV_U, R.PRV_S]) {
      const { c } = setup();
      c.lo[R.CSR_MEDELEG] = 1 << R.CAUSE_ECALL_U | 1 << R.CAUSE_ECALL_S;
      c.priv = p;
      c.mstatus = R.MSTATUS_SIE | R.MSTATUS_MIE | (p === R.PRV_U ? R.MSTATUS_SPP : 0);
      const pc = enterTrap(c, R.CAUSE_ECALL_U + p, false, 0, 0x2000);
      expect(pc).toBe(STVEC);
      expect(c.priv).toBe(R.PRV_S);
      expect(c.num(R.CSR_SEPC)).toBe(0x2000);
      expect(c.num(R.CSR_SCAUSE)).toBe(R.CAUSE_ECALL_U + p);
      expect(c.num(R.CSR_STVAL)).toBe(0);
      expect(has(c, R.MSTATUS_SPIE), "SPIE").toBe(true);
      expect(has(c, R.MSTATUS_SIE), "SIE").toBe(false);
      expect(has(c, R.MSTATUS_SPP), "SPP").toBe(p === R.PRV_S);
      expect(has(c, R.MSTATUS_MIE), "M stack untouched").toBe(true);
      expect(c.num(R.CSR_MEPC), "M CSRs untouched").toBe(0);
    }
  });
  it("a delegated exception raised in M is still taken in M (traps never go to a lower mode)", () => {
    const { c } = setup();
    c.lo[R.CSR_MEDELEG] = R.MEDELEG_WRITABLE;
    c.priv = R.PRV_M;
    expect(enterTrap(c, R.CAUSE_BREAKPOINT, false, 0, 0)).toBe(MTVEC);
    expect(c.priv).toBe(R.PRV_M);
  });
  it("interrupt causes set bit 63 of xcause and tval is 0", () => {
    const { c } = setup();
    c.priv = R.PRV_U;
    enterTrap(c, R.IRQ_M_TIMER, true, 0, 0x3000);
    expect(c.hi[R.CSR_MCAUSE] >>> 0).toBe(0x8000_0000);
    expect(c.lo[R.CSR_MCAUSE]).toBe(R.IRQ_M_TIMER);
    c.lo[R.CSR_MIDELEG] = R.MIP_STIP;
    c.priv = R.PRV_U;
    enterTrap(c, R.IRQ_S_TIMER, true, 0, 0x3000);
    expect(c.hi[R.CSR_SCAUSE] >>> 0).toBe(0x8000_0000);
    expect(c.lo[R.CSR_SCAUSE]).toBe(R.IRQ_S_TIMER);
  });
  it("vectored xtvec: interrupts go to BASE + 4*cause, exceptions to BASE (priv spec 3.1.7)", () => {
    const { c } = setup();
    c.setNum(R.CSR_MTVEC, MTVEC + R.TVEC_MODE_VECTORED);
    c.setNum(R.CSR_STVEC, STVEC + R.TVEC_MODE_VECTORED);
    c.priv = R.PRV_U;
    expect(enterTrap(c, R.IRQ_M_EXT, true, 0, 0)).toBe(MTVEC + 4 * R.IRQ_M_EXT);
    c.priv = R.PRV_U;
    expect(enterTrap(c, R.CAUSE_ECALL_U, false, 0, 0)).toBe(MTVEC);
    c.lo[R.CSR_MIDELEG] = R.S_INTERRUPTS;
    c.priv = R.PRV_U;
    expect(enterTrap(c, R.IRQ_S_SOFT, true, 0, 0)).toBe(STVEC + 4 * R.IRQ_S_SOFT);
  });
  it("a high (negative) trap vector keeps all 64 bits", () => {
    const { c } = setup();
    const hi = -0x4000_0000 + 0x100; // 0xffff_ffff_c000_0100
    c.setNum(R.CSR_STVEC, hi + 1);
    c.lo[R.CSR_MIDELEG] = R.S_INTERRUPTS;
    c.priv = R.PRV_U;
    expect(enterTrap(c, R.IRQ_S_EXT, true, 0, 0)).toBe(hi + 4 * R.IRQ_S_EXT);
  });
});

describe("mret and sret (priv spec 3.1.6.1, 3.3.2)", () => {
  it("mret: MIE = MPIE, MPIE = 1, privilege = MPP, MPP = U, pc = mepc", () => {
    const { c } = setup();
    c.mstatus = R.MSTATUS_MPIE | (R.PRV_S << R.MSTATUS_MPP_SHIFT);
    c.setNum(R.CSR_MEPC, 0x8020_0000);
    expect(mret(c)).toBe(0x8020_0000);
    expect(c.priv).toBe(R.PRV_S);
    expect(has(c, R.MSTATUS_MIE), "MIE").toBe(true);
    expect(has(c, R.MSTATUS_MPIE), "MPIE").toBe(true);
    expect(mpp(c), "MPP").toBe(R.PRV_U);
  });
  it("mret with MPIE = 0 leaves MIE clear", () => {
    const { c } = setup();
    c.mstatus = R.MSTATUS_MIE;
    mret(c);
    expect(has(c, R.MSTATUS_MIE)).toBe(false);
    expect(has(c, R.MSTATUS_MPIE)).toBe(true);
    expect(c.priv).toBe(R.PRV_U);
  });
  it("mret to S or U clears MPRV; mret to M keeps it (priv spec 3.1.6.3)", () => {
    for (const [target, keeps] of [[R.PRV_U, false], [R.PRV_S, false], [R.PRV_M, true]] as const) {
      const { c } = setup();
      c.mstatus = R.MSTATUS_MPRV | (target << R.MSTATUS_MPP_SHIFT);
      mret(c);
      expect(has(c, R.MSTATUS_MPRV), `mret to ${target}`).toBe(keeps);
    }
  });
  it("sret: SIE = SPIE, SPIE = 1, privilege = SPP, SPP = U, MPRV = 0, pc = sepc", () => {
    const { c } = setup();
    c.priv = R.PRV_S;
    c.mstatus = R.MSTATUS_SPIE | R.MSTATUS_SPP | R.MSTATUS_MPRV;
    c.setNum(R.CSR_SEPC, 0x4000);
    expect(sret(c)).toBe(0x4000);
    expect(c.priv).toBe(R.PRV_S);
    expect(has(c, R.MSTATUS_SIE), "SIE").toBe(true);
    expect(has(c, R.MSTATUS_SPIE), "SPIE").toBe(true);
    expect(has(c, R.MSTATUS_SPP), "SPP").toBe(false);
    expect(has(c, R.MSTATUS_MPRV), "MPRV").toBe(false);
    c.mstatus = 0;
    sret(c);
    expect(c.priv, "SPP = U").toBe(R.PRV_U);
    expect(has(c, R.MSTATUS_SIE)).toBe(false);
  });
  it("a trap followed by its xret restores the interrupt-enable stack", () => {
    const { c } = setup();
    c.priv = R.PRV_S;
    c.mstatus = R.MSTATUS_MIE | R.MSTATUS_SIE;
    enterTrap(c, R.CAUSE_ECALL_S, false, 0, 0x10);
    mret(c);
    expect(c.priv).toBe(R.PRV_S);
    expect(has(c, R.MSTATUS_MIE)).toBe(true);
    expect(has(c, R.MSTATUS_SIE)).toBe(true);
  });
});

describe("pending-interrupt selection (priv spec 3.1.9)", () => {
  const ALL = R.ALL_INTERRUPTS;
  function pick(priv: number, pending: number, opts: { mie?: number; mideleg?: number; status?: number } = {}): number {
    const { c } = setup();
    c.priv = priv;
    c.lo[R.CSR_MIE] = opts.mie ?? ALL;
    c.lo[R.CSR_MIDELEG] = opts.mideleg ?? 0;
    c.mstatus = opts.status ?? 0;
    c.mipSw = pending;
    return pendingInterrupt(c);
  }
  it("priority order MEI > MSI > MTI > SEI > SSI > STI for interrupts to the same mode", () => {
    const order = [R.IRQ_M_EXT, R.IRQ_M_SOFT, R.IRQ_M_TIMER, R.IRQ_S_EXT, R.IRQ_S_SOFT, R.IRQ_S_TIMER];
    for (let i = 0; i < order.length; i++) {
      const pending = order.slice(i).reduce((m, irq) => m | (1 << irq), 0);
      expect(pick(R.PRV_U, pending), `pending ${pending.toString(2)}`).toBe(order[i]);
    }
  });
  it("nothing is taken unless it is enabled in mie", () => {
    expect(pick(R.PRV_U, R.MIP_MTIP, { mie: R.MIP_MSIP })).toBe(-1);
  });
  it("M-level interrupts are taken in S and U regardless of MIE, and in M only with MIE", () => {
    expect(pick(R.PRV_U, R.MIP_MTIP)).toBe(R.IRQ_M_TIMER);
    expect(pick(R.PRV_S, R.MIP_MTIP)).toBe(R.IRQ_M_TIMER);
    expect(pick(R.PRV_M, R.MIP_MTIP)).toBe(-1);
    expect(pick(R.PRV_M, R.MIP_MTIP, { status: R.MSTATUS_MIE })).toBe(R.IRQ_M_TIMER);
  });
  it("delegated interrupts are never taken in M, taken in U always, in S only with SIE", () => {
    const deleg = { mideleg: R.S_INTERRUPTS };
    expect(pick(R.PRV_M, R.MIP_STIP, { ...deleg, status: R.MSTATUS_MIE | R.MSTATUS_SIE })).toBe(-1);
    expect(pick(R.PRV_U, R.MIP_STIP, deleg)).toBe(R.IRQ_S_TIMER);
    expect(pick(R.PRV_S, R.MIP_STIP, deleg)).toBe(-1);
    expect(pick(R.PRV_S, R.MIP_STIP, { ...deleg, status: R.MSTATUS_SIE })).toBe(R.IRQ_S_TIMER);
  });
  it("an undelegated S-level interrupt is an M interrupt: taken in S even with SIE clear", () => {
    expect(pick(R.PRV_S, R.MIP_SEIP)).toBe(R.IRQ_S_EXT);
    expect(pick(R.PRV_M, R.MIP_SEIP)).toBe(-1);
  });
  it("interrupts destined for M win over those destined for S, whatever their priority (decreasing destined mode)", () => {
    // SEI is delegated to S, SSI is not: SSI goes to M and must be taken first.
    expect(pick(R.PRV_U, R.MIP_SEIP | R.MIP_SSIP, { mideleg: R.MIP_SEIP })).toBe(R.IRQ_S_SOFT);
    expect(pick(R.PRV_S, R.MIP_SEIP | R.MIP_STIP, { mideleg: R.MIP_SEIP, status: R.MSTATUS_SIE })).toBe(R.IRQ_S_TIMER);
  });
  it("an M-destined interrupt blocked by MIE in M does not hide a deliverable one", () => {
    // In M with MIE clear nothing is deliverable at all: delegated ones never are in M.
    expect(pick(R.PRV_M, R.MIP_MTIP | R.MIP_STIP, { mideleg: R.MIP_STIP })).toBe(-1);
  });
});
