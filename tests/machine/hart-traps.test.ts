/*
 * Synchronous traps raised by the hart (priv spec 3.1.8, 3.1.14-3.1.16,
 * 3.3.1-3.3.3, 4.1, table 3.6): what each cause writes into xepc/xcause/xtval,
 * where delegation sends it, xRET stack rules as executed, and the
 * privileged instructions that are illegal in the wrong mode.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import * as R from "../../src/machine/riscv.ts";
import { CODE_BASE, HartHarness } from "../helpers/hart-harness.ts";

const MTRAP = CODE_BASE + 0x800;
const STRAP = CODE_BASE + 0xc00;
/** A 32-bit encoding in a reserved major opcode (inst[6:0] = 0b1110111): illegal on RV64IMAC. */
const RESERVED_32 = 0x1234_5077;
/** All ones: a 32-bit parcel no extension here defines. */
const ALL_ONES_32 = 0xffff_ffff;

function harness(): HartHarness {
  const t = new HartHarness();
  t.setCsr(R.CSR_MTVEC, MTRAP);
  t.setCsr(R.CSR_STVEC, STRAP);
  return t;
}

/** Loads `insns` at CODE_BASE, sets privilege, runs `n` instructions. */
function runAt(priv: number, insns: number[], n = 1, setup?: (t: HartHarness) => void): HartHarness {
  const t = harness();
  setup?.(t);
  t.load(insns);
  t.setPriv(priv);
  t.run(n);
  return t;
}

describe("illegal instruction (priv spec 3.1.16: xtval = the instruction bits)", () => {
  it("a reserved 32-bit opcode", () => {
    runAt(R.PRV_M, [RESERVED_32]).expectMTrap("reserved opcode", R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE, RESERVED_32);
  });
  it("an all-ones 32-bit parcel", () => {
    runAt(R.PRV_M, [ALL_ONES_32]).expectMTrap("0xffffffff", R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE, ALL_ONES_32);
  });
  it("a compressed all-zero parcel: tval is 0, the 16 bits", () => {
    runAt(R.PRV_M, [enc.c_nop(), 0x0000], 2).expectMTrap("c.unimp", R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE + 2, 0);
  });
  it("an illegal instruction after a compressed one has the right epc", () => {
    runAt(R.PRV_M, [enc.c_nop(), RESERVED_32], 2).expectMTrap("after c.nop", R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE + 2, RESERVED_32);
  });
  it("an illegal instruction in U is delegated to S when medeleg[2] is set", () => {
    const t = runAt(R.PRV_U, [RESERVED_32], 1, (h) => h.setCsr(R.CSR_MEDELEG, 1 << R.CAUSE_ILLEGAL_INSTRUCTION));
    t.expectSTrap("illegal in U, delegated", R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE, RESERVED_32);
    t.expectPc("stvec", STRAP);
  });
  it("an illegal CSR access in U is reported with the CSR instruction's bits", () => {
    const insn = enc.csrrw(5, R.CSR_MSTATUS, 6);
    runAt(R.PRV_U, [insn]).expectMTrap("csrw mstatus in U", R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE, insn);
  });
});

