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

import { Dispatcher, exitReply } from "./commands.ts";
import type { DebugTarget } from "./debug-target.ts";
import { PacketReader, framePacket, type WireEvent } from "./packet.ts";
import type { GdbConnection, GdbEndpoint } from "./server.ts";

/** What the stub needs of the machine beyond the protocol's target. */
export interface AsyncMachine<T> {
  readonly target: DebugTarget<T> & {
    /** A debugger attached (true) or went away (false: its breakpoints come out). */
    attach(on: boolean): void;
  };
  /** Halts every thread; resolves once all are halted (or the machine has ended). */
  halt(): Promise<void>;
  /** Lets these threads run on; the others stay halted. */
  resume(threads: readonly T[]): void;
  /** The thread that stopped at a breakpoint since the last resume, if one did. */
  stoppedAt(): T | undefined;
  /** Ends the run (GDB's kill). */
  kill(): void;
}

interface Client<T> {
  readonly conn: GdbConnection;
  readonly reader: PacketReader;
  readonly dispatcher: Dispatcher<T>;
  /** The last packet sent, for a '-' to resend. */
  last: Buffer | undefined;
  /** Packets received while the threads ran, answered once they are halted. */
  readonly queued: string[];
  /** GDB sent 'c' and waits for a stop reply. */
  waiting: boolean;
}

export class AsyncGdbStub<T> implements GdbEndpoint {
  private client: Client<T> | undefined;
  private state: "running" | "halting" | "halted" = "running";
  /** The halt was GDB's Ctrl-C: the stop reply says SIGINT. */
  private interrupted = false;
  private killed = false;

  constructor(private readonly machine: AsyncMachine<T>) {}

  /** Halts the machine now (-S: before it starts, so before its first instruction). */
  haltNow(): void {
    this.halt();
  }

  /** A thread reached a breakpoint: all stop, and GDB hears of it. */
  breakpointHit(): void {
    this.halt();
  }

  // ---- connections (server.ts) ----

  connect(conn: GdbConnection): boolean {
    if (this.client !== undefined) return false;
    this.client = { conn, reader: new PacketReader(), dispatcher: new Dispatcher(this.machine.target), last: undefined, queued: [], waiting: false };
    this.machine.target.attach(true);
    this.halt();
    return true;
  }

  receive(conn: GdbConnection, bytes: Uint8Array): void {
    const c = this.client;
    if (c === undefined || c.conn !== conn) return;
    for (const event of c.reader.feed(bytes)) {
      if (this.client !== c) return; // a packet in this read ended the session
      this.event(c, event);
    }
  }

  disconnected(conn: GdbConnection): void {
    if (this.client?.conn !== conn) return;
    this.client = undefined;
    this.machine.target.attach(false);
  }

  /** The run ended with this status: GDB hears W (unless it killed the run), and the connection closes. */
  finished(exitCode: number): void {
    const c = this.client;
    if (c === undefined) return;
    if (!this.killed) this.send(c, exitReply(exitCode));
    this.client = undefined;
    c.conn.close();
  }

  // ---- run control ----

  private halt(): void {
    if (this.state !== "running") return;
    this.state = "halting";
    void this.machine.halt().then(() => this.halted());
  }

  /** Every thread is halted: the stop reply GDB waits for, then the packets that waited. */
  private halted(): void {
    this.state = "halted";
    const c = this.client;
    if (c === undefined) return;
    if (c.waiting) {
      c.waiting = false;
      const hit = this.machine.stoppedAt();
      this.send(c, c.dispatcher.stopReply(hit ?? c.dispatcher.current, hit === undefined && this.interrupted));
    }
    this.interrupted = false;
    for (const packet of c.queued.splice(0)) if (this.state === "halted" && this.client === c) this.packet(c, packet);
  }

  private resume(threads: readonly T[]): void {
    if (this.state !== "halted") return;
    this.state = "running";
    this.machine.resume(threads);
  }

  // ---- the protocol ----

  private event(c: Client<T>, event: WireEvent): void {
    switch (event.kind) {
      case "packet":
        if (!c.dispatcher.noAck) c.conn.write(Buffer.from("+"));
        if (this.state !== "halted") c.queued.push(event.data);
        else this.packet(c, event.data);
        return;
      case "bad-packet":
        if (!c.dispatcher.noAck) c.conn.write(Buffer.from("-"));
        return;
      case "nak":
        if (c.last !== undefined) c.conn.write(c.last);
        return;
      case "interrupt":
        if (this.state === "running") {
          this.interrupted = true;
          this.halt();
        }
        return;
      case "ack":
        return;
    }
  }

  /** Answers one packet; the threads are halted. */
  private packet(c: Client<T>, data: string): void {
    const action = c.dispatcher.handle(data);
    switch (action.kind) {
      case "reply":
        this.send(c, action.text);
        return;
      case "continue":
        c.waiting = true;
        this.resume(action.harts);
        return;
      case "kill":
        if (action.ok) this.send(c, "OK");
        this.killed = true;
        this.client = undefined;
        c.conn.close();
        this.machine.kill();
        return;
      case "detach":
        this.send(c, "OK");
        this.client = undefined;
        this.machine.target.attach(false);
        c.conn.close();
        this.resume(this.machine.target.threads);
        return;
    }
  }

  private send(c: Client<T>, text: string): void {
    c.last = framePacket(text);
    c.conn.write(c.last);
  }
}
