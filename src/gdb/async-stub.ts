/*
 * The GDB stub for a machine whose threads run on their own and halt when
 * asked, some time later: a VM's vCPUs, each on its own thread
 * (src/hypervisor/vm-debug.ts). The native board's stub (stub.ts) is
 * instead driven by its run loop, which halts between slices; the protocol
 * side is the same (commands.ts), and so is what GDB sees.
 *
 *   running    the threads run; GDB may wait for a stop reply (after 'c');
 *              its Ctrl-C, a connection, or a thread reaching a breakpoint
 *              starts a halt
 *   halting    every thread is asked to halt; packets wait
 *   halted     packets are answered; 'c' resumes, 'k' ends the run
 *
 * A connecting debugger halts the machine, as QEMU stops the VM when GDB
 * attaches; -S halts it before its first instruction. A debugger that goes
 * away without detaching leaves the guest as it was, halted or running,
 * with its breakpoints removed; the next connection takes over.
 */

import type { GdbEndpoint } from "./server.ts";
import { GdbSession, type AttachableTarget } from "./session.ts";

/** What the stub needs of the machine beyond the protocol's target. */
export interface AsyncMachine<T> {
  readonly target: AttachableTarget<T>;
  /** Halts every thread; resolves once all are halted (or the machine has ended). */
  halt(): Promise<void>;
  /** Lets these threads run on; the others stay halted. */
  resume(threads: readonly T[]): void;
  /** The thread that stopped at a breakpoint since the last resume, if one did. */
  stoppedAt(): T | undefined;
  /** Ends the run (GDB's kill). */
  kill(): void;
}

export class AsyncGdbStub<T> extends GdbSession<T> implements GdbEndpoint {
  protected readonly target: AttachableTarget<T>;
  private state: "running" | "halting" | "halted" = "running";

  constructor(private readonly machine: AsyncMachine<T>) {
    super();
    this.target = machine.target;
  }

  /** Halts the machine now (-S: before it starts, so before its first instruction). */
  haltNow(): void {
    this.requestHalt();
  }

  /** A thread reached a breakpoint: all stop, and GDB hears of it. */
  breakpointHit(): void {
    this.requestHalt();
  }

  // ---- GdbSession ----

  protected isHalted(): boolean {
    return this.state === "halted";
  }

  protected requestHalt(): void {
    if (this.state !== "running") return;
    this.state = "halting";
    void this.machine.halt().then(() => this.halted());
  }

  protected resumeThreads(threads: readonly T[]): void {
    if (this.state !== "halted") return;
    this.state = "running";
    this.machine.resume(threads);
  }

  protected killRun(): void {
    this.machine.kill();
  }

  /** Every thread is halted: the stop reply GDB waits for, then the packets that waited. */
  private halted(): void {
    this.state = "halted";
    const hit = this.machine.stoppedAt();
    const current = this.currentThread();
    if (current === undefined) {
      this.interrupted = false;
      return;
    }
    this.reportHalt(hit ?? current, hit === undefined && this.interrupted);
  }
}
