/*
 * The PLIC of QEMU's `virt` board (RISC-V PLIC spec 1.0.0; QEMU
 * hw/intc/sifive_plic.c with virt's layout: 7 priority levels, two contexts
 * per hart).
 *
 * Registers (offset; 32-bit only):
 *   0x000000 + 4s          priority[s]   source s = 1..sources-1; 3 bits (WARL:
 *                                        higher bits dropped); 0 = never interrupts
 *   0x001000 + 4w          pending[w]    bit s%32 of word s/32; read-only
 *   0x002000 + 0x80c + 4w  enable[c][w]  context c's enable bits for sources 32w..32w+31
 *   0x200000 + 0x1000c     threshold[c]  3 bits; only priority > threshold interrupts
 *   0x200004 + 0x1000c     claim[c]      read: claim; write: complete
 * Context c = 2h is hart h's M-mode (drives mip.MEIP), c = 2h+1 its S-mode
 * (drives mip.SEIP).
 *
 * Interrupt gateways are level-triggered, as QEMU's: a high line makes its
 * source pending unless the source is claimed (in service); a low line
 * withdraws a request that was not yet claimed (QEMU clears the pending bit
 * on a low level). A claim clears pending and marks the source in service; a
 * complete ends service, and a line still high makes it pending again.
 *
 * Differences from QEMU, on purpose: source 0 does not exist, so its priority
 * and enable bit read 0 and ignore writes (QEMU stores them). Like QEMU, a
 * complete ends service even if the source is not enabled for that context
 * (the spec would ignore it), and undefined registers read 0 (QEMU logs them
 * and returns 0); accesses that are not 4 bytes wide (QEMU faults) read all
 * ones and are ignored.
 */

import { allOnes, type AccessWidth, type DeviceKind, type InterruptSink, type IrqLine, type MmioDevice } from "./device.ts";
import { fdtNode, propEmpty, propPhandle, propStrings, propU32 } from "../machine/fdt.ts";
import { IRQ_M_EXT, IRQ_S_EXT } from "../machine/riscv.ts";
import { ConfigError } from "../errors.ts";

/** The register window (QEMU virt: VIRT_PLIC size for its harts). */
const PLIC_WINDOW = 0x60_0000;
/** Sources on the board including the non-existent source 0 (QEMU virt: 96, riscv,ndev 95). */
const PLIC_NUM_SOURCES = 96;

const PRIORITY_BASE = 0x000000;
const PENDING_BASE = 0x001000;
const ENABLE_BASE = 0x002000;
const ENABLE_STRIDE = 0x80;
const CONTEXT_BASE = 0x200000;
const CONTEXT_STRIDE = 0x1000;
const CONTEXT_THRESHOLD = 0x0;
const CONTEXT_CLAIM = 0x4;

const REG_WIDTH = 4;
/** QEMU virt: VIRT_PLIC_NUM_PRIORITIES = 7, so 3 bits of priority and threshold. */
const PRIORITY_MASK = 0x7;
/** PLIC spec: at most 1024 sources (0..1023). */
const MAX_SOURCES = 1024;
const BITS_PER_WORD = 32;
const CONTEXTS_PER_HART = 2;

export interface PlicOptions {
  harts: number;
  /** Number of sources including the non-existent source 0 (QEMU virt: 96). */
  sources: number;
  sink: InterruptSink;
}

export class Plic implements MmioDevice {
  readonly name = "plic";
  readonly size = PLIC_WINDOW;

  private readonly sources: number;
  private readonly contexts: number;
  private readonly words: number;
  private readonly sink: InterruptSink;

  private readonly priority: Uint8Array;
  private readonly threshold: Uint8Array;
  /** Per 32-source word: which sources exist (source 0 and those past `sources` do not). */
  private readonly validMask: Uint32Array;
  private readonly pending: Uint32Array;
  /** Sources claimed and not yet completed (in service). */
  private readonly claimed: Uint32Array;
  /** The level of each source's input line. */
  private readonly line: Uint32Array;
  /** enable[c * words + w]. */
  private readonly enable: Uint32Array;
  /** The level last driven for each context. */
  private readonly output: Uint8Array;
  private readonly lines = new Map<number, IrqLine>();