describe("environment calls and breakpoints (priv spec 3.3.1)", () => {
  for (const [priv, cause, name] of [[R.PRV_U, R.CAUSE_ECALL_U, "U"], [R.PRV_S, R.CAUSE_ECALL_S, "S"], [R.PRV_M, R.CAUSE_ECALL_M, "M"]] as const) {
    it(`ecall from ${name} raises cause ${cause} with epc = the ecall and tval = 0`, () => {
      const t = runAt(priv, [enc.addi(0, 0, 0), enc.ecall()], 2, (h) => h.setCsr(R.CSR_MTVAL, 0x77));
      t.expectMTrap(`ecall from ${name}`, cause, CODE_BASE + 4, 0);
      t.expectPc(`ecall from ${name}`, MTRAP);
      expect((t.csr(R.CSR_MSTATUS) >> 11n) & 3n, "MPP").toBe(BigInt(priv));
    });
  }
  it("ebreak raises breakpoint with tval = pc", () => {
    runAt(R.PRV_S, [enc.addi(0, 0, 0), enc.ebreak()], 2).expectMTrap("ebreak", R.CAUSE_BREAKPOINT, CODE_BASE + 4, CODE_BASE + 4);
  });
  it("ecall from U delegated by medeleg[8] goes to S; ecall from S with only medeleg[8] goes to M", () => {
    const deleg = (h: HartHarness): void => void h.setCsr(R.CSR_MEDELEG, 1 << R.CAUSE_ECALL_U);
    runAt(R.PRV_U, [enc.ecall()], 1, deleg).expectSTrap("ecall U delegated", R.CAUSE_ECALL_U, CODE_BASE, 0);
    runAt(R.PRV_S, [enc.ecall()], 1, deleg).expectMTrap("ecall S not delegated", R.CAUSE_ECALL_S, CODE_BASE, 0);
  });
  it("a vectored xtvec does not vector exceptions (priv spec 3.1.7)", () => {
    const t = runAt(R.PRV_U, [enc.ecall()], 1, (h) => h.setCsr(R.CSR_MTVEC, MTRAP + R.TVEC_MODE_VECTORED));
    t.expectPc("ecall with vectored mtvec", MTRAP);
  });
  it("ecall in U then mret returns to U after the ecall when the handler adds 4 to mepc", () => {
    const t = harness();
    t.load([enc.ecall(), enc.addi(5, 0, 42)]);
    t.load([enc.csrrs(6, R.CSR_MEPC, 0), enc.addi(6, 6, 4), enc.csrrw(0, R.CSR_MEPC, 6), enc.mret()], MTRAP);
    t.setPriv(R.PRV_U);
    t.run(6);
    t.expectReg("after return", 5, 42n);
    expect(t.priv).toBe(R.PRV_U);
  });
});

describe("fetch faults (priv spec 3.1.16)", () => {
  it("fetching from an address that is not RAM raises fetch access fault with tval = pc", () => {
    const t = harness();
    t.load([enc.jalr(0, 5, 0)]);
    t.setReg(5, 0x3000_0000);
    t.run(2);
    t.expectMTrap("fetch from nothing", R.CAUSE_FETCH_ACCESS, 0x3000_0000, 0x3000_0000);
  });
});

describe("fetch faults at high addresses", () => {
  it("M-mode jumping to an address with bit 63 set raises fetch access fault with tval = the target", () => {
    const t = harness();
    t.load([enc.jalr(0, 5, 0)]);
    t.setReg(5, 0xffff_ffff_8000_0000n);
    t.run(2);
    t.expectMTrap("fetch at 0xffffffff80000000", R.CAUSE_FETCH_ACCESS, -0x8000_0000, 0xffff_ffff_8000_0000n);
    t.expectPc("handler", MTRAP);
  });
});

describe("mret and sret as executed (priv spec 3.3.2)", () => {
  it("mret to S: pc = mepc, MIE = MPIE, MPIE = 1, MPP = U, MPRV cleared", () => {
    const t = runAt(R.PRV_M, [enc.mret()], 1, (h) => {
      h.setCsr(R.CSR_MSTATUS, R.MSTATUS_MPIE | (R.PRV_S << R.MSTATUS_MPP_SHIFT) | R.MSTATUS_MPRV);
      h.setCsr(R.CSR_MEPC, CODE_BASE + 0x40);
    });
    t.expectPc("mret", CODE_BASE + 0x40);
    expect(t.priv).toBe(R.PRV_S);
    const s = Number(t.csr(R.CSR_MSTATUS) & 0xffff_ffffn);
    expect(s & R.MSTATUS_MIE, "MIE").toBe(R.MSTATUS_MIE);
    expect(s & R.MSTATUS_MPIE, "MPIE").toBe(R.MSTATUS_MPIE);
    expect(s & R.MSTATUS_MPP, "MPP").toBe(0);
    expect(s & R.MSTATUS_MPRV, "MPRV").toBe(0);
  });
  it("sret to U: pc = sepc, SIE = SPIE, SPIE = 1, SPP = U", () => {
    const t = runAt(R.PRV_S, [enc.sret()], 1, (h) => {
      h.setCsr(R.CSR_MSTATUS, R.MSTATUS_SPIE);
      h.setCsr(R.CSR_SEPC, CODE_BASE + 0x40);
    });
    t.expectPc("sret", CODE_BASE + 0x40);
    expect(t.priv).toBe(R.PRV_U);
    const s = Number(t.csr(R.CSR_MSTATUS) & 0xffff_ffffn);
    expect(s & (R.MSTATUS_SIE | R.MSTATUS_SPIE | R.MSTATUS_SPP)).toBe(R.MSTATUS_SIE | R.MSTATUS_SPIE);
  });
  it("sret in M is legal (returns per SPP)", () => {
    const t = runAt(R.PRV_M, [enc.sret()], 1, (h) => {
      h.setCsr(R.CSR_MSTATUS, R.MSTATUS_SPP);
      h.setCsr(R.CSR_SEPC, CODE_BASE + 0x40);
    });
    t.expectPc("sret in M", CODE_BASE + 0x40);
    expect(t.priv).toBe(R.PRV_S);
  });
});

