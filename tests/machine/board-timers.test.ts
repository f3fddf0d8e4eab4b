/*
 * Timers seen by a guest that polls the time: once it reads mtime (the
 * CLINT register, or the time CSR) at or past a deadline, the timer
 * interrupt arrives before its next instruction, in the interpreter and in
 * compiled blocks alike, however long the slice. Between slices the runner
 * re-evaluates timers anyway; these tests run one huge slice, so only the
 * read itself can bring the interrupt in. (A polling loop is MMIO-bound:
 * a slice of it lasts far longer than a guest's timeout, which is how
 * selftest's interrupt group used to fail on a loaded machine.)
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import { Board } from "../../src/machine/board.ts";
import { runSlice } from "../../src/machine/hart-loop.ts";
import { CLINT_BASE, DRAM_BASE } from "../../src/machine/memlayout.ts";
import * as R from "../../src/machine/riscv.ts";
import { TEST_HOT_THRESHOLD } from "../helpers/hart-harness.ts";

const MTIME = CLINT_BASE + 0xbff8;
const MTIMECMP0 = 0x4000;
const HANDLER = DRAM_BASE + 0x800;
/** 100 µs at 10 MHz: the deadline is in the near future when the loop starts. */
const DELAY_TICKS = 1000;
/** Far more instructions than the loop runs before the deadline: without the fix the slice runs them all. */
const HUGE_SLICE = 5_000_000;
const T0 = 5, T1 = 6;

const INTERRUPT = 1n << 63n;

function board(jit?: boolean): Board {
  // The block tier's tests' low compile threshold (tests/helpers/hart-harness.ts): hot code is compiled within a few dozen passes.
  return new Board({ harts: 1, memSize: 16 * 2 ** 20, clock: "real", output: () => {}, jit, hotThreshold: TEST_HOT_THRESHOLD });
}

function mcause(b: Board): bigint {
  const c = b.harts[0].csr;
  c.read(R.CSR_MCAUSE);
  return (BigInt(c.rhi >>> 0) << 32n) | BigInt(c.rlo >>> 0);
}

function place(b: Board, at: number, words: number[]): void {
  const off = at - DRAM_BASE;
  for (let i = 0; i < words.length; i++) b.mem.i32[(off >>> 2) + i] = words[i];
}

/** t0 = MTIME; loop: ld t1, 0(t0); j loop. */
const POLL_MTIME = [enc.lui(T0, (MTIME + 0x800) >>> 12), enc.addi(T0, T0, (MTIME << 20) >> 20), enc.ld(T1, T0, 0), enc.jal(0, -4)];
/** loop: csrr t1, time; j loop. */
const POLL_TIME_CSR = [enc.csrrs(T1, R.CSR_TIME, 0), enc.jal(0, -4)];

function setup(program: number[], jit: boolean): Board {
  const b = board(jit);
  const h = b.harts[0];
  expect(h.jit, "the board's configuration sets the tier").toBe(jit);
  place(b, DRAM_BASE, program);
  place(b, HANDLER, [enc.jal(0, 0)]);
  h.pc = DRAM_BASE;
  h.csr.write(R.CSR_MTVEC, HANDLER, 0);
  h.csr.write(R.CSR_MCOUNTEREN, R.COUNTEREN_TM, 0);
  return b;
}

function armMtimer(b: Board): void {
  const at = b.clint.mtime() + DELAY_TICKS;
  b.clint.write(MTIMECMP0 + 4, 4, Math.floor(at / 2 ** 32));
  b.clint.write(MTIMECMP0, 4, at >>> 0);
  const h = b.harts[0];
  h.csr.write(R.CSR_MIE, R.MIP_MTIP, 0);
  h.csr.write(R.CSR_MSTATUS, R.MSTATUS_MIE, 0);
}

/** Runs one huge slice and then takes the interrupt as the runner does; returns the slice's length. */
function sliceThenInterrupt(b: Board): number {
  const h = b.harts[0];
  const n = runSlice(h, HUGE_SLICE);
  h.takeInterrupt();
  return n;
}

describe("a guest polling the time takes the timer interrupt at once", () => {
  for (const jit of [false, true]) {
    const tier = jit ? "compiled blocks" : "the interpreter";
    it(`mtimecmp, polled through the CLINT's mtime register (${tier})`, () => {
      const b = setup(POLL_MTIME, jit);
      armMtimer(b);
      const n = sliceThenInterrupt(b);
      expect(n).toBeLessThan(HUGE_SLICE);
      const h = b.harts[0];
      expect(h.pc).toBe(HANDLER);
      expect(mcause(b)).toBe(INTERRUPT | BigInt(R.IRQ_M_TIMER));
      // The load that saw the deadline passed retired; the interrupt came right after it.
      expect(h.x[2 * T1 + 1] * 2 ** 32 + (h.x[2 * T1] >>> 0)).toBeGreaterThanOrEqual(b.clint.mtimecmp(0));
    });

    it(`mtimecmp, polled through the time CSR (${tier})`, () => {
      const b = setup(POLL_TIME_CSR, jit);
      armMtimer(b);
      const n = sliceThenInterrupt(b);
      expect(n).toBeLessThan(HUGE_SLICE);
      expect(b.harts[0].pc).toBe(HANDLER);
      expect(mcause(b)).toBe(INTERRUPT | BigInt(R.IRQ_M_TIMER));
    });

    it(`Sstc's stimecmp, polled in S through the time CSR (${tier})`, () => {
      const b = setup(POLL_TIME_CSR, jit);
      const h = b.harts[0];
      b.clint.write(MTIMECMP0, 4, 0xffff_ffff);
      b.clint.write(MTIMECMP0 + 4, 4, 0xffff_ffff);
      h.csr.write(R.CSR_MENVCFG, 0, R.MENVCFG_HI_STCE);
      h.csr.write(R.CSR_MIE, R.MIP_STIP, 0);
      const at = b.clint.mtime() + DELAY_TICKS;
      h.csr.write(R.CSR_STIMECMP, at >>> 0, Math.floor(at / 2 ** 32));
      h.csr.priv = R.PRV_S;
      h.translationChanged();
      // STIP not delegated: taken in M, whatever sstatus.SIE says.
      const n = sliceThenInterrupt(b);
      expect(n).toBeLessThan(HUGE_SLICE);
      expect(h.pc).toBe(HANDLER);
      expect(mcause(b)).toBe(INTERRUPT | BigInt(R.IRQ_S_TIMER));
    });
  }
});
