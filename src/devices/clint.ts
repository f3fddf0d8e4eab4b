/*
 * The CLINT of QEMU's `virt` board: a machine-level software-interrupt
 * (MSWI) block and a machine timer (MTIMER), laid out as SiFive's CLINT and
 * modelled after QEMU's hw/intc/riscv_aclint.c.
 *
 * Registers (offset; all 32-bit, a hart's 8-byte access arrives as two
 * 4-byte halves, low half first):
 *   0x0000 + 4h  msip[h]      bit 0 drives hart h's mip.MSIP; other bits read 0
 *   0x4000 + 8h  mtimecmp[h]  64-bit compare value (lo at +0, hi at +4);
 *                             mip.MTIP of hart h = (mtime >= mtimecmp[h])
 *   0xbff8       mtime        64-bit, 10 MHz; writable (lo at +0, hi at +4)
 * Undefined offsets read 0 and ignore writes, as QEMU does (it only logs
 * them). Accesses that are not 4 bytes wide (QEMU would fault) read all ones
 * and are ignored.
 *
 * Reset value of mtimecmp: 0, as QEMU 7.2 (measured: `-bios none`, a
 * bare-metal probe reads mtimecmp = 0 and mip.MTIP = 1 at its first
 * instruction). So MTIP is pending from power-on until firmware writes
 * mtimecmp, exactly as under QEMU; the privileged spec leaves it unspecified.
 *
 * mtime is the board clock plus an offset that a guest write to mtime moves,
 * so that time carries on from the written value (QEMU's time_delta). The
 * offset and the compare values are kept as exact 32-bit halves, so all 64
 * bits behave; the `Clock` view (`mtime()`) is a number and exact below 2^53.
 */

import { allOnes, type AccessWidth, type Clock, type DeviceKind, type InterruptSink, type MmioDevice } from "./device.ts";
import { fdtNode, propStrings } from "../machine/fdt.ts";
import { IRQ_M_SOFT, IRQ_M_TIMER } from "../machine/riscv.ts";
import { ConfigError } from "../errors.ts";

/** The register window (QEMU virt: VIRT_CLINT size). */
const CLINT_WINDOW = 0x1_0000;

const MSIP_BASE = 0x0000;
const MSIP_STRIDE = 4;
const MTIMECMP_BASE = 0x4000;
const MTIMECMP_STRIDE = 8;
const MTIME = 0xbff8;
const HI_HALF = 4;

const REG_WIDTH = 4;
const MSIP_BIT = 0x1;

const TWO_32 = 2 ** 32;
/** The most harts whose registers fit between MSIP_BASE and MTIMECMP_BASE (QEMU: 4095). */
const MAX_HARTS = (MTIMECMP_BASE - MSIP_BASE) / MSIP_STRIDE - 1;

export interface ClintOptions {
  harts: number;
  /** The board's time base (10 MHz ticks from power-on). */
  clock: Clock;
  sink: InterruptSink;
  /**
   * Called with the value when a guest has read mtime (after MTIP was
   * re-evaluated for it), for whatever else compares against time: the
   * board's Sstc comparators.
   */
  onTimeRead?: (mtime: number) => void;
}

export class Clint implements MmioDevice, Clock {
  readonly name = "clint";
  readonly size = CLINT_WINDOW;

  private readonly harts: number;
  private readonly clock: Clock;
  private readonly sink: InterruptSink;
  private readonly onTimeRead: ((mtime: number) => void) | undefined;

  private readonly msip: Uint8Array;
  private readonly cmpLo: Uint32Array;
  private readonly cmpHi: Uint32Array;
  /** The level last driven on each hart's MTIP. */
  private readonly mtip: Uint8Array;

  /** mtime - board clock, modulo 2^64, as two unsigned halves. */
  private offsetLo = 0;
  private offsetHi = 0;
  /** mtime as last sampled by sample(): halves of the 64-bit value. */
  private nowLo = 0;
  private nowHi = 0;
  /** High half of mtime latched by a low-half read, for the following high-half read. */
  private latchedHi = 0;
  private latched = false;

