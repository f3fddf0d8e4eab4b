/*
 * Interrupts as the running hart takes them (priv spec 3.1.9, 3.3.3, 4.1.3):
 * priority, the global enable rules per privilege, delegation, vectored
 * handlers, and wfi waking on a pending-and-enabled interrupt even when it
 * cannot be taken. The harness takes interrupts between slices, as the runner
 * does; an instruction that makes an interrupt takeable ends the slice so that
 * happens at once.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import * as R from "../../src/machine/riscv.ts";
import { runSlice } from "../../src/machine/hart-loop.ts";
import { CODE_BASE, HartHarness } from "../helpers/hart-harness.ts";

const MTRAP = CODE_BASE + 0x800;
const STRAP = CODE_BASE + 0xc00;
const NOP = enc.addi(0, 0, 0);
const INTERRUPT = 1n << 63n;

function harness(): HartHarness {
  const t = new HartHarness();
  t.setCsr(R.CSR_MTVEC, MTRAP);
  t.setCsr(R.CSR_STVEC, STRAP);
  // Handlers and vectored slots hold nops, so running into them is harmless.
  t.load(new Array<number>(64).fill(NOP), MTRAP);
  t.load(new Array<number>(64).fill(NOP), STRAP);
  t.load(new Array<number>(16).fill(NOP));
  return t;
}

/** Raises pending bits: M-level ones on their wires, S-level ones through mip. */
function pend(t: HartHarness, bits: number): void {
  for (const irq of [R.IRQ_M_EXT, R.IRQ_M_SOFT, R.IRQ_M_TIMER]) if (bits & (1 << irq)) t.hart.csr.setHwPending(irq, true);
  t.setCsr(R.CSR_MIP, bits & R.MIP_WRITABLE);
}

