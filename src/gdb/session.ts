/*
 * One debugger's session over its connection, the part both stubs share:
 * the native board's (stub.ts, driven by its run loop) and a VM's
 * (async-stub.ts, whose vCPU threads halt some time after they are asked).
 * Acks, resends and bad packets; packets that wait while the machine runs,
 * so GDB never sees a moving target; the dispatcher's answers; and how a
 * session ends (kill, detach, the guest's exit, a dropped connection, which
 * leaves the guest as it was with its breakpoints removed). What halting
 * and resuming mean is each stub's own: the abstract members below.
 */

import { Dispatcher, exitReply } from "./commands.ts";
import type { DebugTarget } from "./debug-target.ts";
import { PacketReader, framePacket, type WireEvent } from "./packet.ts";
import type { GdbConnection, GdbEndpoint } from "./server.ts";

/** The target a session debugs, and how a debugger attaches to it (attach(false) takes its breakpoints out). */
export type AttachableTarget<T> = DebugTarget<T> & { attach(on: boolean): void };

interface Client<T> {
  readonly conn: GdbConnection;
  readonly reader: PacketReader;
  readonly dispatcher: Dispatcher<T>;
  /** The last packet sent, for a '-' to resend. */
  last: Buffer | undefined;
  /** Packets received while the machine ran, answered once it is halted. */
  readonly queued: string[];
  /** GDB sent 'c' and waits for a stop reply. */
  waiting: boolean;
}

export abstract class GdbSession<T> implements GdbEndpoint {
  private client: Client<T> | undefined;
  /** The halt under way was GDB's Ctrl-C: the stop reply says SIGINT. */
  protected interrupted = false;
  /** The run is ending by a kill: GDB hears no exit status. */
  protected killed = false;

  protected abstract readonly target: AttachableTarget<T>;
  /** The machine is halted: packets are answered now. */
  protected abstract isHalted(): boolean;
  /** Starts a halt: a connection, Ctrl-C. */
  protected abstract requestHalt(): void;
  /** Lets these threads run on ('c', 'vCont'; all of them at a detach); the others stay halted. */
  protected abstract resumeThreads(threads: readonly T[]): void;
  /** Ends the run (GDB's kill); `killed` is already set. */
  protected abstract killRun(): void;
  /** After a reply: true when the guest has ended meanwhile (a step ran it to its exit), which ends the session. */
  protected guestEnded(): boolean {
    return false;
  }

  // ---- connections (server.ts) ----

  /** A debugger connected: it takes over if none is attached, and the machine halts; otherwise false (the caller closes it). */
  connect(conn: GdbConnection): boolean {
    if (this.client !== undefined) return false;
    this.client = { conn, reader: new PacketReader(), dispatcher: new Dispatcher(this.target), last: undefined, queued: [], waiting: false };
    this.target.attach(true);
    if (!this.isHalted()) this.requestHalt();
    return true;
  }

  /** Bytes from the debugger on `conn`. */
  receive(conn: GdbConnection, bytes: Uint8Array): void {
    const c = this.client;
    if (c === undefined || c.conn !== conn) return;
    for (const event of c.reader.feed(bytes)) {
      if (this.client !== c) return; // a packet in this read ended the session
      this.event(c, event);
    }
  }

  /** The connection went away (closed, reset) without a detach: breakpoints out, the guest as it was. */
  disconnected(conn: GdbConnection): void {
    if (this.client?.conn !== conn) return;
    this.client = undefined;
    this.target.attach(false);
  }

  /** The run ended (the guest exited, a timeout, a kill): GDB hears W with the exit status, and the connection closes. */
  finished(exitCode: number): void {
    const c = this.client;
    if (c === undefined) return;
    if (!this.killed) this.send(c, exitReply(exitCode));
    this.client = undefined;
    c.conn.close();
  }

  /** The thread GDB has selected, or undefined without a debugger. */
  protected currentThread(): T | undefined {
    return this.client?.dispatcher.current;
  }

  /**
   * The machine is halted: GDB, if it waits after a 'c', gets its stop
   * reply (at `stopped`; SIGINT when the halt was its Ctrl-C), then the
   * packets that waited are answered.
   */
  protected reportHalt(stopped: T, sigint = this.interrupted): void {
    this.interrupted = false;
    const c = this.client;
    if (c === undefined) return;
    if (c.waiting) {
      c.waiting = false;
      this.send(c, c.dispatcher.stopReply(stopped, sigint));
    }
    // In order, while halted: one of them may resume the machine ('c'), and the rest then wait for the next halt.
    while (c.queued.length > 0 && this.isHalted() && this.client === c) this.packet(c, c.queued.shift() as string);
  }

  // ---- the protocol ----

  private event(c: Client<T>, event: WireEvent): void {
    switch (event.kind) {
      case "packet":
        if (!c.dispatcher.noAck) c.conn.write(Buffer.from("+"));
        if (this.isHalted()) this.packet(c, event.data);
        else c.queued.push(event.data);
        return;
      case "bad-packet":
        if (!c.dispatcher.noAck) c.conn.write(Buffer.from("-"));
        return;
      case "nak":
        if (c.last !== undefined) c.conn.write(c.last);
        return;
      case "interrupt":
        if (!this.isHalted()) {
          this.interrupted = true;
          this.requestHalt();
        }
        return;
      case "ack":
        return;
    }
  }

  /** Answers one packet; the machine is halted. */
  private packet(c: Client<T>, data: string): void {
    const action = c.dispatcher.handle(data);
    switch (action.kind) {
      case "reply":
        this.send(c, action.text);
        if (this.guestEnded()) {
          // A step ended the guest and the reply was W: the session is over, and the run ends with the exit.
          this.client = undefined;
          c.conn.close();
          this.resumeThreads(this.target.threads);
        }
        return;
      case "continue":
        c.waiting = true;
        this.resumeThreads(action.harts);
        return;
      case "kill":
        if (action.ok) this.send(c, "OK");
        this.client = undefined;
        c.conn.close();
        this.killed = true;
        this.killRun();
        return;
      case "detach":
        this.send(c, "OK");
        this.client = undefined;
        this.target.attach(false);
        c.conn.close();
        this.resumeThreads(this.target.threads);
        return;
    }
  }

  private send(c: Client<T>, text: string): void {
    c.last = framePacket(text);
    c.conn.write(c.last);
  }
}
