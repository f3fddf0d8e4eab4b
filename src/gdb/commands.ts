/*
 * The GDB command dispatcher: one packet's data in, what to do out (GDB
 * manual, appendix E "Packets", "General Query Packets", "Stop Reply
 * Packets"). It runs while the harts are halted; continuing is the stub's
 * business (stub.ts), which is why 'c' and 'vCont;c' come back as an
 * action rather than a reply. Anything unknown gets the empty reply, which
 * tells GDB the packet is not supported.
 *
 * All-stop only. Threads are harts (target.ts). GDB steps a RISC-V target
 * itself (a breakpoint after the instruction, then vCont;c), so 's' and
 * vCont's 's' come from other clients; a step runs the stepped hart alone,
 * as GDB's `set scheduler-locking step` would.
 */

import type { DebugTarget } from "./debug-target.ts";
import { MAX_PACKET, fromHex, parseHexBig, parseHexInt, toHex, unescapeBinary } from "./packet.ts";
import { REGNUM_PC, TARGET_XML } from "./target-xml.ts";

/** What the stub does with a packet. */
export type Action<T> =
  | { readonly kind: "reply"; readonly text: string }
  /** End the run: with no reply ('k'), or after OK ('vKill', which GDB tries first and waits on). */
  | { readonly kind: "kill"; readonly ok: boolean }
  /** Let these harts run (the others stay halted) until one halts; the stop reply comes then. */
  | { readonly kind: "continue"; readonly harts: readonly T[] }
  /** Reply OK, then let the guest run without a debugger. */
  | { readonly kind: "detach" };

/** GDB's signal numbers (include/gdb/signals.h): a trap, an interrupt. */
const SIGTRAP = 5;
const SIGINT = 2;

/** Reads of memory are cut to what fits a reply of MAX_PACKET hex digits. */
const MAX_READ = (MAX_PACKET - 16) / 2;

/** W: the guest exited with this status (its low 8 bits, as a process's). */
export function exitReply(code: number): string {
  return `W${(code & 0xff).toString(16).padStart(2, "0")}`;
}

const reply = (text: string): { readonly kind: "reply"; readonly text: string } => ({ kind: "reply", text });
const OK = reply("OK");
/** Error replies carry an errno in hex: EINVAL (22) for a malformed or impossible request, EFAULT (14) for memory that is not there. */
const E_INVALID = reply("E16");
const E_FAULT = reply("E0e");

export class Dispatcher<T> {
  /** Thread for register and memory access (Hg), and for c/s (Hc): 1-based thread ids. */
  private gTid = 1;
  private cTid = 1;
  /** Set by QStartNoAckMode: the connection stops sending and expecting '+'. */
  noAck = false;

  constructor(private readonly target: DebugTarget<T>) {}

  /** The hart register and memory packets address. */
  get current(): T {
    return this.target.thread(this.gTid) ?? this.target.threads[0];
  }

  /** The answer to one packet. Never throws on malformed input: that is a reply too. */
  handle(packet: string): Action<T> {
    const op = packet[0] ?? "";
    const args = packet.slice(1);
    switch (op) {
      case "?":
        return reply(this.stopReply(this.current));
      case "g":
        return reply(this.target.readRegisters(this.current));
      case "G":
        return this.target.writeRegisters(this.current, args) ? OK : E_INVALID;
      case "p": {
        const n = parseHexInt(args);
        const value = n === undefined ? undefined : this.target.readRegister(this.current, n);
        return value === undefined ? E_INVALID : reply(value);
      }
      case "P": {
        const [n, value] = args.split("=");
        const r = parseHexInt(n);
        return r !== undefined && value !== undefined && this.target.writeRegister(this.current, r, value) ? OK : E_INVALID;
      }
      case "m":
        return this.readMemory(args);
      case "M":
        return this.writeMemory(args, false);
      case "X":
        return this.writeMemory(args, true);
      case "Z":
      case "z":
        return this.breakpoint(op === "Z", args);
      case "H":
        return this.selectThread(args);
      case "T":
        return this.threadAlive(args);
      case "c":
      case "C":
        return this.resume(op, args, false);
      case "s":
      case "S":
        return this.resume(op, args, true);
      case "k":
        return { kind: "kill", ok: false };
      case "D":
        return { kind: "detach" };
      case "q":
      case "Q":
        return this.query(packet);
      case "v":
        return this.vPacket(packet);
      default:
        return reply("");
    }
  }

