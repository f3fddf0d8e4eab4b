/*
 * The machine's side of external debug, after the RISC-V Debug Spec 1.0:
 * dcsr.ebreakm/s/u make ebreak halt the hart instead of trapping (4.9.1),
 * the halted ebreak does not retire, a step runs exactly one instruction
 * with wfi as a nop (4.5), and a halted board's real clock stands still.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import { REG } from "../../src/isa/regnames.ts";
import { Board } from "../../src/machine/board.ts";
import { RealClock } from "../../src/machine/clock.ts";
import { DEBUG_CAUSE_EBREAK, DEBUG_CAUSE_STEP, DEBUG_NOT_HALTED } from "../../src/machine/dcsr.ts";
import { raiseBreakpointInstead, stepHart } from "../../src/machine/debug.ts";
import { runSlice } from "../../src/machine/hart-loop.ts";
import { DRAM_BASE } from "../../src/machine/memlayout.ts";
import * as R from "../../src/machine/riscv.ts";
import { CODE_BASE, HartHarness } from "../helpers/hart-harness.ts";

const HANDLER = CODE_BASE + 0x100;

/** addi a0, a0, 1; ebreak; addi a0, a0, 1, with mtvec at HANDLER. */
function ebreakProgram(): HartHarness {
  const t = new HartHarness().program([enc.addi(REG.a0, REG.a0, 1), enc.ebreak(), enc.addi(REG.a0, REG.a0, 1)]);
  t.setCsr(R.CSR_MTVEC, HANDLER);
  return t;
}

describe("dcsr.ebreak*: ebreak enters Debug Mode", () => {
  it("with ebreakm set, an M-mode ebreak halts at the ebreak, which does not retire", () => {
    const t = ebreakProgram();
    t.hart.debug.ebreakm = true;
    expect(runSlice(t.hart, 100)).toBe(2);
    expect(t.pc).toBe(CODE_BASE + 4);
    expect(t.hart.debug.cause).toBe(DEBUG_CAUSE_EBREAK);
    expect(t.hart.retired()).toBe(1); // the addi only
    expect(t.hart.counters.traps).toBe(0);
    expect(t.reg(REG.a0)).toBe(1n);
  });

  it("without it (ebreaks and ebreaku do not cover M), the ebreak raises a breakpoint exception", () => {
    const t = ebreakProgram();
    t.hart.debug.ebreaks = t.hart.debug.ebreaku = true;
    runSlice(t.hart, 2);
    expect(t.hart.debug.cause).toBe(DEBUG_NOT_HALTED);
    expect(t.pc).toBe(HANDLER);
    expect(t.csr(R.CSR_MCAUSE)).toBe(BigInt(R.CAUSE_BREAKPOINT));
  });

  it("the debugger can hand a halt on the guest's own ebreak back as the exception it would have been", () => {
    const t = ebreakProgram();
    t.hart.debug.setEbreakAll(true);
    runSlice(t.hart, 100);
    raiseBreakpointInstead(t.hart);
    expect(t.hart.debug.cause).toBe(DEBUG_NOT_HALTED);
    expect(t.pc).toBe(HANDLER);
    expect(t.csr(R.CSR_MEPC)).toBe(BigInt(CODE_BASE + 4));
    expect(t.csr(R.CSR_MTVAL)).toBe(BigInt(CODE_BASE + 4));
  });
});

describe("dcsr.step", () => {
  function board(program: number[]): Board {
    const b = new Board({ harts: 1, memSize: 2 ** 22, clock: "icount", output: () => {} });
    const bytes = new Uint8Array(program.length * 4);
    program.forEach((w, i) => new DataView(bytes.buffer).setUint32(4 * i, w, true));
    b.boot({ kernel: bytes });
    return b;
  }

  it("runs exactly one instruction, then halts with cause step", () => {
    const b = board([enc.addi(REG.a2, 0, 5), enc.addi(REG.a2, REG.a2, 1), enc.jal(0, -4)]);
    const h = b.harts[0];
    for (let i = 1; i <= 5; i++) {
      stepHart(b, h);
      expect(h.retired()).toBe(i);
      expect(h.debug.cause).toBe(DEBUG_CAUSE_STEP);
    }
    expect(h.getReg(REG.a2)).toBe(7); // 5, +1, (jal), +1, (jal)
    expect(h.pc).toBe(DRAM_BASE + 4);
  });

  it("treats wfi as a nop: the step goes on past it", () => {
    const b = board([enc.wfi(), enc.addi(REG.a2, 0, 9)]);
    const h = b.harts[0];
    stepHart(b, h);
    expect(h.wfi).toBe(false);
    expect(h.pc).toBe(DRAM_BASE + 4);
    stepHart(b, h);
    expect(h.getReg(REG.a2)).toBe(9);
  });

  it("serves the finisher after the step: a store to it ends the run", () => {
    const b = board([enc.lui(REG.t0, 0x100), enc.addi(REG.a0, 0, 0x555), enc.slli(REG.a0, REG.a0, 4), enc.addi(REG.a0, REG.a0, 5), enc.sw(REG.a0, REG.t0, 0)]);
    const h = b.harts[0];
    for (let i = 0; i < 5; i++) stepHart(b, h);
    expect(b.exit).toEqual({ kind: "finisher", code: 0 });
  });
});

describe("a halted board's clock", () => {
  it("stands still between pause and resume, and goes on from where it stood", async () => {
    const clock = new RealClock();
    await new Promise((r) => setTimeout(r, 5));
    clock.pause();
    const paused = clock.mtime();
    await new Promise((r) => setTimeout(r, 20));
    expect(clock.mtime()).toBe(paused);
    clock.resume();
    // 20 ms of pause are not counted: the clock is within a few ms of where it stood (mtime ticks at 10 MHz).
    expect(clock.mtime() - paused).toBeLessThan(15 * 10_000);
    expect(clock.mtime()).toBeGreaterThanOrEqual(paused);
  });
});
