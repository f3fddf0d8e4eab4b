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
import { Dispatcher, exitReply } from "./commands.ts";
import { PacketReader, framePacket, type WireEvent } from "./packet.ts";
import { GdbTarget } from "./target.ts";
import type { GdbConnection, GdbEndpoint } from "./server.ts";


interface Client {
  readonly conn: GdbConnection;
  readonly reader: PacketReader;
  readonly dispatcher: Dispatcher<Hart>;
  /** The last packet sent, for a '-' to resend. */
  last: Buffer | undefined;
  /** Packets received while the harts ran, answered once they are halted. */
  readonly queued: string[];
  /** GDB sent 'c' and waits for a stop reply. */
  waiting: boolean;
}

export class GdbStub implements RunDebugger, GdbEndpoint {
  readonly target: GdbTarget;
  private client: Client | undefined;
  /** A halt is asked for: -S, a connection, Ctrl-C, a kill. */
  private haltPending: boolean;
  private killPending = false;
  /** The halt was GDB's Ctrl-C: the stop reply says SIGINT. */
  private interrupted = false;
  /** Resolves the run loop's halted() wait; set while the harts are halted. */
  private release: ((next: "run" | "kill") => void) | undefined;

  constructor(
    private readonly board: Board,
    opts: { readonly startHalted: boolean },
  ) {
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
    if (this.killPending) return Promise.resolve("kill");
    // The hart that has just entered Debug Mode, if one did (harts left halted by a resume are HALTREQ).
    const hit = this.board.harts.find((h) => h.debug.cause === DEBUG_CAUSE_EBREAK);
    // The guest's own ebreak (not a breakpoint of ours): it traps as it would undebugged, and the run goes on.
    if (hit !== undefined && this.target.passGuestEbreak(hit) && !asked) return Promise.resolve("run");
    // All-stop: every hart still running halts where it is.
    for (const h of this.board.harts) if (h.debug.cause === DEBUG_NOT_HALTED) h.debug.cause = DEBUG_CAUSE_HALTREQ;
    const stopped = hit !== undefined && hit.debug.cause === DEBUG_CAUSE_EBREAK ? hit : (this.client?.dispatcher.current ?? this.board.harts[0]);
    const wait = new Promise<"run" | "kill">((resolve) => (this.release = resolve));
    const c = this.client;
    if (c !== undefined) {
      if (c.waiting) {
        c.waiting = false;
        this.send(c, c.dispatcher.stopReply(stopped, this.interrupted));
      }
      this.interrupted = false;
      for (const packet of c.queued.splice(0)) this.packet(c, packet);
    }
    return wait;
  }

  // ---- connections ----

  /** A debugger connected: it takes over if none is attached; otherwise false (the caller closes it). */
  connect(conn: GdbConnection): boolean {
    if (this.client !== undefined) return false;
    const c: Client = { conn, reader: new PacketReader(), dispatcher: new Dispatcher(this.target), last: undefined, queued: [], waiting: false };
    this.client = c;
    this.target.attach(true);
    if (this.release === undefined) this.requestHalt();
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
    if (!this.killPending) this.send(c, exitReply(exitCode));
    this.client = undefined;
    c.conn.close();
  }

  /** Ends the run from outside (the console's Ctrl-A x while the harts are halted). */
  kill(): void {
    this.killPending = true;
    if (this.release !== undefined) this.resume("kill");
    else this.requestHalt();
  }

  // ---- the protocol ----

  private event(c: Client, event: WireEvent): void {
    switch (event.kind) {
      case "packet":
        if (!c.dispatcher.noAck) c.conn.write(Buffer.from("+"));
        if (this.release === undefined) c.queued.push(event.data);
        else this.packet(c, event.data);
        return;
      case "bad-packet":
        if (!c.dispatcher.noAck) c.conn.write(Buffer.from("-"));
        return;
      case "nak":
        if (c.last !== undefined) c.conn.write(c.last);
        return;
      case "interrupt":
        if (this.release === undefined) {
          this.interrupted = true;
          this.requestHalt();
        }
        return;
      case "ack":
        return;
    }
  }

  /** Answers one packet; the harts are halted. */
  private packet(c: Client, data: string): void {
    const action = c.dispatcher.handle(data);
    switch (action.kind) {
      case "reply":
        this.send(c, action.text);
        if (this.board.exit !== undefined) {
          // A step ended the guest and the reply was W: the session is over, and the run loop returns with the exit.
          this.client = undefined;
          c.conn.close();
          this.resume("run");
        }
        return;
      case "continue":
        c.waiting = true;
        this.resume("run", action.harts);
        return;
      case "kill":
        if (action.ok) this.send(c, "OK");
        this.client = undefined;
        c.conn.close();
        this.kill();
        return;
      case "detach":
        this.send(c, "OK");
        this.client = undefined;
        this.target.attach(false);
        c.conn.close();
        this.resume("run");
        return;
    }
  }

  private send(c: Client, text: string): void {
    c.last = framePacket(text);
    c.conn.write(c.last);
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

  /** Asks the run loop to halt at its next slice boundary, waking it if every hart sleeps in wfi. */
  private requestHalt(): void {
    this.haltPending = true;
    this.board.wakeIdle?.();
  }
}