  /**
   * The stop reply for hart h, which just halted: SIGTRAP for a breakpoint
   * or a step, SIGINT for GDB's interrupt; W and the guest's exit status
   * when the guest has ended. Hart h becomes the current thread for both
   * c and g, as the stop names it.
   */
  stopReply(h: T, interrupted = false): string {
    const exit = this.target.exitCode;
    if (exit !== undefined) return exitReply(exit);
    const tid = this.target.tidOf(h);
    this.gTid = this.cTid = tid;
    const sig = interrupted ? SIGINT : SIGTRAP;
    return `T${sig.toString(16).padStart(2, "0")}thread:${tid.toString(16)};`;
  }

  /** Steps thread h one instruction; the stop reply (or W, when the guest ended). E_INVALID where the target cannot step. */
  private step(h: T): Action<T> {
    if (this.target.step === undefined) return E_INVALID;
    this.target.step(h);
    return reply(this.stopReply(h));
  }

  // ---- memory ----

  /** m addr,length */
  private readMemory(args: string): Action<T> {
    const [a, l] = args.split(",");
    const addr = parseHexBig(a);
    const length = l === undefined ? undefined : parseHexInt(l);
    if (addr === undefined || length === undefined) return E_INVALID;
    const bytes = this.target.readMemory(this.current, addr, Math.min(length, MAX_READ));
    return bytes.length === 0 && length > 0 ? E_FAULT : reply(toHex(bytes));
  }

  /** M addr,length:hex and X addr,length:binary */
  private writeMemory(args: string, binary: boolean): Action<T> {
    const colon = args.indexOf(":");
    if (colon < 0) return E_INVALID;
    const [a, l] = args.slice(0, colon).split(",");
    const addr = parseHexBig(a);
    const length = l === undefined ? undefined : parseHexInt(l);
    const raw = args.slice(colon + 1);
    const data = binary ? unescapeBinary(raw) : raw;
    const bytes = data === undefined ? undefined : binary ? Uint8Array.from(data, (c) => c.charCodeAt(0)) : fromHex(data);
    if (addr === undefined || length === undefined || bytes === undefined || bytes.length !== length) return E_INVALID;
    return this.target.writeMemory(this.current, addr, bytes) ? OK : E_FAULT;
  }

  // ---- breakpoints ----

  /**
   * Z0/z0,addr,kind: software breakpoints. Z1/z1 (hardware) are planted the
   * same way, as QEMU's gdbstub treats both alike: popek's harts have no
   * trigger module. Watchpoints (Z2..Z4) are not supported (empty reply):
   * they would cost every load and store a check.
   */
  private breakpoint(insert: boolean, args: string): Action<T> {
    const [type, a, k] = args.split(",");
    if (type !== "0" && type !== "1") return reply("");
    const addr = parseHexBig(a ?? "");
    const kind = parseHexInt((k ?? "").split(";")[0]);
    if (addr === undefined || kind === undefined) return E_INVALID;
    if (!insert) return this.target.removeBreakpoint(addr) ? OK : E_INVALID;
    return this.target.insertBreakpoint(this.current, addr, kind) ? OK : E_FAULT;
  }

  // ---- threads ----

  /** A thread id: hex, or -1 (all), or 0 (any); undefined when malformed. */
  private parseTid(text: string): number | undefined {
    if (text === "-1") return -1;
    return parseHexInt(text);
  }

  /** Hg/Hc thread */
  private selectThread(args: string): Action<T> {
    const which = args[0];
    const tid = this.parseTid(args.slice(1));
    if ((which !== "g" && which !== "c") || tid === undefined) return E_INVALID;
    // 0 (any) and -1 (all) keep the current one; a named thread must exist.
    if (tid > 0 && this.target.thread(tid) === undefined) return E_INVALID;
    if (tid > 0 && which === "g") this.gTid = tid;
    if (tid > 0 && which === "c") this.cTid = tid;
    return OK;
  }

  /** T thread: is it alive (every hart is) */
  private threadAlive(args: string): Action<T> {
    const tid = this.parseTid(args);
    return tid !== undefined && tid > 0 && this.target.thread(tid) !== undefined ? OK : E_INVALID;
  }

  // ---- run control ----

