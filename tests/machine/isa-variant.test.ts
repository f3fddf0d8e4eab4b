/*
 * --isa-variant nonvirt (src/machine/isa-variant.ts): in U-mode the register
 * forms of sstatus/mstatus access read the real register and drop their
 * write without trapping (pushf/popf); the immediate forms, other CSRs and
 * other modes behave as standard RISC-V. The block tier and the interpreter
 * must agree on it.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import { isNonvirtSensitive } from "../../src/machine/isa-variant.ts";
import * as R from "../../src/machine/riscv.ts";
import { CODE_BASE, HartHarness } from "../helpers/hart-harness.ts";

const RD = 5, RS = 6;
const TRAP = CODE_BASE + 0x800;
/** The real status the tests give the hart before dropping to U: interrupts on, came from S. */
const REAL_MSTATUS = BigInt(R.MSTATUS_SIE | R.MSTATUS_MIE | R.MSTATUS_SPP | R.MSTATUS_MPIE);

function runAt(variant: "standard" | "nonvirt", priv: number, insn: number, regs: Record<number, bigint> = {}): HartHarness {
  const t = new HartHarness({ isaVariant: variant });
  t.setCsr(R.CSR_MTVEC, TRAP);
  t.setCsr(R.CSR_MSTATUS, REAL_MSTATUS);
  t.load([insn]);
  t.setRegs({ [RD]: 0x5a5an, ...regs });
  t.setPriv(priv);
  t.run(1);
  return t;
}

function expectIllegal(t: HartHarness, what: string, insn: number): void {
  t.expectMTrap(what, R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE, insn);
  t.expectReg(`${what}: rd unchanged`, RD, 0x5a5an);
}

function expectNoTrap(t: HartHarness, what: string): void {
  t.expectPc(what, CODE_BASE + 4);
  expect(t.priv, `${what}: still in U`).toBe(R.PRV_U);
}

describe("the standard ISA satisfies Popek and Goldberg", () => {
  it("csrr mstatus and csrw sstatus in U are illegal", () => {
    const read = enc.csrrs(RD, R.CSR_MSTATUS, 0);
    expectIllegal(runAt("standard", R.PRV_U, read), "csrr mstatus in U", read);
    const write = enc.csrrw(RD, R.CSR_SSTATUS, RS);
    expectIllegal(runAt("standard", R.PRV_U, write), "csrw sstatus in U", write);
  });
});

describe("nonvirt: sensitive but unprivileged in U-mode", () => {
  it("csrr mstatus in U returns the real mstatus (MIE, MPP) without trapping, like pushf/smsw", () => {
    const t = runAt("nonvirt", R.PRV_U, enc.csrrs(RD, R.CSR_MSTATUS, 0));
    expectNoTrap(t, "csrr mstatus");
    t.expectReg("csrr mstatus", RD, t.csr(R.CSR_MSTATUS));
    expect(t.reg(RD) & BigInt(R.MSTATUS_MIE)).toBe(BigInt(R.MSTATUS_MIE));
  });
  it("csrr sstatus in U returns the real SIE and SPP", () => {
    const t = runAt("nonvirt", R.PRV_U, enc.csrrs(RD, R.CSR_SSTATUS, 0));
    expectNoTrap(t, "csrr sstatus");
    t.expectReg("csrr sstatus", RD, (2n << 32n) | BigInt(R.MSTATUS_SIE | R.MSTATUS_SPP));
  });
  it("csrw mstatus in U is silently dropped, like popf's IF: no trap, mstatus unchanged, rd gets the old value", () => {
    const t = runAt("nonvirt", R.PRV_U, enc.csrrw(RD, R.CSR_MSTATUS, RS), { [RS]: 0n });
    expectNoTrap(t, "csrw mstatus");
    t.expectCsr("csrw mstatus dropped", "mstatus", R.CSR_MSTATUS, t.csr(R.CSR_MSTATUS));
    expect(t.csr(R.CSR_MSTATUS) & 0xffffffffn).toBe(REAL_MSTATUS);
    expect(t.reg(RD) & 0xffffffffn).toBe(REAL_MSTATUS);
  });
  it("csrc sstatus, rs (clearing SIE) and csrs sstatus, rs (setting SPP) in U change nothing", () => {
    const clear = runAt("nonvirt", R.PRV_U, enc.csrrc(0, R.CSR_SSTATUS, RS), { [RS]: BigInt(R.MSTATUS_SIE) });
    expectNoTrap(clear, "csrc sstatus");
    expect(clear.csr(R.CSR_MSTATUS) & 0xffffffffn).toBe(REAL_MSTATUS);
    const set = runAt("nonvirt", R.PRV_U, enc.csrrs(0, R.CSR_SSTATUS, RS), { [RS]: BigInt(R.MSTATUS_SUM) });
    expectNoTrap(set, "csrs sstatus");
    expect(set.csr(R.CSR_MSTATUS) & 0xffffffffn).toBe(REAL_MSTATUS);
  });
  it("the immediate forms still trap, as cli/sti did", () => {
    for (const insn of [enc.csrrci(RD, R.CSR_SSTATUS, 2), enc.csrrsi(RD, R.CSR_MSTATUS, 8), enc.csrrwi(RD, R.CSR_MSTATUS, 0)]) {
      expectIllegal(runAt("nonvirt", R.PRV_U, insn), "immediate form in U", insn);
    }
  });
  it("other CSRs and other modes are standard: sie in U, mstatus in S trap", () => {
    const sie = enc.csrrs(RD, R.CSR_SIE, 0);
    expectIllegal(runAt("nonvirt", R.PRV_U, sie), "csrr sie in U", sie);
    const mstatusInS = enc.csrrs(RD, R.CSR_MSTATUS, 0);
    expectIllegal(runAt("nonvirt", R.PRV_S, mstatusInS), "csrr mstatus in S", mstatusInS);
  });
  it("a write to x0's sink reads nothing back into x0", () => {
    const t = runAt("nonvirt", R.PRV_U, enc.csrrs(0, R.CSR_MSTATUS, 0));
    expectNoTrap(t, "csrr x0, mstatus");
    t.expectReg("x0", 0, 0n);
  });
});

