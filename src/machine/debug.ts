/*
 * Run control for an external debugger (the GDB stub, src/gdb), after the
 * RISC-V Debug Specification 1.0: single-stepping a hart (dcsr.step), and
 * what follows a halt on an ebreak that was not the debugger's. The debug
 * state itself is each hart's dcsr (dcsr.ts); halting and resuming the run
 * is the run loop's (runner.ts, RunDebugger).
 */

import type { Board } from "./board.ts";
import type { Hart } from "./hart.ts";
import { runSlice } from "./hart-loop.ts";
import { DEBUG_CAUSE_STEP, DEBUG_NOT_HALTED } from "./dcsr.ts";
import * as R from "./riscv.ts";

/**
 * The ebreak a hart halted on was not the debugger's (the guest's own, e.g.
 * a test of its breakpoint handler): raise the breakpoint exception that
 * ebreak would have raised with dcsr.ebreak* clear, and let the hart run on.
 */
export function raiseBreakpointInstead(h: Hart): void {
  h.debug.cause = DEBUG_NOT_HALTED;
  h.raise(R.CAUSE_BREAKPOINT, h.pc, h.pc);
}

/**
 * dcsr.step with dcsr.stepie = 0: the hart runs exactly one instruction (or
 * takes the one exception it raises) with interrupts held off, then is
 * halted again with cause step, unless that instruction was an ebreak that
 * halts. wfi is a nop while stepping (Debug spec 4.5), so a hart waiting in
 * wfi steps on. runSlice with a budget of 1 executes exactly one
 * instruction: compiled blocks never overshoot the budget (jit/enter.ts),
 * as lockstep (src/lab/lockstep.ts) relies on too. The devices and the
 * finisher are then served as between two slices.
 */
export function stepHart(board: Board, h: Hart): void {
  h.wfi = false;
  h.debug.cause = DEBUG_NOT_HALTED;
  runSlice(h, 1);
  h.wfi = false;
  if (h.debug.cause === DEBUG_NOT_HALTED) h.debug.cause = DEBUG_CAUSE_STEP;
  board.clint.update();
  board.devices.poll();
  board.pollHtif();
}