  constructor(opts: ClintOptions) {
    if (!Number.isInteger(opts.harts) || opts.harts < 1 || opts.harts > MAX_HARTS) {
      throw new RangeError(`Clint: harts must be 1..${MAX_HARTS}, got ${opts.harts}`);
    }
    this.harts = opts.harts;
    this.clock = opts.clock;
    this.sink = opts.sink;
    this.onTimeRead = opts.onTimeRead;
    this.msip = new Uint8Array(this.harts);
    this.cmpLo = new Uint32Array(this.harts);
    this.cmpHi = new Uint32Array(this.harts);
    this.mtip = new Uint8Array(this.harts);
    this.update();
  }

  /** mtime as the guest sees it: board clock plus the offset its writes set. */
  mtime(): number {
    this.sample();
    return this.nowHi * TWO_32 + this.nowLo;
  }

  /** mtimecmp of hart h, as a number (inexact above 2^53; all ones is about 1.8e19). */
  mtimecmp(hart: number): number {
    this.checkHart(hart);
    return this.cmpHi[hart] * TWO_32 + this.cmpLo[hart];
  }

  /**
   * Recomputes every hart's MTIP from one fresh reading of mtime, which it
   * returns; the board calls it between instruction slices.
   */
  update(): number {
    this.sample();
    for (let h = 0; h < this.harts; h++) this.updateHart(h);
    return this.nowHi * TWO_32 + this.nowLo;
  }

  /**
   * The earliest mtimecmp, in guest mtime units (compare with mtime(), not
   * the board clock), among harts whose MTIP is low; Infinity when there is
   * none or when it lies beyond 2^53 ticks.
   */
  nextDeadline(): number {
    let best = Infinity;
    for (let h = 0; h < this.harts; h++) {
      if (this.mtip[h]) continue;
      const cmp = this.cmpHi[h] * TWO_32 + this.cmpLo[h];
      if (cmp < best) best = cmp;
    }
    return best > Number.MAX_SAFE_INTEGER ? Infinity : best;
  }

  /** System reset: msip cleared and mtime back to 0 (ACLINT spec); mtimecmp keeps its value, as in QEMU. */
  reset(): void {
    for (let h = 0; h < this.harts; h++) this.writeMsip(h, 0);
    this.latched = false;
    this.setMtime(0, 0);
  }

  read(offset: number, width: AccessWidth): number {
    if (width !== REG_WIDTH || !Number.isInteger(offset)) return allOnes(width);
    const msipHart = this.msipHart(offset);
    if (msipHart >= 0) return this.msip[msipHart];
    const cmpHart = this.mtimecmpHart(offset);
    if (cmpHart >= 0) {
      return offset & HI_HALF ? this.cmpHi[cmpHart] : this.cmpLo[cmpHart];
    }
    if (offset === MTIME) return this.readMtimeLo();
    if (offset === MTIME + HI_HALF) return this.readMtimeHi();
    return 0; // QEMU: undefined CLINT registers read 0
  }

  write(offset: number, width: AccessWidth, value: number): void {
    if (width !== REG_WIDTH || !Number.isInteger(offset)) return;
    const word = value >>> 0;
    const msipHart = this.msipHart(offset);
    if (msipHart >= 0) {
      this.writeMsip(msipHart, word & MSIP_BIT);
      return;
    }
    const cmpHart = this.mtimecmpHart(offset);
    if (cmpHart >= 0) {
      if (offset & HI_HALF) this.cmpHi[cmpHart] = word;
      else this.cmpLo[cmpHart] = word;
      this.sample();
      this.updateHart(cmpHart);
      return;
    }
    if (offset === MTIME || offset === MTIME + HI_HALF) {
      this.sample();
      if (offset === MTIME) this.setMtime(this.nowHi, word);
      else this.setMtime(word, this.nowLo);
    }
    // Anything else: ignored, as QEMU does.
  }

  /** Hart whose msip register is at `offset`, or -1. */
  private msipHart(offset: number): number {
    const index = (offset - MSIP_BASE) / MSIP_STRIDE;
    return Number.isInteger(index) && index >= 0 && index < this.harts ? index : -1;
  }

