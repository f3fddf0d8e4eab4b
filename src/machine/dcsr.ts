/*
 * A hart's debug state, modelled on the RISC-V Debug Specification 1.0
 * (chapter 4, "RISC-V Debug"): the spec's dcsr, reduced to the fields a
 * run-control debugger (the GDB stub, src/gdb) needs:
 *
 *   dcsr.ebreakm/ebreaks/ebreaku (4.9.1): ebreak in that privilege enters
 *       Debug Mode instead of raising a breakpoint exception;
 *   dcsr.step: run one instruction, then enter Debug Mode (debug.ts stepHart);
 *   dcsr.cause: why the hart entered Debug Mode (0 here: it has not).
 *
 * A hart in Debug Mode is halted: its slice ended with pc at the ebreak (the
 * spec's dpc), and the run loop (runner.ts) stops every hart and waits for
 * the debugger. Nothing here is on the hot path: ebreak is an instruction
 * the interpreter already hands to execRare and blocks never compile, and
 * the run loop looks at `cause` once per slice.
 */

import * as R from "./riscv.ts";

/** dcsr.cause values (Debug spec 4.9.1). 0 is not the spec's: the hart is not in Debug Mode. */
export const DEBUG_NOT_HALTED = 0;
export const DEBUG_CAUSE_EBREAK = 1;
export const DEBUG_CAUSE_HALTREQ = 3;
export const DEBUG_CAUSE_STEP = 4;

/** One hart's dcsr, as far as popek models it. */
export class HartDebug {
  /** dcsr.ebreakm, ebreaks, ebreaku: ebreak in M, S, U enters Debug Mode. */
  ebreakm = false;
  ebreaks = false;
  ebreaku = false;
  /** dcsr.cause while halted; DEBUG_NOT_HALTED while running. */
  cause = DEBUG_NOT_HALTED;

  /** Whether an ebreak executed at privilege `priv` enters Debug Mode. */
  ebreakEnters(priv: number): boolean {
    return priv === R.PRV_M ? this.ebreakm : priv === R.PRV_S ? this.ebreaks : this.ebreaku;
  }

  /** A debugger attaches (true: ebreak in every mode halts) or detaches. */
  setEbreakAll(on: boolean): void {
    this.ebreakm = this.ebreaks = this.ebreaku = on;
  }
}

/** What enterDebugOnEbreak touches of a hart (the Hart; an interface so that hart.ts and this file do not import each other). */
interface EbreakHalter {
  readonly debug: HartDebug;
  instret: number;
  stop: boolean;
}

/**
 * execRare's ebreak when dcsr says it enters Debug Mode: the hart halts with
 * pc at the ebreak, which does not retire (Debug spec 4.1: the instruction
 * is not executed). Returns the pc the slice ends at.
 */
export function enterDebugOnEbreak(h: EbreakHalter, pc: number): number {
  h.debug.cause = DEBUG_CAUSE_EBREAK;
  h.instret -= 1; // runSlice counted the ebreak as executed; it was not
  h.stop = true;
  return pc;
}
