/*
 * The hart's host trap interface (HostTrapHandler in src/machine/hart.ts):
 * with a handler installed, an exception goes to the host instead of the
 * hart's own trap vector, and a CSR instruction the privilege forbids is
 * first offered to the host's csrAccess. This is the machine facility a
 * deprivileging hypervisor is built on; the machine itself knows nothing of
 * what the host does with it. Each behaviour is checked with the block tier
 * on and off, over loops hot enough to be compiled.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import { OP } from "../../src/isa/ops.ts";
import { decodeInto } from "../../src/isa/decode.ts";
import type { Hart, HostTrapHandler } from "../../src/machine/hart.ts";
import * as R from "../../src/machine/riscv.ts";
import { runSlice } from "../../src/machine/hart-loop.ts";
import { pairToNumber } from "../../src/machine/u64.ts";
import { CODE_BASE, HartHarness, TEST_HOT_THRESHOLD } from "../helpers/hart-harness.ts";

interface Offered {
  readonly op: number;
  readonly rd: number;
  readonly csr: number;
  readonly pc: number;
}

/** A host that records what it is offered; emulates csrAccess as a read of 42 into rd when `emulate` says so. */
class RecordingHost implements HostTrapHandler {
  readonly traps: { cause: number; tval: number; pc: number }[] = [];
  /** The predecoded words trap() was given, per trap. */
  readonly decoded: { w0: number; imm: number }[] = [];
  readonly offered: Offered[] = [];
  constructor(
    private readonly emulate: (csr: number) => boolean,
    private readonly onTrap: (h: Hart, cause: number, pc: number) => boolean = (h, _c, pc) => {
      h.pc = pc + 4;
      return true;
    },
  ) {}
  trap(h: Hart, cause: number, tvalLo: number, tvalHi: number, pcLo: number, pcHi: number, w0: number, imm: number): boolean {
    const tval = pairToNumber(tvalLo, tvalHi);
    const pc = pairToNumber(pcLo, pcHi);
    this.traps.push({ cause, tval, pc });
    this.decoded.push({ w0, imm });
    return this.onTrap(h, cause, pc);
  }
  csrAccess(h: Hart, w0: number, imm: number, pc: number): number {
    const csr = imm & 0xfff;
    const rd = (w0 >>> 8) & 0xff;
    this.offered.push({ op: w0 & 0x7f, rd: rd >>> 1, csr, pc });
    if (!this.emulate(csr)) return -1;
    h.x[rd] = 42;
    h.x[rd + 1] = 0;
    return pc + ((w0 & 0x80) !== 0 ? 2 : 4);
  }
}

function userHart(jit: boolean, host: HostTrapHandler, program: readonly number[]): HartHarness {
  const t = new HartHarness();
  t.hart.jit = jit;
  t.program(program);
  t.setPriv(R.PRV_U);
  t.hart.hostTraps = host;
  return t;
}

const COUNT = 8, LIMIT = 9;
const words = new Int32Array(2);

describe.each([true, false])("host traps (block tier %s)", (jit) => {
  it("a privileged CSR access is offered to csrAccess, decoded, and runs on at the pc it returns", () => {
    const host = new RecordingHost(() => true);
    const iterations = 3 * TEST_HOT_THRESHOLD;
    const t = userHart(jit, host, [enc.addi(COUNT, COUNT, 1), enc.csrrs(10, R.CSR_SSCRATCH, 0), enc.bne(COUNT, LIMIT, -8), enc.jal(0, 0)]);
    t.setRegs({ [LIMIT]: iterations });
    t.run(3 * iterations);
    expect(host.offered.length).toBe(iterations);
    expect(host.offered[0]).toEqual({ op: OP.csrrs, rd: 10, csr: R.CSR_SSCRATCH, pc: CODE_BASE + 4 });
    expect(host.traps, "nothing reached trap()").toEqual([]);
    t.expectReg("the host's value", 10, 42n);
    t.expectReg("every iteration ran", COUNT, BigInt(iterations));
    expect(t.hart.instret).toBe(3 * iterations);
  });

  it("a declined access (-1) becomes an illegal-instruction trap with the instruction in tval", () => {
    const host = new RecordingHost(() => false);
    const insn = enc.csrrw(0, R.CSR_MSTATUS, 5);
    const t = userHart(jit, host, [enc.addi(COUNT, COUNT, 1), insn, enc.bne(COUNT, LIMIT, -8), enc.jal(0, 0)]);
    t.setRegs({ [LIMIT]: 2 * TEST_HOT_THRESHOLD });
    t.run(6 * TEST_HOT_THRESHOLD);
    expect(host.traps.length).toBe(2 * TEST_HOT_THRESHOLD);
    expect(host.traps[0]).toEqual({ cause: R.CAUSE_ILLEGAL_INSTRUCTION, tval: insn, pc: CODE_BASE + 4 });
    expect(host.decoded[0].w0 & 0x7f, "the predecoded instruction is passed to the host").toBe(OP.csrrw);
    expect(host.decoded[0].imm & 0xfff).toBe(R.CSR_MSTATUS);
    expect(t.csr(R.CSR_MSTATUS) & BigInt(R.MSTATUS_MPP), "the hart's own mstatus is untouched").toBe(0n);
  });

  it("an access the host performed at an upper-half pc (negative here: a paging kernel's) is not trapped as well", () => {
    const host = new RecordingHost(() => true);
    const t = userHart(jit, host, [enc.jal(0, 0)]);
    const kernelPc = -0x7f57edc0; // 0xffffffff80a81240
    decodeInto(enc.csrrs(10, R.CSR_SSCRATCH, 0), words, 0);
    expect(t.hart.csrInstruction(1, false, words[0], words[1], kernelPc, 4)).toBe(kernelPc + 4);
    expect(host.traps, "performed once, by the host").toEqual([]);
  });

  it("a CSR the privilege allows is executed by the hart, never offered", () => {
    const host = new RecordingHost(() => true);
    const t = userHart(jit, host, [enc.addi(COUNT, COUNT, 1), enc.csrrs(10, R.CSR_MSCRATCH, 0), enc.bne(COUNT, LIMIT, -8), enc.jal(0, 0)]);
    t.setPriv(R.PRV_M);
    t.setCsr(R.CSR_MSCRATCH, 7);
    t.setRegs({ [LIMIT]: 2 * TEST_HOT_THRESHOLD });
    t.run(6 * TEST_HOT_THRESHOLD);
    expect(host.offered).toEqual([]);
    t.expectReg("mscratch", 10, 7n);
  });

  it("an exception goes to trap() instead of the hart's vector; false ends the slice at hart.pc", () => {
    const host = new RecordingHost(() => true, (h, _cause, pc) => {
      h.pc = pc + 4;
      return false;
    });
    const t = userHart(jit, host, [enc.addi(COUNT, COUNT, 1), enc.ecall(), enc.bne(COUNT, LIMIT, -8), enc.jal(0, 0)]);
    t.setRegs({ [LIMIT]: 100 });
    const h = t.hart;
    expect(runSlice(h, 1000), "the slice ended at the ecall").toBe(2);
    expect(host.traps).toEqual([{ cause: R.CAUSE_ECALL_U, tval: 0, pc: CODE_BASE + 4 }]);
    expect(host.decoded, "only an illegal instruction comes with its predecoded words").toEqual([{ w0: 0, imm: 0 }]);
    expect(h.pc, "the slice ended where the host left the hart").toBe(CODE_BASE + 8);
    expect(t.csr(R.CSR_MCAUSE), "the hart's own trap CSRs are untouched").toBe(0n);
  });
});
