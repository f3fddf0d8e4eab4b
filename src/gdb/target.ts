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
import { Breakpoints } from "./breakpoints.ts";
import type { DebugTarget } from "./debug-target.ts";
import { addressPair, readDebugMemory, writeDebugMemory } from "./memory.ts";
import { readRegister, readRegisters, writeRegister, writeRegisters, type GdbRegisterFile } from "./registers.ts";

const U64 = (1n << 64n) - 1n;
const PRIV_NAMES = ["U", "S", "?", "M"];
/** The encodings of ebreak and c.ebreak. */
const EBREAK = 0x0010_0073;
const C_EBREAK = 0x9002;

/** Hart h's registers as the protocol reaches them; a pc written ends a wfi. */
function registersOf(h: Hart): GdbRegisterFile {
  return {
    x: h.x,
    get pc() {
      return h.pc;
    },
    set pc(v: number) {
      h.pc = v;
      h.wfi = false;
    },
    priv: h.csr.priv,
  };
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

  // ---- registers: x0..x31, pc, priv (target-xml.ts, registers.ts) ----

  readRegister(h: Hart, n: number): string | undefined {
    return readRegister(registersOf(h), n);
  }
  writeRegister(h: Hart, n: number, hex: string): boolean {
    return writeRegister(registersOf(h), n, hex);
  }
  readRegisters(h: Hart): string {
    return readRegisters(registersOf(h));
  }
  writeRegisters(h: Hart, hex: string): boolean {
    return writeRegisters(registersOf(h), hex);
  }

  // ---- memory, as hart h sees it (memory.ts) ----

  /** The physical address hart h reaches at `va`, or DEBUG_UNMAPPED. */
  translate(h: Hart, va: bigint): number {
    return debugTranslate(h, ...addressPair(va));
  }

  readMemory(h: Hart, va: bigint, length: number): Uint8Array {
    return readDebugMemory(this.board.memory, this.breakpoints, (at) => this.translate(h, at), va, length);
  }

  writeMemory(h: Hart, va: bigint, bytes: Uint8Array): boolean {
    return writeDebugMemory(this.board.memory, this.breakpoints, (at) => this.translate(h, at), va, bytes);
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
