/*
 * The board as GDB sees it: harts as threads (thread id = hart id + 1, ids
 * start at 1 in the protocol), each hart's registers in target.xml's order,
 * memory at the addresses the hart sees (src/machine/debug-walk.ts), and
 * software breakpoints. Everything here runs while the harts are halted.
 *
 * Only RAM is readable and writable: a debugger's read of a device register
 * could have effects (a UART's receive buffer), so MMIO reads fail as
 * unmapped memory does.
 */

import type { Board } from "../machine/board.ts";
import type { Hart } from "../machine/hart.ts";
import { DEBUG_UNMAPPED, debugTranslate } from "../machine/debug-walk.ts";
import { raiseBreakpointInstead, stepHart } from "../machine/debug.ts";
import { DEBUG_CAUSE_EBREAK, DEBUG_NOT_HALTED } from "../machine/dcsr.ts";
import { GUEST_OK } from "../machine/guest-memory-view.ts";
import { PAGE_SIZE } from "../machine/memlayout.ts";
import { hiOf, isExactPair, loOf, pairToNumber } from "../machine/u64.ts";
import { Breakpoints } from "./breakpoints.ts";
import type { DebugTarget } from "./debug-target.ts";
import { REGNUM_PC, REGNUM_PRIV } from "./target-xml.ts";

const U64 = (1n << 64n) - 1n;
const PRIV_NAMES = ["U", "S", "?", "M"];
/** The encodings of ebreak and c.ebreak. */
const EBREAK = 0x0010_0073;
const C_EBREAK = 0x9002;

/** A 64-bit register's 8 bytes, little-endian as hex (the target's byte order). */
function pairHex(lo: number, hi: number): string {
  const b = Buffer.alloc(8);
  b.writeInt32LE(lo | 0, 0);
  b.writeInt32LE(hi | 0, 4);
  return b.toString("hex");
}

/** The (lo, hi) pair of 16 hex digits in target order; undefined when not that. */
function hexPair(text: string): [number, number] | undefined {
  if (!/^[0-9a-fA-F]{16}$/.test(text)) return undefined;
  const b = Buffer.from(text, "hex");
  return [b.readInt32LE(0), b.readInt32LE(4)];
}

export class GdbTarget implements DebugTarget<Hart> {
  readonly breakpoints: Breakpoints;

  constructor(readonly board: Board) {
    this.breakpoints = new Breakpoints(board.memory);
  }

  get harts(): readonly Hart[] {
    return this.board.harts;
  }

  get threads(): readonly Hart[] {
    return this.board.harts;
  }

  /** The hart behind a thread id (1-based); undefined when none. */
  thread(tid: number): Hart | undefined {
    return this.board.harts[tid - 1];
  }

  tidOf(h: Hart): number {
    return h.hartId + 1;
  }

  get exitCode(): number | undefined {
    return this.board.exit?.code;
  }

  /** One line GDB shows in `info threads`. */
  describe(h: Hart): string {
    return `hart ${h.hartId}, ${PRIV_NAMES[h.csr.priv]}-mode${h.wfi ? ", in wfi" : ""}`;
  }

  /** dcsr.ebreak* on every hart: a debugger is attached (true) or gone. */
  attach(on: boolean): void {
    for (const h of this.board.harts) h.debug.setEbreakAll(on);
    if (!on) this.breakpoints.removeAll();
  }

  // ---- registers: x0..x31, pc, priv (target-xml.ts) ----

  /** Register `n` as target-order hex; undefined when there is no such register. */
  readRegister(h: Hart, n: number): string | undefined {
    if (n >= 0 && n < 32) return pairHex(h.x[2 * n], h.x[2 * n + 1]);
    if (n === REGNUM_PC) return pairHex(loOf(h.pc), hiOf(h.pc));
    if (n === REGNUM_PRIV) return h.csr.priv.toString(16).padStart(2, "0");
    return undefined;
  }

  /** Sets register `n` from target-order hex; false when it cannot be (no such register, bad value, priv). */
  writeRegister(h: Hart, n: number, hex: string): boolean {
    if (n === REGNUM_PRIV) return hex.toLowerCase() === this.readRegister(h, n); // read-only: only its own value is accepted
    const v = hexPair(hex);
    if (v === undefined || n < 0 || n > REGNUM_PC) return false;
    if (n === REGNUM_PC) {
      if (!isExactPair(v[0], v[1])) return false;
      h.pc = pairToNumber(v[0], v[1]);
      h.wfi = false;
      return true;
    }
    if (n !== 0) {
      h.x[2 * n] = v[0];
      h.x[2 * n + 1] = v[1];
    }
    return true;
  }

  /** Every register, in order ('g'). */
  readRegisters(h: Hart): string {
    let out = "";
    for (let n = 0; n <= REGNUM_PRIV; n++) out += this.readRegister(h, n);
    return out;
  }

