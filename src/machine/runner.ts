/*
 * Runs a board: slices of instructions per hart, interleaved in one thread
 * (the native baseline), with devices, timers and the host's event loop
 * served between slices. When every hart waits in wfi, the runner sleeps
 * until the next timer deadline (real clock) or jumps to it (icount clock).
 */

import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { Board } from "./board.ts";
import { InstructionClock } from "./clock.ts";
import type { Hart } from "./hart.ts";
import { runSlice } from "./hart-loop.ts";
import * as R from "./riscv.ts";
import { TICKS_PER_MS } from "./memlayout.ts";
import { WARM_AFTER, holdTierUp, releaseTierUp } from "./tier-up.ts";
import { DEBUG_NOT_HALTED } from "./dcsr.ts";

export interface RunOptions {
  /** Wall-clock limit in seconds; 0 or undefined: none. */
  readonly timeoutSeconds?: number;
  /** Instructions per hart per slice; default depends on the hart count. */
  readonly slice?: number;
  /** Polled between slices: true stops the run (e.g. Ctrl-A x on the console). */
  readonly interrupted?: () => boolean;
  /** An attached debugger (the GDB stub, src/gdb): it halts the harts and resumes them. */
  readonly debugger?: RunDebugger;
}

/**
 * The run loop's side of an external debugger (Debug spec: the debug
 * module's haltreq and resumereq). Between slices the loop waits for the
 * debugger when it asks or when a hart has just entered Debug Mode
 * (dcsr.ts); while it waits the harts are the debugger's to inspect and
 * step. A hart the debugger leaves in Debug Mode when it resumes the run
 * does not run (GDB's `vCont;c:1` continues one thread only).
 */
export interface RunDebugger {
  /** Polled between slices: true halts every hart (gdb's Ctrl-C, a debugger connecting, -S). */
  haltRequested(): boolean;
  /** Every hart is halted; resolves when the debugger resumes them ("run") or ends the run ("kill"). */
  halted(): Promise<"run" | "kill">;
}

type RunOutcome = "finisher" | "htif" | "timeout" | "interrupted" | "killed";

export interface RunResult {
  readonly outcome: RunOutcome;
  /** The process exit status a QEMU user would expect: the guest's, or 124 on timeout. */
  readonly exitCode: number;
  readonly instructions: number;
  readonly seconds: number;
}

/** How long the host keeps the event loop waiting at most, in ms (input and signals stay responsive). */
const YIELD_EVERY_MS = 20;
/** Instructions per hart per slice while device I/O is in flight: a guest polling for a completion sees it within ~0.1 ms. */
const IO_SLICE = 5_000;
const MAX_SLEEP_MS = 20;
/**
 * Instructions per hart per slice with two or more harts. Each slice costs
 * a few microseconds outside the guest (re-entering runSlice and the wasm
 * dispatcher, polling the devices and timers), so slices of 5,000 (before)
 * made Debian's Linux boot with two harts take ~10% more wall time and
 * CPU than with 20,000 for the same instructions (~290k slices against
 * ~90k). 20,000, 50,000 and 100,000 measured the same; the smallest keeps
 * a hart spinning on one that is not running (a lock holder, an IPI's
 * target) from wasting more of its slice.
 */
const MULTI_HART_SLICE = 20_000;
/** Instructions per slice for a hart that runs alone: one hart, or the only one not waiting in wfi. */
const SOLO_SLICE = 100_000;

export async function runBoard(board: Board, opts: RunOptions = {}): Promise<RunResult> {
  // Until the run proves long, V8 leaves runSlice in its baseline tiers (tier-up.ts).
  holdTierUp();
  try {
    return await runSlices(board, opts);
  } finally {
    releaseTierUp();
  }
}

