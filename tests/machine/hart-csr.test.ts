/*
 * CSR instructions executed by the hart (Zicsr, unpriv ch. 9; priv spec 2.1,
 * 3.1): privilege and read-only checks raise illegal instruction with the
 * instruction's bits in xtval and leave rd alone; counters and Sstc seen from
 * S and U; writes that change interrupt enables take effect at once.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import * as R from "../../src/machine/riscv.ts";
import { CODE_BASE, HartHarness } from "../helpers/hart-harness.ts";

const RD = 5, RS = 6;
const TRAP = CODE_BASE + 0x800;

function harness(): HartHarness {
  const t = new HartHarness();
  t.setCsr(R.CSR_MTVEC, TRAP);
  return t;
}

/** Runs one CSR instruction at a privilege; returns the harness. */
function runAt(priv: number, insn: number, regs: Record<number, bigint> = {}, setup?: (t: HartHarness) => void): HartHarness {
  const t = harness();
  setup?.(t);
  t.load([insn]);
  t.setRegs({ [RD]: 0x5a5an, ...regs });
  t.setPriv(priv);
  t.run(1);
  return t;
}

function expectIllegal(t: HartHarness, what: string, insn: number): void {
  t.expectMTrap(what, R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE, insn);
  t.expectReg(`${what}: rd unchanged`, RD, 0x5a5an);
  t.expectPc(what, TRAP);
}

describe("CSR access by privilege (priv spec 2.1: bits 9:8)", () => {
  it("reading sstatus from U is illegal; tval holds the instruction", () => {
    const insn = enc.csrrs(RD, R.CSR_SSTATUS, 0);
    expectIllegal(runAt(R.PRV_U, insn), "csrr sstatus in U", insn);
  });
  it("reading mstatus from S is illegal", () => {
    const insn = enc.csrrs(RD, R.CSR_MSTATUS, 0);
    expectIllegal(runAt(R.PRV_S, insn), "csrr mstatus in S", insn);
  });
  it("reading sstatus from S works and shows UXL = 2", () => {
    const t = runAt(R.PRV_S, enc.csrrs(RD, R.CSR_SSTATUS, 0));
    t.expectReg("csrr sstatus in S", RD, 2n << 32n);
    t.expectPc("csrr sstatus", CODE_BASE + 4);
  });
  it("csrr mstatus in M shows SXL = UXL = 2", () => {
    const t = runAt(R.PRV_M, enc.csrrs(RD, R.CSR_MSTATUS, 0));
    t.expectReg("csrr mstatus", RD, 0xan << 32n);
  });
  it("an unimplemented CSR number is illegal in M too", () => {
    const insn = enc.csrrs(RD, 0x7c0, 0);
    expectIllegal(runAt(R.PRV_M, insn), "csrr 0x7c0", insn);
  });
});

describe("read-only CSRs (priv spec 2.1: bits 11:10 = 3)", () => {
  it("csrr (csrrs rd, csr, x0) of mhartid works", () => {
    const t = new HartHarness({ hartId: 5 });
    t.load([enc.csrrs(RD, R.CSR_MHARTID, 0), enc.csrrci(RS, R.CSR_MHARTID, 0)]);
    t.run(2);
    t.expectReg("csrr mhartid", RD, 5n);
    t.expectReg("csrrci mhartid, 0", RS, 5n);
  });
  for (const [what, insn] of [
    ["csrw mhartid, x0 (csrrw always writes)", enc.csrrw(RD, R.CSR_MHARTID, 0)],
    ["csrrs mhartid with rs1 != x0", enc.csrrs(RD, R.CSR_MHARTID, RS)],
    ["csrrsi mhartid, 1", enc.csrrsi(RD, R.CSR_MHARTID, 1)],
    ["csrw cycle", enc.csrrw(0, R.CSR_CYCLE, RS)],
    ["csrw mvendorid", enc.csrrw(RD, R.CSR_MVENDORID, RS)],
  ] as const) {
    it(`${what} is illegal`, () => {
      expectIllegal(runAt(R.PRV_M, insn), what, insn);
    });
  }
});