  /** Hart whose mtimecmp (either half) is at `offset`, or -1. */
  private mtimecmpHart(offset: number): number {
    if (offset % HI_HALF !== 0) return -1;
    const index = Math.floor((offset - MTIMECMP_BASE) / MTIMECMP_STRIDE);
    return offset >= MTIMECMP_BASE && index < this.harts ? index : -1;
  }

  private writeMsip(hart: number, bit: number): void {
    if (this.msip[hart] === bit) return;
    this.msip[hart] = bit;
    this.sink.setPending(hart, IRQ_M_SOFT, bit !== 0);
  }

  /**
   * A low-half read latches the high half so that lo-then-hi reads never
   * tear. A guest that reads mtime at or past a hart's mtimecmp must find
   * MTIP raised, as on hardware where the comparator runs on its own:
   * between the board's periodic updates the read itself re-evaluates them
   * (a polling loop would otherwise wait out a whole instruction slice,
   * which on an MMIO-bound loop is longer than a guest's timeout).
   */
  private readMtimeLo(): number {
    this.timeRead();
    this.latchedHi = this.nowHi;
    this.latched = true;
    return this.nowLo;
  }

  private readMtimeHi(): number {
    if (this.latched) {
      this.latched = false;
      return this.latchedHi;
    }
    this.timeRead();
    return this.nowHi;
  }

  /** A guest read of mtime: sample it and bring every comparator up to date with that sample. */
  private timeRead(): void {
    const now = this.update();
    this.onTimeRead?.(now);
  }

  /** Makes mtime read hi:lo now and count on from there; MTIP follows at once (QEMU rechecks every hart). */
  private setMtime(hi: number, lo: number): void {
    const board = this.clock.mtime();
    const boardLo = board >>> 0;
    const boardHi = Math.floor(board / TWO_32);
    const diffLo = lo - boardLo;
    const borrow = diffLo < 0 ? 1 : 0;
    this.offsetLo = diffLo + borrow * TWO_32;
    this.offsetHi = mod32(hi - boardHi - borrow);
    this.latched = false;
    this.update();
  }

  /** Reads the board clock once and sets nowHi:nowLo = clock + offset (mod 2^64). */
  private sample(): void {
    const board = this.clock.mtime();
    const sumLo = (board >>> 0) + this.offsetLo;
    const carry = sumLo >= TWO_32 ? 1 : 0;
    this.nowLo = sumLo - carry * TWO_32;
    this.nowHi = mod32(Math.floor(board / TWO_32) + this.offsetHi + carry);
  }

  /** Drives hart h's MTIP from the last sample, only when it changes. */
  private updateHart(hart: number): void {
    const hi = this.cmpHi[hart];
    const level = this.nowHi > hi || (this.nowHi === hi && this.nowLo >= this.cmpLo[hart]) ? 1 : 0;
    if (this.mtip[hart] === level) return;
    this.mtip[hart] = level;
    this.sink.setPending(hart, IRQ_M_TIMER, level !== 0);
  }

  private checkHart(hart: number): void {
    if (!Number.isInteger(hart) || hart < 0 || hart >= this.harts) {
      throw new RangeError(`Clint.mtimecmp: no hart ${hart} (harts: ${this.harts})`);
    }
  }
}

/** x modulo 2^32, for integers of either sign below 2^53. */
function mod32(x: number): number {
  return ((x % TWO_32) + TWO_32) % TWO_32;
}

/** The CLINT as a board device: drives every hart's MSIP and MTIP; the device tree's sifive,clint0. */
export const CLINT: DeviceKind<Clint> = {
  name: "clint",
  window: CLINT_WINDOW,
  wiring: "harts",
  dt: {
    node: "clint",
    build: (c) => fdtNode(c.name, [c.hartInterrupts([IRQ_M_SOFT, IRQ_M_TIMER]), c.reg, propStrings("compatible", ["sifive,clint0", "riscv,clint0"])]),
  },
  create(ctx, host) {
    if (ctx.harts === undefined) throw new ConfigError("clint: needs the harts' interrupt lines");
    return new Clint({ harts: ctx.harts.count, clock: ctx.clock, sink: ctx.harts, onTimeRead: host.timeRead?.bind(host) });
  },
  reset: (d) => d.reset(),
};