describe("privileged instructions in the wrong mode are illegal (priv spec 3.1.6.5, 3.3.2, 3.3.3, 4.2.1)", () => {
  const cases: [string, number, number, ((t: HartHarness) => void)?][] = [
    ["mret in S", enc.mret(), R.PRV_S],
    ["mret in U", enc.mret(), R.PRV_U],
    ["sret in U", enc.sret(), R.PRV_U],
    ["sret in S under TSR", enc.sret(), R.PRV_S, (t) => void t.setCsr(R.CSR_MSTATUS, R.MSTATUS_TSR)],
    ["wfi in U", enc.wfi(), R.PRV_U],
    ["wfi in S under TW", enc.wfi(), R.PRV_S, (t) => void t.setCsr(R.CSR_MSTATUS, R.MSTATUS_TW)],
    ["sfence.vma in U", enc.sfence_vma(), R.PRV_U],
    ["sfence.vma in S under TVM", enc.sfence_vma(5, 6), R.PRV_S, (t) => void t.setCsr(R.CSR_MSTATUS, R.MSTATUS_TVM)],
  ];
  for (const [what, insn, priv, setup] of cases) {
    it(what, () => {
      const t = runAt(priv, [insn], 1, setup);
      t.expectMTrap(what, R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE, insn);
      expect((t.csr(R.CSR_MSTATUS) >> 11n) & 3n, `${what}: MPP`).toBe(BigInt(priv));
    });
  }
  const legal: [string, number, number, ((t: HartHarness) => void)?][] = [
    ["wfi in S without TW", enc.wfi(), R.PRV_S],
    ["wfi in M with TW (TW binds only below M)", enc.wfi(), R.PRV_M, (t) => void t.setCsr(R.CSR_MSTATUS, R.MSTATUS_TW)],
    ["sfence.vma in S without TVM", enc.sfence_vma(), R.PRV_S],
    ["sfence.vma in M with TVM", enc.sfence_vma(), R.PRV_M, (t) => void t.setCsr(R.CSR_MSTATUS, R.MSTATUS_TVM)],
  ];
  for (const [what, insn, priv, setup] of legal) {
    it(`${what} is legal and advances pc`, () => {
      const t = harness();
      setup?.(t);
      t.load([insn, enc.addi(5, 0, 1)]);
      t.setPriv(priv);
      // A wfi with nothing pending waits; make SSIP pending in mie (delegated, SIE clear: not taken) so it falls through.
      t.setCsr(R.CSR_MIDELEG, R.MIP_SSIP);
      t.setCsr(R.CSR_MIE, R.MIP_SSIP);
      t.setCsr(R.CSR_MIP, R.MIP_SSIP);
      t.run(2);
      t.expectReg(what, 5, 1n);
      expect(t.csr(R.CSR_MCAUSE), `${what}: no trap`).toBe(0n);
    });
  }
});

describe("traps from S delegated to S (priv spec 4.1.1)", () => {
  it("a delegated exception in S keeps SPP = S and goes to stvec; sret returns to S", () => {
    const t = harness();
    t.setCsr(R.CSR_MEDELEG, 1 << R.CAUSE_BREAKPOINT);
    t.load([enc.ebreak(), enc.addi(5, 0, 7)]);
    t.load([enc.csrrs(6, R.CSR_SEPC, 0), enc.addi(6, 6, 4), enc.csrrw(0, R.CSR_SEPC, 6), enc.sret()], STRAP);
    t.setPriv(R.PRV_S);
    t.run(1);
    t.expectSTrap("ebreak in S", R.CAUSE_BREAKPOINT, CODE_BASE, CODE_BASE);
    expect(t.csr(R.CSR_MSTATUS) & BigInt(R.MSTATUS_SPP), "SPP").toBe(BigInt(R.MSTATUS_SPP));
    t.run(5);
    t.expectReg("after sret", 5, 7n);
    expect(t.priv).toBe(R.PRV_S);
  });
});
