/*
 * A VM under a debugger: halting and resuming its vCPUs for GDB
 * (gdb-vm-target.ts speaks for them). The hypervisor never runs a guest
 * instruction itself here: a breakpoint is an ebreak in guest memory that
 * the guest executes on its vCPU thread, whose trap handler posts a debug
 * exit (vcpu-runner.ts, REASON_DEBUG) that the main thread holds
 * (vm-exits.ts); every other vCPU is parked at its next slice boundary by
 * the pause bit of its run page's control word.
 *
 * Halted means each vCPU is held in its debug exit or idle outside guest
 * code (the run page's `halted` word) with the pause bit set: then its
 * registers and pc in the run page are the main thread's to read and write.
 * The bit and the word are read directly, not through the comlink control
 * plane: a vCPU held in a debug exit cannot answer comlink, and one that
 * reaches a breakpoint while the others are being paused must not make the
 * halt wait for it.
 */

import { wakeVcpu } from "./peers.ts";
import * as P from "./runpage.ts";
import type { VmExitServer } from "./vm-exits.ts";
import { DebugBreakpoints } from "./debug-breakpoints.ts";

/** How often a halt looks whether every vCPU has parked, in ms. */
const HALT_POLL_MS = 1;

export class VmDebug {
  /** The debugger's breakpoints as the vCPUs look them up (shared with their threads). */
  readonly breakpoints = new DebugBreakpoints();
  /** Told on the main thread when a vCPU stops at a debugger breakpoint. */
  onStop: ((hart: number) => void) | undefined;
  /** The first vCPU that stopped at a breakpoint since the last resume, the one GDB hears of. */
  private stopped: number | undefined;

  constructor(
    private readonly pages: readonly P.RunPage[],
    private readonly exits: VmExitServer,
    private readonly vm: { readonly running: boolean },
  ) {
    exits.onDebugStop = (h) => {
      this.stopped ??= h;
      this.onStop?.(h);
    };
  }

  /** Asks every vCPU to park at its next slice boundary (before its first one, when called before the VM starts: -S). */
  requestHalt(): void {
    for (const page of this.pages) {
      Atomics.or(page.control, 0, P.CONTROL_PAUSE);
      wakeVcpu(page);
    }
  }

  /** Whether vCPU h is halted for the debugger (see the top). */
  isHalted(h: number): boolean {
    const page = this.pages[h];
    return this.exits.isHeld(h) || ((Atomics.load(page.control, 0) & P.CONTROL_PAUSE) !== 0 && Atomics.load(page.halted, 0) === 1);
  }

  /** Halts every vCPU; resolves once all are halted, or the VM has stopped. */
  async halt(): Promise<void> {
    this.requestHalt();
    while (this.vm.running && !this.pages.every((_, h) => this.isHalted(h))) {
      await new Promise((resolve) => setTimeout(resolve, HALT_POLL_MS));
    }
  }

  /** Whether vCPU h waits at a debugger breakpoint. */
  atBreakpoint(h: number): boolean {
    return this.exits.isHeld(h);
  }

  /** The vCPU that stopped at a breakpoint since the last resume (the first, when several did), if one did. */
  get firstStopped(): number | undefined {
    return this.stopped;
  }

  /**
   * Lets the vCPUs `harts` run on; the others stay halted. Every vCPU drops
   * its decoded code that the debugger's writes made stale before it runs
   * again (fence.i; the writes went through the main thread's memory view,
   * which marks them in the VM's code-write log). One held at a breakpoint
   * runs from its pc: the breakpoint's original instruction, if GDB took
   * the breakpoint out meanwhile (it does, to step over it), else the same
   * breakpoint again.
   */
  resume(harts: readonly number[]): void {
    this.stopped = undefined;
    for (const page of this.pages) Atomics.or(page.control, 0, P.CONTROL_FENCE_I);
    for (const h of harts) {
      const page = this.pages[h];
      Atomics.and(page.control, 0, ~P.CONTROL_PAUSE);
      wakeVcpu(page);
      this.exits.release(h);
    }
  }
}