async function runSlices(board: Board, opts: RunOptions): Promise<RunResult> {
  const harts = board.harts;
  const slice = opts.slice ?? (harts.length === 1 ? SOLO_SLICE : MULTI_HART_SLICE);
  // While every other hart waits in wfi with nothing to wake it, nobody can spin on this one: it may run as long as a
  // lone hart. An IPI it sends (a store to the CLINT, or an ecall to firmware that makes one) ends its slice at once.
  const soloSlice = opts.slice ?? SOLO_SLICE;
  const start = performance.now();
  let deadline = opts.timeoutSeconds ? start + opts.timeoutSeconds * 1000 : Infinity;
  let lastYield = start;
  let warm = false;
  /** A hart entered Debug Mode in the last round (an ebreak the debugger asked for). */
  let debugEvent = false;
  const result = (outcome: RunOutcome, exitCode: number): RunResult => ({
    outcome,
    exitCode,
    instructions: board.retired(),
    seconds: (performance.now() - start) / 1000,
  });

  for (;;) {
    if (opts.debugger !== undefined && (debugEvent || opts.debugger.haltRequested())) {
      debugEvent = false;
      // The guest's time stands still while it is halted, as QEMU's virtual clock does, and so does --timeout.
      const stoppedAt = performance.now();
      board.clock.pause();
      const next = await opts.debugger.halted();
      board.clock.resume();
      const stopped = performance.now() - stoppedAt;
      deadline += stopped;
      lastYield += stopped;
      if (next === "kill") return result("killed", 0);
      // A step may have ended the guest, or asked for a reset.
      if (board.exit !== undefined) return result(board.exit.kind, board.exit.code);
      board.rebootIfRequested();
    }
    let ran = false;
    for (const h of harts) {
      // A hart in Debug Mode stays where it is until the debugger resumes it (dcsr.ts).
      if (h.debug.cause !== DEBUG_NOT_HALTED) continue;
      if (h.wfi) {
        if (!h.interruptPending()) continue;
        h.wfi = false;
      }
      h.takeInterrupt();
      runSlice(h, board.ioInFlight > 0 ? Math.min(slice, IO_SLICE) : othersWaiting(harts, h) ? soloSlice : slice);
      ran = true;
      // A hart that entered Debug Mode ends the round: the debugger halts the others where they are (all-stop).
      if (h.debug.cause !== DEBUG_NOT_HALTED) {
        debugEvent = true;
        break;
      }
      if (board.exit !== undefined || board.resetRequested) break;
    }
    if (!warm && board.retired() >= WARM_AFTER) {
      // Loaded only now: a short run (hello.elf) neither runs nor loads the warm-up.
      (await import("./interp-warmup.ts")).warmInterpreter(board.clock instanceof InstructionClock ? "icount" : "real");
      releaseTierUp();
      warm = true;
    }
    board.clint.update();
    board.devices.poll();
    board.pollHtif();
    if (board.exit !== undefined) return result(board.exit.kind, board.exit.code);
    board.rebootIfRequested();
    const now = performance.now();
    if (now >= deadline) return result("timeout", 124);
    if (opts.interrupted?.()) return result("interrupted", 0);
    if (!ran) {
      await idle(board);
      lastYield = performance.now();
    } else if (now - lastYield >= YIELD_EVERY_MS || board.ioInFlight > 0) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  }
}

/** Whether every hart but `h` waits in wfi with no interrupt pending to end the wait. */
function othersWaiting(harts: readonly Hart[], h: Hart): boolean {
  for (const o of harts) if (o !== h && !(o.wfi && !o.interruptPending())) return false;
  return true;
}

/** Every hart waits: sleep (or, on the icount clock, skip) to the next timer or until a device line rises, letting host input in meanwhile. */
async function idle(board: Board): Promise<void> {
  let next = board.clint.nextDeadline();
  for (const h of board.harts) if (h.csr.stce) next = Math.min(next, h.csr.unsignedNum(R.CSR_STIMECMP));
  const clock = board.clock;
  if (clock instanceof InstructionClock) {
    if (Number.isFinite(next)) {
      clock.advanceTo(next);
      return;
    }
  }
  const waitTicks = next - board.clint.mtime();
  const ms = Math.max(0, Math.min(MAX_SLEEP_MS, waitTicks / TICKS_PER_MS));
  // A device thread posting an interrupt (an assigned NIC) rings board.wake: wake for it at once.
  const seen = board.postsInterrupts ? Atomics.load(board.wake, 0) : 0;
  if (board.postsInterrupts && board.harts.some((h) => h.interruptPending())) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(wake, ms);
    // A device line rising on this thread (a virtio completion, a frame for the NIC) calls wakeIdle.
    function wake(): void {
      clearTimeout(timer);
      if (board.wakeIdle === wake) board.wakeIdle = undefined;
      resolve();
    }
    board.wakeIdle = wake;
    if (board.postsInterrupts) {
      // A pending waitAsync does not keep Node's event loop alive; the timer does.
      const posted = Atomics.waitAsync(board.wake, 0, seen, ms);
      if (!posted.async) wake();
      else void posted.value.then(wake);
    }
  });
}
