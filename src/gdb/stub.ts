/*
 * The GDB stub: one debugger connection at a time, and the run loop's
 * debugger (RunDebugger, src/machine/runner.ts). Its states:
 *
 *   running    the harts run; GDB may be waiting for a stop reply (after
 *              'c'), and its Ctrl-C (0x03) asks for a halt
 *   halted     the run loop waits in halted(); packets are answered, a
 *              step runs here, 'c' resumes the loop and 'k' ends it
 *
 * A connecting debugger halts the harts (as QEMU stops the VM when GDB
 * attaches) and sets dcsr.ebreak* on them; -S halts them before the first
 * instruction. Packets that arrive while the harts run wait until they are
 * halted, so GDB never sees a moving target. A debugger that goes away
 * without detaching leaves the guest as it was, halted or running, with
 * its breakpoints removed; the next connection takes over.
 */

import type { Board } from "../machine/board.ts";
import { DEBUG_CAUSE_EBREAK, DEBUG_CAUSE_HALTREQ, DEBUG_NOT_HALTED } from "../machine/dcsr.ts";
import type { Hart } from "../machine/hart.ts";
import type { RunDebugger } from "../machine/runner.ts";
import { GdbSession } from "./session.ts";
import { GdbTarget } from "./target.ts";

export class GdbStub extends GdbSession<Hart> implements RunDebugger {
  readonly target: GdbTarget;
  /** A halt is asked for: -S, a connection, Ctrl-C, a kill. */
  private haltPending: boolean;
  /** Resolves the run loop's halted() wait; set while the harts are halted. */
  private release: ((next: "run" | "kill") => void) | undefined;

  constructor(
    private readonly board: Board,
    opts: { readonly startHalted: boolean },
  ) {
    super();
    this.target = new GdbTarget(board);
    this.haltPending = opts.startHalted;
  }

  // ---- RunDebugger ----

  haltRequested(): boolean {
    return this.haltPending;
  }

  halted(): Promise<"run" | "kill"> {
    const asked = this.haltPending;
    this.haltPending = false;
    if (this.killed) return Promise.resolve("kill");
    // The hart that has just entered Debug Mode, if one did (harts left halted by a resume are HALTREQ).
    const hit = this.board.harts.find((h) => h.debug.cause === DEBUG_CAUSE_EBREAK);
    // The guest's own ebreak (not a breakpoint of ours): it traps as it would undebugged, and the run goes on.
    if (hit !== undefined && this.target.passGuestEbreak(hit) && !asked) return Promise.resolve("run");
    // All-stop: every hart still running halts where it is.
    for (const h of this.board.harts) if (h.debug.cause === DEBUG_NOT_HALTED) h.debug.cause = DEBUG_CAUSE_HALTREQ;
    const stopped = hit !== undefined && hit.debug.cause === DEBUG_CAUSE_EBREAK ? hit : (this.currentThread() ?? this.board.harts[0]);
    const wait = new Promise<"run" | "kill">((resolve) => (this.release = resolve));
    this.reportHalt(stopped);
    return wait;
  }

  /** Ends the run from outside (the console's Ctrl-A x while the harts are halted). */
  kill(): void {
    this.killed = true;
    this.killRun();
  }

  // ---- GdbSession ----

  protected isHalted(): boolean {
    return this.release !== undefined;
  }

  /** Asks the run loop to halt at its next slice boundary, waking it if every hart sleeps in wfi. */
  protected requestHalt(): void {
    this.haltPending = true;
    this.board.wakeIdle?.();
  }

  protected killRun(): void {
    if (this.release !== undefined) this.resume("kill");
    else this.requestHalt();
  }

  protected resumeThreads(harts: readonly Hart[]): void {
    this.resume("run", harts);
  }

  protected override guestEnded(): boolean {
    return this.board.exit !== undefined;
  }

  /**
   * Lets the run loop go on (or end): the harts named (all, by default)
   * leave Debug Mode; the others stay halted, as halted by request, so that
   * the next stop finds only fresh ebreaks.
   */
  private resume(next: "run" | "kill", harts: readonly Hart[] = this.board.harts): void {
    const release = this.release;
    if (release === undefined) return;
    this.release = undefined;
    for (const h of this.board.harts) h.debug.cause = harts.includes(h) ? DEBUG_NOT_HALTED : DEBUG_CAUSE_HALTREQ;
    release(next);
  }
}