describe("the scanner's predicate matches exactly the variant's instructions", () => {
  it("register forms on sstatus/mstatus, any registers; not the immediate forms, not other CSRs", () => {
    expect(isNonvirtSensitive(enc.csrrs(10, R.CSR_MSTATUS, 0))).toBe(true);
    expect(isNonvirtSensitive(enc.csrrw(0, R.CSR_SSTATUS, 31))).toBe(true);
    expect(isNonvirtSensitive(enc.csrrc(1, R.CSR_SSTATUS, 7))).toBe(true);
    expect(isNonvirtSensitive(enc.csrrsi(10, R.CSR_MSTATUS, 8))).toBe(false);
    expect(isNonvirtSensitive(enc.csrrci(0, R.CSR_SSTATUS, 2))).toBe(false);
    expect(isNonvirtSensitive(enc.csrrs(10, R.CSR_SIE, 0))).toBe(false);
    expect(isNonvirtSensitive(enc.csrrs(10, R.CSR_MEPC, 0))).toBe(false);
    expect(isNonvirtSensitive(enc.addi(10, 10, 0x300))).toBe(false);
  });
});

describe("the block tier honours the variant (JIT on/off differential)", () => {
  /**
   * A U-mode loop, run well past the compile threshold: each pass reads
   * mstatus (real: MIE set), tries to clear MIE with csrc, and adds the bit it
   * read to a counter; standard RISC-V would trap on the first pass.
   */
  function loop(jit: boolean): { count: bigint; mstatus: bigint; pc: number; priv: number; compiled: boolean } {
    const t = new HartHarness({ isaVariant: "nonvirt", jit });
    t.setCsr(R.CSR_MTVEC, TRAP);
    t.setCsr(R.CSR_MSTATUS, REAL_MSTATUS);
    t.load([
      enc.addi(7, 0, 200), // x7: passes left
      enc.addi(6, 0, R.MSTATUS_MIE), // x6: the bit to clear
      enc.csrrs(5, R.CSR_MSTATUS, 0), // loop: x5 = mstatus
      enc.csrrc(0, R.CSR_MSTATUS, 6), // clear MIE: dropped
      enc.andi(5, 5, R.MSTATUS_MIE),
      enc.srli(5, 5, 3),
      enc.add(8, 8, 5), // x8 += MIE bit read
      enc.addi(7, 7, -1),
      enc.bne(7, 0, -24),
      enc.jal(0, 0),
    ]);
    t.setPriv(R.PRV_U);
    t.run(2000);
    return { count: t.reg(8), mstatus: t.csr(R.CSR_MSTATUS), pc: t.pc, priv: t.priv, compiled: t.mem.blocks.compiled > 0 };
  }

  it("200 passes read MIE = 1 every time and never clear it, compiled or interpreted", () => {
    const interpreted = loop(false);
    const compiled = loop(true);
    expect(interpreted.count).toBe(200n);
    expect(interpreted.priv).toBe(R.PRV_U);
    expect(compiled.compiled, "the loop ran as a compiled block").toBe(true);
    expect({ ...compiled, compiled: false }).toEqual(interpreted);
  });
});