describe("which interrupt is taken (priv spec 3.1.9)", () => {
  it("all six pending in U: MEI first, then MSI, MTI, SEI, SSI, STI as each is cleared", () => {
    const t = harness();
    t.setCsr(R.CSR_MIE, R.ALL_INTERRUPTS);
    pend(t, R.ALL_INTERRUPTS);
    const order = [R.IRQ_M_EXT, R.IRQ_M_SOFT, R.IRQ_M_TIMER, R.IRQ_S_EXT, R.IRQ_S_SOFT, R.IRQ_S_TIMER];
    for (const irq of order) {
      t.pc = CODE_BASE;
      t.setPriv(R.PRV_U);
      t.run(1);
      t.expectCsr(`interrupt ${irq}`, "mcause", R.CSR_MCAUSE, INTERRUPT | BigInt(irq));
      t.expectCsr(`interrupt ${irq}`, "mepc", R.CSR_MEPC, CODE_BASE);
      if (irq === R.IRQ_M_EXT || irq === R.IRQ_M_SOFT || irq === R.IRQ_M_TIMER) t.hart.csr.setHwPending(irq, false);
      else t.setCsr(R.CSR_MIP, Number(t.csr(R.CSR_MIP)) & ~(1 << irq) & R.MIP_WRITABLE);
    }
  });
  it("in M, nothing is taken while MIE is clear; setting MIE takes the interrupt before the next instruction", () => {
    const t = harness();
    t.setCsr(R.CSR_MIE, R.MIP_MTIP);
    pend(t, R.MIP_MTIP);
    t.load([NOP, enc.csrrsi(0, R.CSR_MSTATUS, R.MSTATUS_MIE), enc.addi(5, 0, 1)]);
    t.run(3); // nop, csrsi, then the handler's first instruction
    t.expectCsr("after csrsi mstatus.MIE", "mcause", R.CSR_MCAUSE, INTERRUPT | BigInt(R.IRQ_M_TIMER));
    t.expectCsr("after csrsi mstatus.MIE", "mepc", R.CSR_MEPC, CODE_BASE + 8);
    t.expectReg("addi skipped", 5, 0n);
    expect(t.csr(R.CSR_MSTATUS) & BigInt(R.MSTATUS_MPIE), "MPIE = 1").toBe(BigInt(R.MSTATUS_MPIE));
    expect(t.csr(R.CSR_MSTATUS) & BigInt(R.MSTATUS_MIE), "MIE = 0 in the handler").toBe(0n);
  });
  it("M-level interrupts are taken in S and U whatever MIE says", () => {
    for (const p of [R.PRV_S, R.PRV_U]) {
      const t = harness();
      t.setCsr(R.CSR_MIE, R.MIP_MSIP);
      pend(t, R.MIP_MSIP);
      t.setPriv(p);
      t.run(1);
      t.expectMTrap(`MSI in ${p}`, INTERRUPT | BigInt(R.IRQ_M_SOFT), CODE_BASE);
    }
  });
  it("a delegated interrupt is never taken in M, even with MIE and SIE set", () => {
    const t = harness();
    t.setCsr(R.CSR_MIDELEG, R.MIP_STIP);
    t.setCsr(R.CSR_MIE, R.MIP_STIP);
    t.setCsr(R.CSR_MSTATUS, R.MSTATUS_MIE | R.MSTATUS_SIE);
    pend(t, R.MIP_STIP);
    t.run(3);
    t.expectPc("no interrupt in M", CODE_BASE + 12);
  });
  it("a delegated interrupt in S waits for SIE; csrsi sstatus.SIE takes it into stvec", () => {
    const t = harness();
    t.setCsr(R.CSR_MIDELEG, R.MIP_SSIP);
    t.setCsr(R.CSR_MIE, R.MIP_SSIP);
    t.load([NOP, enc.csrrsi(0, R.CSR_SSTATUS, R.MSTATUS_SIE), NOP]);
    t.setPriv(R.PRV_S);
    pend(t, R.MIP_SSIP);
    t.run(1);
    t.expectPc("SIE clear", CODE_BASE + 4);
    t.run(2); // csrsi, then the handler's first instruction
    t.expectSTrap("after csrsi sstatus.SIE", INTERRUPT | BigInt(R.IRQ_S_SOFT), CODE_BASE + 8);
    t.expectPc("stvec", STRAP + 4);
    expect(t.csr(R.CSR_MSTATUS) & BigInt(R.MSTATUS_SPIE | R.MSTATUS_SIE | R.MSTATUS_SPP)).toBe(BigInt(R.MSTATUS_SPIE | R.MSTATUS_SPP));
  });
  it("a delegated interrupt is taken in U whatever SIE says", () => {
    const t = harness();
    t.setCsr(R.CSR_MIDELEG, R.MIP_SEIP);
    t.setCsr(R.CSR_MIE, R.MIP_SEIP);
    pend(t, R.MIP_SEIP);
    t.setPriv(R.PRV_U);
    t.run(1);
    t.expectSTrap("SEI in U", INTERRUPT | BigInt(R.IRQ_S_EXT), CODE_BASE);
  });
  it("an M-bound interrupt is taken before a delegated one of higher priority (decreasing destined mode)", () => {
    const t = harness();
    t.setCsr(R.CSR_MIDELEG, R.MIP_SEIP);
    t.setCsr(R.CSR_MIE, R.MIP_SEIP | R.MIP_STIP);
    pend(t, R.MIP_SEIP | R.MIP_STIP);
    t.setPriv(R.PRV_U);
    t.run(1);
    t.expectCsr("STI to M first", "mcause", R.CSR_MCAUSE, INTERRUPT | BigInt(R.IRQ_S_TIMER));
    expect(t.priv).toBe(R.PRV_M);
  });
  it("vectored mtvec sends an interrupt to BASE + 4*cause", () => {
    const t = harness();
    t.setCsr(R.CSR_MTVEC, MTRAP + R.TVEC_MODE_VECTORED);
    t.setCsr(R.CSR_MIE, R.MIP_MEIP);
    pend(t, R.MIP_MEIP);
    t.setPriv(R.PRV_U);
    t.run(1);
    t.expectPc("vectored MEI", MTRAP + 4 * R.IRQ_M_EXT + 4);
  });
  it("mret to U with an M interrupt pending takes it right after the mret, with mepc = the return target", () => {
    const t = harness();
    t.setCsr(R.CSR_MEPC, CODE_BASE + 0x20);
    t.setCsr(R.CSR_MIE, R.MIP_MTIP);
    pend(t, R.MIP_MTIP);
    t.load([enc.mret()]);
    t.run(2); // mret, then the handler's first instruction
    t.expectCsr("MTI after mret", "mcause", R.CSR_MCAUSE, INTERRUPT | BigInt(R.IRQ_M_TIMER));
    t.expectCsr("MTI after mret", "mepc", R.CSR_MEPC, CODE_BASE + 0x20);
    expect((t.csr(R.CSR_MSTATUS) >> 11n) & 3n, "MPP = U").toBe(0n);
  });
  it("Sstc: when time reaches stimecmp, a delegated STI is taken in S with SIE", () => {
    const t = harness();
    t.setCsr(R.CSR_MENVCFG, 1n << 63n);
    t.setCsr(R.CSR_MIDELEG, R.MIP_STIP);
    t.setCsr(R.CSR_MIE, R.MIP_STIP);
    t.setCsr(R.CSR_MSTATUS, R.MSTATUS_SIE);
    t.setCsr(R.CSR_STIMECMP, 500);
    t.setPriv(R.PRV_S);
    t.now = 499;
    t.run(2);
    t.expectPc("before stimecmp", CODE_BASE + 8);
    t.now = 500;
    t.run(1);
    t.expectCsr("STI", "scause", R.CSR_SCAUSE, INTERRUPT | BigInt(R.IRQ_S_TIMER));
    t.expectCsr("STI", "sepc", R.CSR_SEPC, CODE_BASE + 8);
  });
});