  constructor(opts: PlicOptions) {
    if (!Number.isInteger(opts.sources) || opts.sources < 2 || opts.sources > MAX_SOURCES) {
      throw new ConfigError(`Plic: sources must be 2..${MAX_SOURCES}, got ${opts.sources}`);
    }
    const contexts = opts.harts * CONTEXTS_PER_HART;
    // Every context's enable words and threshold/claim page must fit the window.
    if (!Number.isInteger(opts.harts) || opts.harts < 1 || CONTEXT_BASE + contexts * CONTEXT_STRIDE > PLIC_WINDOW) {
      throw new ConfigError(`Plic: unsupported number of harts ${opts.harts}`);
    }
    this.sources = opts.sources;
    this.contexts = contexts;
    this.words = Math.ceil(opts.sources / BITS_PER_WORD);
    this.sink = opts.sink;
    this.priority = new Uint8Array(this.sources);
    this.threshold = new Uint8Array(this.contexts);
    this.validMask = new Uint32Array(this.words);
    for (let s = 1; s < this.sources; s++) this.validMask[s >>> 5] |= bit(s);
    this.pending = new Uint32Array(this.words);
    this.claimed = new Uint32Array(this.words);
    this.line = new Uint32Array(this.words);
    this.enable = new Uint32Array(this.words * this.contexts);
    this.output = new Uint8Array(this.contexts);
  }

  /** The input wire of `source` (1..sources-1), level-triggered; the same object on every call. */
  irqLine(source: number): IrqLine {
    if (!Number.isInteger(source) || source < 1 || source >= this.sources) {
      throw new ConfigError(`Plic.irqLine: no source ${source} (sources 1..${this.sources - 1})`);
    }
    let wire = this.lines.get(source);
    if (!wire) {
      wire = { set: (level: boolean) => this.setLine(source, level) };
      this.lines.set(source, wire);
    }
    return wire;
  }

  /** System reset (QEMU sifive_plic_reset): priorities, thresholds, enables and service state cleared; lines keep their level. */
  reset(): void {
    this.priority.fill(0);
    this.threshold.fill(0);
    this.enable.fill(0);
    this.claimed.fill(0);
    for (let w = 0; w < this.words; w++) this.pending[w] = this.line[w];
    this.updateOutputs();
  }

  read(offset: number, width: AccessWidth): number {
    if (width !== REG_WIDTH || !Number.isInteger(offset) || offset % REG_WIDTH !== 0) return allOnes(width);
    if (offset >= PRIORITY_BASE && offset < PRIORITY_BASE + this.sources * REG_WIDTH) {
      return this.priority[(offset - PRIORITY_BASE) / REG_WIDTH];
    }
    if (offset >= PENDING_BASE && offset < PENDING_BASE + this.words * REG_WIDTH) {
      return this.pending[(offset - PENDING_BASE) / REG_WIDTH];
    }
    const enable = this.enableIndex(offset);
    if (enable >= 0) return this.enable[enable];
    const context = this.contextOf(offset);
    if (context >= 0) {
      const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (reg === CONTEXT_THRESHOLD) return this.threshold[context];
      if (reg === CONTEXT_CLAIM) return this.claim(context);
    }
    return 0; // QEMU: undefined PLIC registers read 0
  }

  write(offset: number, width: AccessWidth, value: number): void {
    if (width !== REG_WIDTH || !Number.isInteger(offset) || offset % REG_WIDTH !== 0) return;
    const word = value >>> 0;
    if (offset >= PRIORITY_BASE && offset < PRIORITY_BASE + this.sources * REG_WIDTH) {
      const source = (offset - PRIORITY_BASE) / REG_WIDTH;
      if (source === 0) return;
      this.priority[source] = word & PRIORITY_MASK;
      this.updateOutputs();
      return;
    }
    // The pending array is read-only: writes fall through to "ignored".
    const enable = this.enableIndex(offset);
    if (enable >= 0) {
      this.enable[enable] = word & this.validMask[enable % this.words];
      this.updateOutputs();
      return;
    }
    const context = this.contextOf(offset);
    if (context >= 0) {
      const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (reg === CONTEXT_THRESHOLD) {
        this.threshold[context] = word & PRIORITY_MASK;
        this.updateOutputs();
      } else if (reg === CONTEXT_CLAIM) {
        this.complete(word);
      }
    }
  }

  /** Index into `enable` for a register offset, or -1 (words past the last source are undefined). */
  private enableIndex(offset: number): number {
    if (offset < ENABLE_BASE || offset >= ENABLE_BASE + this.contexts * ENABLE_STRIDE) return -1;
    const context = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
    const w = ((offset - ENABLE_BASE) % ENABLE_STRIDE) / REG_WIDTH;
    return w < this.words ? context * this.words + w : -1;
  }