  /** c [addr], C sig[;addr], s [addr], S sig[;addr]: the signal is ignored (a hart has none to deliver). */
  private resume(op: string, args: string, step: boolean): Action<T> {
    const addrText = op === "C" || op === "S" ? args.split(";")[1] : args;
    const h = this.target.thread(this.cTid) ?? this.current;
    if (addrText !== undefined && addrText !== "") {
      const addr = parseHexBig(addrText);
      if (addr === undefined || !this.target.writeRegister(h, REGNUM_PC, toHex(u64Bytes(addr)))) return E_INVALID;
    }
    return step ? this.step(h) : { kind: "continue", harts: this.target.threads };
  }

  /**
   * vCont;action[:thread]...: each thread takes the first action naming it,
   * or else the action without a thread; a thread no action covers stays
   * halted. A step steps its hart alone (the rest stay halted too).
   */
  private vCont(actions: string[]): Action<T> {
    const chosen = new Map<T, string>();
    let fallback: string | undefined;
    for (const a of actions) {
      const [act, t] = a.split(":");
      const kind = act[0];
      if (kind !== "c" && kind !== "C" && kind !== "s" && kind !== "S" && kind !== "t") return E_INVALID;
      const tid = t === undefined ? -1 : this.parseTid(t);
      const h = tid === undefined ? undefined : tid > 0 ? this.target.thread(tid) : undefined;
      if (tid === undefined || (tid > 0 && h === undefined)) return E_INVALID;
      if (h === undefined) fallback ??= kind.toLowerCase();
      else if (!chosen.has(h)) chosen.set(h, kind.toLowerCase());
    }
    const actionOf = (h: T): string | undefined => chosen.get(h) ?? fallback;
    const stepped = this.target.threads.find((h) => actionOf(h) === "s");
    if (stepped !== undefined) return this.step(stepped);
    const harts = this.target.threads.filter((h) => actionOf(h) === "c");
    return harts.length > 0 ? { kind: "continue", harts } : E_INVALID;
  }

  private vPacket(packet: string): Action<T> {
    if (packet === "vCont?") return reply(this.target.step === undefined ? "vCont;c;C" : "vCont;c;C;s;S");
    if (packet.startsWith("vCont;")) return this.vCont(packet.slice(6).split(";"));
    if (packet.startsWith("vKill")) return { kind: "kill", ok: true };
    return reply("");
  }

  // ---- queries ----

  private query(packet: string): Action<T> {
    const [name, ...rest] = packet.split(":");
    switch (name) {
      case "qSupported":
        return reply(`PacketSize=${MAX_PACKET.toString(16)};qXfer:features:read+;QStartNoAckMode+;vContSupported+`);
      case "QStartNoAckMode":
        this.noAck = true;
        return OK;
      case "qXfer":
        return this.readFeatures(rest);
      case "qAttached":
        return reply("1"); // attached to a running machine: GDB detaches rather than kills on quit
      case "qC":
        return reply(`QC${this.gTid.toString(16)}`);
      case "qfThreadInfo":
        return reply(`m${this.target.threads.map((h) => this.target.tidOf(h).toString(16)).join(",")}`);
      case "qsThreadInfo":
        return reply("l");
      case "qSymbol":
        return OK; // no symbols wanted
      default:
        if (name.startsWith("qThreadExtraInfo,")) {
          const tid = this.parseTid(name.slice("qThreadExtraInfo,".length));
          const h = tid === undefined ? undefined : this.target.thread(tid);
          return h === undefined ? E_INVALID : reply(toHex(new TextEncoder().encode(this.target.describe(h))));
        }
        return reply("");
    }
  }

  /** qXfer:features:read:target.xml:offset,length ('m': more follows, 'l': the last part) */
  private readFeatures(rest: string[]): Action<T> {
    const [object, verb, annex, range] = rest;
    if (object !== "features" || verb !== "read") return reply("");
    if (annex !== "target.xml") return reply("E00");
    const [o, l] = (range ?? "").split(",");
    const offset = parseHexInt(o);
    const length = l === undefined ? undefined : parseHexInt(l);
    if (offset === undefined || length === undefined) return E_INVALID;
    // Escaping may double a byte; keep the reply within the packet size.
    const part = TARGET_XML.slice(offset, offset + Math.min(length, MAX_PACKET / 2 - 8));
    const last = offset + part.length >= TARGET_XML.length;
    return reply(`${last ? "l" : "m"}${part}`);
  }
}

/** An address as the 8 little-endian bytes of a register value. */
function u64Bytes(v: bigint): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return new Uint8Array(b);
}