describe("wfi (priv spec 3.3.3)", () => {
  it("waits while nothing is pending, then resumes after the wfi when an interrupt is pending in mie even with MIE clear", () => {
    const t = harness();
    t.setCsr(R.CSR_MIE, R.MIP_MTIP);
    t.load([enc.wfi(), enc.addi(5, 0, 1)]);
    expect(t.run(10), "the hart stops at the wfi").toBe(1);
    expect(t.hart.wfi).toBe(true);
    expect(t.run(10), "still waiting").toBe(0);
    t.hart.csr.setHwPending(R.IRQ_M_TIMER, true);
    t.run(1);
    expect(t.hart.wfi).toBe(false);
    t.expectReg("resumed after wfi without a trap", 5, 1n);
    expect(t.csr(R.CSR_MCAUSE), "no trap taken").toBe(0n);
  });
  it("a pending interrupt disabled in mie does not wake it", () => {
    const t = harness();
    t.setCsr(R.CSR_MIE, 0);
    t.load([enc.wfi(), enc.addi(5, 0, 1)]);
    t.run(1);
    t.hart.csr.setHwPending(R.IRQ_M_TIMER, true);
    expect(t.run(10)).toBe(0);
    expect(t.hart.wfi).toBe(true);
  });
  it("wfi with an interrupt already pending and enabled does not wait", () => {
    const t = harness();
    t.setCsr(R.CSR_MIE, R.MIP_MSIP);
    t.hart.csr.setHwPending(R.IRQ_M_SOFT, true);
    t.load([enc.wfi(), enc.addi(5, 0, 1)]);
    t.run(2);
    t.expectReg("wfi fell through", 5, 1n);
  });
  it("with MIE set, the wake-up takes the interrupt with mepc = the instruction after the wfi", () => {
    const t = harness();
    t.setCsr(R.CSR_MIE, R.MIP_MEIP);
    t.setCsr(R.CSR_MSTATUS, R.MSTATUS_MIE);
    t.load([enc.wfi(), enc.addi(5, 0, 1)]);
    t.run(1);
    t.hart.csr.setHwPending(R.IRQ_M_EXT, true);
    t.run(1);
    t.expectCsr("MEI after wfi", "mcause", R.CSR_MCAUSE, INTERRUPT | BigInt(R.IRQ_M_EXT));
    t.expectCsr("MEI after wfi", "mepc", R.CSR_MEPC, CODE_BASE + 4);
  });
});

describe("a write to an interrupt CSR ends the slice only when an interrupt became takeable", () => {
  it("clearing mstatus.MIE with nothing pending keeps the slice going (a kernel's lock path must not be starved)", () => {
    // labos on 2 harts: one hart's push_off/pop_off wrote sstatus for every lock and got a few
    // instructions per round while the other spun through its whole slice: a livelock.
    const t = harness();
    t.setCsr(R.CSR_MIE, R.MIP_MTIP);
    t.load([...new Array<number>(8).fill(enc.csrrci(0, R.CSR_MSTATUS, R.MSTATUS_MIE)), ...new Array<number>(8).fill(NOP)]);
    expect(runSlice(t.hart, 16)).toBe(16);
  });
  it("setting mstatus.MIE with MTIP pending ends the slice right after the write", () => {
    const t = harness();
    t.setCsr(R.CSR_MIE, R.MIP_MTIP);
    t.hart.csr.setHwPending(R.IRQ_M_TIMER, true);
    t.load([enc.csrrsi(0, R.CSR_MSTATUS, R.MSTATUS_MIE), NOP, NOP, NOP]);
    expect(runSlice(t.hart, 4)).toBe(1);
  });
});