  /** Context whose threshold/claim page holds `offset`, or -1. */
  private contextOf(offset: number): number {
    if (offset < CONTEXT_BASE || offset >= CONTEXT_BASE + this.contexts * CONTEXT_STRIDE) return -1;
    return Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
  }

  private setLine(source: number, level: boolean): void {
    const w = source >>> 5;
    const b = bit(source);
    if (level) {
      this.line[w] |= b;
      if (!(this.claimed[w] & b)) this.pending[w] |= b;
    } else {
      this.line[w] &= ~b;
      this.pending[w] &= ~b;
    }
    this.updateOutputs();
  }

  /** Claim (PLIC spec 1.0.0 §7): the best deliverable source, now in service; 0 if none. */
  private claim(context: number): number {
    const source = this.best(context);
    if (source !== 0) {
      const w = source >>> 5;
      this.pending[w] &= ~bit(source);
      this.claimed[w] |= bit(source);
      this.updateOutputs();
    }
    return source;
  }

  /** Complete: ends service of `source`; a line still high is a new request. Bad ids are ignored. */
  private complete(source: number): void {
    if (source < 1 || source >= this.sources) return;
    const w = source >>> 5;
    const b = bit(source);
    if (!(this.claimed[w] & b)) return;
    this.claimed[w] &= ~b;
    if (this.line[w] & b) this.pending[w] |= b;
    this.updateOutputs();
  }

  /**
   * The pending, enabled, not-in-service source with the highest priority
   * above the context's threshold; the lowest id wins a tie; 0 if none.
   */
  private best(context: number): number {
    let bestSource = 0;
    let bestPriority = this.threshold[context];
    const base = context * this.words;
    for (let w = 0; w < this.words; w++) {
      let candidates = this.pending[w] & ~this.claimed[w] & this.enable[base + w];
      while (candidates !== 0) {
        const low = candidates & -candidates;
        const source = w * BITS_PER_WORD + (31 - Math.clz32(low));
        candidates ^= low;
        const priority = this.priority[source];
        if (priority > bestPriority) {
          bestPriority = priority;
          bestSource = source;
        }
      }
    }
    return bestSource;
  }

  /** Drives each context's MEIP/SEIP from whether it has a deliverable source, on change only. */
  private updateOutputs(): void {
    for (let c = 0; c < this.contexts; c++) {
      const level = this.best(c) !== 0 ? 1 : 0;
      if (this.output[c] === level) continue;
      this.output[c] = level;
      const hart = Math.floor(c / CONTEXTS_PER_HART);
      this.sink.setPending(hart, c % CONTEXTS_PER_HART === 0 ? IRQ_M_EXT : IRQ_S_EXT, level !== 0);
    }
  }
}

/** The bit of `source` within its 32-source word. */
function bit(source: number): number {
  return 1 << (source & (BITS_PER_WORD - 1));
}

/** The PLIC as a board device: drives every hart's MEIP and SEIP, and takes the other devices' lines. */
export const PLIC: DeviceKind<Plic> = {
  name: "plic",
  window: PLIC_WINDOW,
  wiring: "harts",
  dt: {
    node: "plic",
    phandle: true,
    build: (c) =>
      fdtNode(c.name, [
        propPhandle(c.phandle),
        // riscv,ndev counts sources 1..N (source 0 is "no interrupt"), so the
        // board's 96 sources make 95. QEMU 7.2 writes 96 here, one more than
        // its PLIC has; a driver probing that phantom source would hit a hole.
        propU32("riscv,ndev", PLIC_NUM_SOURCES - 1),
        c.reg,
        c.hartInterrupts([IRQ_M_EXT, IRQ_S_EXT]),
        propEmpty("interrupt-controller"),
        propStrings("compatible", ["sifive,plic-1.0.0", "riscv,plic0"]),
        propU32("#address-cells", 0),
        propU32("#interrupt-cells", 1),
      ]),
  },
  create(ctx) {
    if (ctx.harts === undefined) throw new ConfigError("plic: needs the harts' interrupt lines");
    return new Plic({ harts: ctx.harts.count, sources: PLIC_NUM_SOURCES, sink: ctx.harts });
  },
  reset: (d) => d.reset(),
  irqSource: (d, source) => d.irqLine(source),
};