describe("CSR instruction semantics (unpriv 9.1)", () => {
  it("csrrw swaps, csrrs sets, csrrc clears, immediate forms use uimm", () => {
    const t = harness();
    t.load([
      enc.csrrw(RD, R.CSR_MSCRATCH, RS), // old 0
      enc.csrrsi(7, R.CSR_MSCRATCH, 0x11),
      enc.csrrc(8, R.CSR_MSCRATCH, RS),
      enc.csrrwi(9, R.CSR_MSCRATCH, 31),
      enc.csrrs(10, R.CSR_MSCRATCH, 0),
    ]);
    t.setReg(RS, 0xffff_0000_0000_0f00n);
    t.run(5);
    t.expectReg("csrrw old", RD, 0n);
    t.expectReg("csrrsi old", 7, 0xffff_0000_0000_0f00n);
    t.expectReg("csrrc old", 8, 0xffff_0000_0000_0f11n);
    t.expectReg("csrrwi old", 9, 0x11n);
    t.expectReg("csrr after csrrwi", 10, 31n);
  });
  it("csrrw rd = rs1 reads the old value and writes the old register value", () => {
    const t = harness();
    t.setCsr(R.CSR_MSCRATCH, 7);
    t.load([enc.csrrw(RS, R.CSR_MSCRATCH, RS)]);
    t.setReg(RS, 9);
    t.run(1);
    t.expectReg("csrrw x6, mscratch, x6", RS, 7n);
    expect(t.csr(R.CSR_MSCRATCH)).toBe(9n);
  });
  it("WARL through instructions: mepc bit 0 and mtvec MODE 2", () => {
    const t = harness();
    t.load([enc.csrrw(0, R.CSR_MEPC, RS), enc.csrrs(RD, R.CSR_MEPC, 0), enc.csrrwi(0, R.CSR_MTVEC, 2), enc.csrrs(7, R.CSR_MTVEC, 0)]);
    t.setReg(RS, 0x8000_0011n);
    t.run(4);
    t.expectReg("mepc bit 0", RD, 0x8000_0010n);
    t.expectReg("mtvec MODE 2 ignored", 7, BigInt(TRAP));
  });
});

describe("satp and TVM (priv spec 3.1.6.5)", () => {
  it("csrw satp from S with TVM set is illegal", () => {
    const insn = enc.csrrw(RD, R.CSR_SATP, RS);
    const t = runAt(R.PRV_S, insn, { [RS]: 0n }, (h) => h.setCsr(R.CSR_MSTATUS, R.MSTATUS_TVM));
    expectIllegal(t, "csrw satp under TVM", insn);
  });
  it("csrr satp from S without TVM works; from M with TVM works", () => {
    const t = runAt(R.PRV_S, enc.csrrs(RD, R.CSR_SATP, 0));
    t.expectReg("csrr satp", RD, 0n);
    const m = runAt(R.PRV_M, enc.csrrs(RD, R.CSR_SATP, 0), {}, (h) => h.setCsr(R.CSR_MSTATUS, R.MSTATUS_TVM));
    m.expectPc("csrr satp in M under TVM", CODE_BASE + 4);
  });
  it("a satp write with an unsupported MODE leaves satp unchanged", () => {
    const t = harness();
    t.load([enc.csrrw(0, R.CSR_SATP, RS), enc.csrrs(RD, R.CSR_SATP, 0)]);
    t.setReg(RS, (9n << 60n) | 0x80000n);
    t.run(2);
    t.expectReg("satp after Sv48 write", RD, 0n);
  });
});