  /** Sets the registers 'G' carries (x0..x31, pc, and priv unchanged); false, changing nothing, when malformed. */
  writeRegisters(h: Hart, hex: string): boolean {
    const parts: string[] = [];
    for (let n = 0; n <= REGNUM_PC; n++) parts.push(hex.slice(16 * n, 16 * n + 16));
    const rest = hex.slice(16 * (REGNUM_PC + 1));
    if (parts.some((p) => hexPair(p) === undefined) || (rest !== "" && rest.toLowerCase() !== this.readRegister(h, REGNUM_PRIV))) return false;
    const pc = hexPair(parts[REGNUM_PC]) as [number, number];
    if (!isExactPair(pc[0], pc[1])) return false;
    parts.forEach((p, n) => this.writeRegister(h, n, p));
    return true;
  }

  // ---- memory, as hart h sees it ----

  /** The physical address hart h reaches at `va`, or DEBUG_UNMAPPED. */
  translate(h: Hart, va: bigint): number {
    const v = va & U64;
    return debugTranslate(h, Number(v & 0xffff_ffffn) | 0, Number(v >> 32n) | 0);
  }

  /**
   * Up to `length` bytes at `va`, page by page: fewer when the range runs
   * into memory that is not there (the protocol allows a short read), none
   * when its first byte is not.
   */
  readMemory(h: Hart, va: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = (va + BigInt(done)) & U64;
      const pa = this.translate(h, at);
      const chunk = out.subarray(done, Math.min(length, done + PAGE_SIZE - Number(at & BigInt(PAGE_SIZE - 1))));
      if (pa === DEBUG_UNMAPPED || this.board.memory.copyOut(pa, chunk) !== GUEST_OK) break;
      this.breakpoints.hideIn(pa, chunk);
      done += chunk.length;
    }
    return out.subarray(0, done);
  }

  /** Writes `bytes` at `va`; false, writing nothing, when any byte is not RAM. Decoded code there is forgotten. */
  writeMemory(h: Hart, va: bigint, bytes: Uint8Array): boolean {
    const pieces: { pa: number; bytes: Uint8Array }[] = [];
    let done = 0;
    while (done < bytes.length) {
      const at = (va + BigInt(done)) & U64;
      const pa = this.translate(h, at);
      const chunk = bytes.subarray(done, Math.min(bytes.length, done + PAGE_SIZE - Number(at & BigInt(PAGE_SIZE - 1))));
      if (pa === DEBUG_UNMAPPED || this.board.memory.translate(pa, chunk.length) < 0) return false;
      pieces.push({ pa, bytes: chunk });
      done += chunk.length;
    }
    for (const p of pieces) {
      this.board.memory.copyIn(p.pa, p.bytes);
      this.breakpoints.rewrittenAt(p.pa, p.bytes);
    }
    return true;
  }

  // ---- run control ----

  /** Plants a software breakpoint at `va` for hart h's view; false when it cannot be. */
  insertBreakpoint(h: Hart, va: bigint, kind: number): boolean {
    const pa = this.translate(h, va);
    return Breakpoints.knownKind(kind) && pa !== DEBUG_UNMAPPED && this.breakpoints.insert(va & U64, pa, kind);
  }

  removeBreakpoint(va: bigint): boolean {
    return this.breakpoints.remove(va & U64);
  }

  /** Whether hart h halted on one of the debugger's breakpoints (not on the guest's own ebreak). */
  atBreakpoint(h: Hart): boolean {
    const pa = this.translate(h, BigInt.asUintN(64, BigInt(h.pc)));
    return pa !== DEBUG_UNMAPPED && this.breakpoints.plantedAt(pa);
  }

  /**
   * After a step or a run, hart h halted on an ebreak that is not one of
   * the debugger's: the guest's own (selftest checks its breakpoint
   * handler so). It takes the breakpoint exception it would have taken
   * without a debugger. True when that was the case.
   */
  passGuestEbreak(h: Hart): boolean {
    if (h.debug.cause !== DEBUG_CAUSE_EBREAK || this.atBreakpoint(h)) return false;
    if (this.ebreakAt(h)) raiseBreakpointInstead(h);
    else h.debug.cause = DEBUG_NOT_HALTED; // a breakpoint of ours, removed since it was hit (its debugger left): run what it covered
    return true;
  }

  /** Whether the instruction at hart h's pc is ebreak or c.ebreak. */
  private ebreakAt(h: Hart): boolean {
    const b = this.readMemory(h, BigInt.asUintN(64, BigInt(h.pc)), 4);
    const half = b.length >= 2 ? b[0] | (b[1] << 8) : -1;
    return half === C_EBREAK || (b.length === 4 && Buffer.from(b).readUInt32LE() === EBREAK);
  }

  /** One instruction on hart h (dcsr.step); a step over the guest's own ebreak ends in its trap handler. */
  step(h: Hart): void {
    stepHart(this.board, h);
    this.passGuestEbreak(h);
  }
}