describe("counters from S and U (priv spec 3.1.11, 4.1.5)", () => {
  const rdcycle = enc.csrrs(RD, R.CSR_CYCLE, 0);
  const rdtime = enc.csrrs(RD, R.CSR_TIME, 0);
  const rdinstret = enc.csrrs(RD, R.CSR_INSTRET, 0);
  for (const [name, insn, bit] of [["cycle", rdcycle, R.COUNTEREN_CY], ["time", rdtime, R.COUNTEREN_TM], ["instret", rdinstret, R.COUNTEREN_IR]] as const) {
    it(`${name}: S needs mcounteren; U needs mcounteren and scounteren`, () => {
      expectIllegal(runAt(R.PRV_S, insn), `${name} in S, mcounteren=0`, insn);
      runAt(R.PRV_S, insn, {}, (h) => h.setCsr(R.CSR_MCOUNTEREN, bit)).expectPc(`${name} in S`, CODE_BASE + 4);
      expectIllegal(runAt(R.PRV_U, insn, {}, (h) => h.setCsr(R.CSR_MCOUNTEREN, bit)), `${name} in U, scounteren=0`, insn);
      expectIllegal(runAt(R.PRV_U, insn, {}, (h) => h.setCsr(R.CSR_SCOUNTEREN, bit)), `${name} in U, mcounteren=0`, insn);
      runAt(R.PRV_U, insn, {}, (h) => {
        h.setCsr(R.CSR_MCOUNTEREN, bit);
        h.setCsr(R.CSR_SCOUNTEREN, bit);
      }).expectPc(`${name} in U`, CODE_BASE + 4);
    });
  }
  it("rdtime reads mtime", () => {
    const t = harness();
    t.now = 0x1_2345_6789;
    t.load([rdtime]);
    t.run(1);
    t.expectReg("rdtime", RD, 0x1_2345_6789n);
  });
  it("rdinstret/rdcycle advance by the instructions executed in between", () => {
    const t = harness();
    t.load([rdinstret, enc.addi(0, 0, 0), enc.addi(0, 0, 0), enc.addi(0, 0, 0), enc.csrrs(RS, R.CSR_INSTRET, 0),
      enc.csrrs(7, R.CSR_CYCLE, 0), enc.addi(0, 0, 0), enc.csrrs(8, R.CSR_CYCLE, 0)]);
    t.run(8);
    expect(t.reg(RS) - t.reg(RD), "instret delta over 4 instructions").toBe(4n);
    expect(t.reg(8) - t.reg(7), "cycle delta over 2 instructions").toBe(2n);
  });
  it("minstret written by csrw counts on from the written value", () => {
    const t = harness();
    t.load([enc.csrrw(0, R.CSR_MINSTRET, RS), enc.addi(0, 0, 0), enc.csrrs(RD, R.CSR_MINSTRET, 0)]);
    t.setReg(RS, 1000);
    t.run(3);
    const v = t.reg(RD);
    expect(v >= 1001n && v <= 1003n, `minstret after write: ${v}`).toBe(true);
  });
});

describe("Sstc through instructions (Sstc spec 2.1)", () => {
  const wr = enc.csrrw(0, R.CSR_STIMECMP, RS);
  it("stimecmp from S is illegal without mcounteren.TM or without menvcfg.STCE", () => {
    expectIllegal(runAt(R.PRV_S, wr, {}, (h) => h.setCsr(R.CSR_MENVCFG, 1n << 63n)), "stimecmp, TM=0", wr);
    expectIllegal(runAt(R.PRV_S, wr, {}, (h) => h.setCsr(R.CSR_MCOUNTEREN, R.COUNTEREN_TM)), "stimecmp, STCE=0", wr);
  });
  it("with TM and STCE, S writes stimecmp and STIP follows time >= stimecmp", () => {
    const t = harness();
    t.setCsr(R.CSR_MENVCFG, 1n << 63n);
    t.setCsr(R.CSR_MCOUNTEREN, R.COUNTEREN_TM);
    t.now = 100;
    t.load([wr, enc.csrrs(RD, R.CSR_SIP, 0), enc.csrrs(7, R.CSR_SIP, 0)]);
    t.setCsr(R.CSR_MIDELEG, R.MIP_STIP);
    t.setReg(RS, 150);
    t.setPriv(R.PRV_S);
    t.run(2);
    t.expectReg("sip before stimecmp is reached", RD, 0n);
    t.now = 150;
    t.run(1);
    t.expectReg("sip when time = stimecmp", 7, BigInt(R.MIP_STIP));
  });
});

describe("interrupt-enable writes take effect before the next instruction", () => {
  it("csrsi mstatus.MIE with a pending enabled MTIP traps with mepc = the next instruction", () => {
    const t = harness();
    t.setCsr(R.CSR_MIE, R.MIP_MTIP);
    t.hart.csr.setHwPending(R.IRQ_M_TIMER, true);
    t.load([enc.csrrsi(0, R.CSR_MSTATUS, R.MSTATUS_MIE), enc.addi(RD, 0, 1)]);
    t.load([enc.addi(0, 0, 0)], TRAP); // the handler's first instruction
    t.run(2);
    t.expectCsr("interrupt after csrsi", "mcause", R.CSR_MCAUSE, (1n << 63n) | BigInt(R.IRQ_M_TIMER));
    t.expectCsr("interrupt after csrsi", "mepc", R.CSR_MEPC, CODE_BASE + 4);
    t.expectReg("addi not executed before the interrupt", RD, 0n);
    t.expectPc("interrupt after csrsi", TRAP + 4);
  });
});
