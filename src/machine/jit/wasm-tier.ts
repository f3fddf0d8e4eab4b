/*
 * The wasm block tier of one PhysMem (wasm-compiler.ts). A block that gets
 * hot is queued, not compiled at once: the queue becomes one module of many
 * functions, because V8's cost is per module (~0.3 ms to compile and
 * instantiate one, however small) far more than per function. A queued
 * block keeps counting visits from -PENDING_WAIT in its block word, so a
 * hot loop waits at most that many more visits: when one reaches -1 again,
 * the queue is compiled whatever its length.
 *
 * Each queued block becomes a region (wasm-region.ts): it and the blocks of
 * its page it reaches, one wasm function. Regions are scanned when the queue
 * is compiled, from the page's decoded slots as they are then (a store may
 * have cleared some meanwhile; a page dropped meanwhile is skipped), so what
 * runs is always what RAM holds.
 */

import { PAGE_SIZE } from "../memlayout.ts";
import { entryWord } from "../decoded-page.ts";
import { scanBlock } from "./block-compiler.ts";
import type { BlockCache } from "./block-cache.ts";
import { PC_CELL_OFFSET, type WasmArena } from "./wasm-arena.ts";
import { scanRegion } from "./wasm-region.ts";
import { WASM_OPS, wasmBlockFunc, wasmBlockModule, type WasmBlockFn } from "./wasm-compiler.ts";
import type { FuncSpec } from "./wasm-encoder.ts";
import { dispatchModule, type DispatchFn } from "./wasm-dispatch.ts";

/**
 * The compile threshold where the wasm tier is on (PhysMem's default then;
 * decoded-page.ts's HOT_THRESHOLD, 16384, stays the JS tier's). A wasm block
 * costs far less to compile than a JS one (batched, off the main thread)
 * and runs at full speed from its first call, so blocks pay off sooner.
 * Measured on Debian's Linux 6.12 to /init, main-thread CPU seconds (a host
 * at load 12-15, so only the ranking holds): 16384: 10.0-10.7; 4096: 8.5;
 * 2048: 8.5-9.0; 1024: 9.1-10.4; 512: 10.3. Instructions left to the
 * interpreter: 267 M at 16384, 112 M at 2048, 66 M at 512 of ~1.3 G.
 * With regions (user CPU of the whole process, alternating, load 14-18):
 * 4096: 7.5-7.9 s; 2048: 7.9-8.4 s.
 */
export const WASM_HOT_THRESHOLD = 4096;

/** Blocks compiled together in one module. */
const BATCH = 16;
/** Visits a queued block waits before it has the queue compiled (at most half the hot threshold). */
const PENDING_WAIT = 2048;
const WASM_PAGE = 65536;
/** The function table's first size; it doubles as block ids grow. */
const TABLE_START = 1024;

/** What the tier needs of RAM (PhysMem). */
interface TierMemory {
  readonly decoded: readonly (Int32Array | undefined)[];
  readonly u16: Uint16Array;
  readonly blocks: BlockCache;
}

interface Pending {
  readonly page: number;
  readonly dec: Int32Array;
  readonly po: number;
}

/** A region compiled into a module: where it goes, and the decoded words of each of its blocks as compiled. */
interface Placed extends Pending {
  /** The page offsets the region's blocks span, lowest start to highest end. */
  readonly lo: number;
  readonly hi: number;
  /** Instructions in the entry block (the least a call runs). */
  readonly len: number;
  readonly ranges: readonly { readonly from: number; readonly words: Int32Array }[];
}

export class WasmTier {
  private readonly imports: WebAssembly.Imports;
  private readonly pcCells: Float64Array;
  private readonly memoryPages: number;
  private readonly pending: Pending[] = [];
  /** Blocks in modules being compiled in the background. */
  private readonly compiling: Placed[] = [];
  /**
   * Whether full queues compile on V8's background threads (WebAssembly.compile):
   * for a runner that yields to the event loop (the native board's), where
   * the modules are installed; a caller that never yields leaves it off.
   */
  background = false;
  private readonly wait: number;
  /** The block word of a slot the interpreter has not reached yet (PhysMem's fresh decoded page). */
  private readonly untouched: number;
  /** What a slot's counter starts again from: reached once (never 0, which would turn the slot's compiling off). */
  private readonly restart: number;
  /** Wasm blocks by block id (BlockCache's), for the dispatcher's call_indirect. */
  private readonly table: WebAssembly.Table;
  /** Runs a wasm block and those it chains to (wasm-dispatch.ts); compiled with the first module, so a short run never pays for it. */
  run: DispatchFn = notCompiled;
  private readonly memory: WebAssembly.Memory;
  /** Modules compiled so far, the regions (functions) in them and those regions' blocks (for tests and --stats). */
  modules = 0;
  regions = 0;
  regionBlocks = 0;

  /** `codeMap`: the byte address of RAM's codeMap in `memory`; `invalidate`: PhysMem.invalidateCode. */
  constructor(
    memory: WebAssembly.Memory,
    readonly arena: WasmArena,
    private readonly mem: TierMemory,
    private readonly codeMap: number,
    invalidate: (off: number, width: number) => void,
    hotThreshold: number,
  ) {
    this.wait = Math.max(1, Math.min(PENDING_WAIT, hotThreshold >> 1));
    this.untouched = -hotThreshold;
    this.restart = Math.min(-1, 1 - hotThreshold);
    this.imports = { e: { mem: memory, inv: invalidate } };
    this.pcCells = new Float64Array(memory.buffer);
    this.memoryPages = memory.buffer.byteLength / WASM_PAGE;
    this.table = new WebAssembly.Table({ element: "anyfunc", initial: TABLE_START });
    this.memory = memory;
    mem.blocks.onWasmRelease = (page, start) => arena.setMapEntry(page, start, 0);
  }

  /**
   * The block at `po` of RAM page `page` (decoded array `dec`) is hot: its
   * id when compiled now, 0 when queued or compiling (the interpreter runs
   * it meanwhile), -1 when its first instruction is not this tier's (the JS
   * tier's then).
   */
  request(page: number, dec: Int32Array, po: number): number {
    const at = entryWord(po);
    const same = (p: Pending): boolean => p.dec === dec && p.po === po;
    if (this.pending.some(same)) {
      // Waited its PENDING_WAIT visits in the queue: compile the queue now.
      this.flush(this.background);
      return dec[at] > 0 ? dec[at] : 0;
    }
    if (this.compiling.some(same)) {
      dec[at] = -this.wait; // its module lands at the next yield to the event loop
      return 0;
    }
    const { insns } = scanBlock(dec, this.mem.u16, page * PAGE_SIZE, po, WASM_OPS);
    if (insns.length === 0) return -1;
    // A later slot of this block that a jump also leads to got hot in the same passes: set those counters
    // back (not to `untouched`: they were reached), or each of them would be queued as an entry of its own,
    // and compiled again and again as a suffix of this block (and its region).
    for (let k = 1; k < insns.length; k++) {
      const w = entryWord(insns[k].po);
      if (dec[w] < 0) dec[w] = this.restart;
    }
    this.pending.push({ page, dec, po });
    dec[at] = -this.wait;
    if (this.pending.length < BATCH) return 0;
    this.flush(this.background);
    return dec[at] > 0 ? dec[at] : 0;
  }

  /**
   * Compiles the queue into one module and registers its blocks: at once,
   * or (`background`) on V8's compile threads, registering them when the
   * module is ready, if their code is unchanged by then.
   */
  private flush(background: boolean): void {
    const mem = this.mem;
    const funcs: FuncSpec[] = [];
    const placed: Placed[] = [];
    // Entries made regions in this batch, and queued entries a region of this batch took in (page * PAGE_SIZE + po).
    const made = new Set<number>();
    const covered = new Set<number>();
    for (const { page, dec, po } of this.pending) {
      // Dropped meanwhile (a new decoded array), no longer waiting (the tier switched off), or taken in.
      if (mem.decoded[page] !== dec || dec[entryWord(po)] >= 0 || covered.has(page * PAGE_SIZE + po)) continue;
      // Blocks the interpreter reached are taken in, queued ones too; a block that is a region's entry already
      // (compiled, compiling, or made in this batch) ends this region: the dispatcher chains to it, and no
      // block is compiled twice over.
      const queued = (t: number): boolean => this.pending.some((p) => p.dec === dec && p.po === t);
      const follow = (t: number): boolean =>
        (dec[entryWord(t)] !== this.untouched || queued(t)) &&
        !(dec[entryWord(t)] > 0 || made.has(page * PAGE_SIZE + t) || this.compiling.some((p) => p.dec === dec && p.po === t));
      const blocks = scanRegion(dec, mem.u16, page * PAGE_SIZE, po, WASM_OPS, follow);
      made.add(page * PAGE_SIZE + po);
      for (let j = 1; j < blocks.length; j++) {
        const at = entryWord(blocks[j].start);
        if (!queued(blocks[j].start)) continue;
        // Runs inside this region from now on; counts again from the start if it is hot from elsewhere too.
        covered.add(page * PAGE_SIZE + blocks[j].start);
        if (dec[at] < 0) dec[at] = this.restart;
      }
      if (blocks.length === 0) {
        dec[entryWord(po)] = -1; // no longer this tier's: the next visit offers it to the JS tier
        continue;
      }
      funcs.push(wasmBlockFunc(blocks, this.codeMap, `b${funcs.length}`));
      this.regions++;
      this.regionBlocks += blocks.length;
      placed.push({
        page, dec, po,
        lo: Math.min(...blocks.map((b) => b.start)),
        hi: Math.max(...blocks.map((b) => b.end)),
        len: blocks[0].insns.length,
        ranges: blocks.map((b) => ({ from: b.start, words: dec.slice(b.start, b.end) })),
      });
    }
    this.pending.length = 0;
    if (funcs.length === 0) return;
    const bytes = wasmBlockModule(funcs, this.memoryPages);
    this.modules++;
    if (!background) {
      this.install(new WebAssembly.Module(bytes), placed);
      return;
    }
    this.compiling.push(...placed);
    void WebAssembly.compile(bytes).then((module) => {
      for (const p of placed) this.compiling.splice(this.compiling.indexOf(p), 1);
      this.install(module, placed);
    });
  }

  private install(module: WebAssembly.Module, placed: readonly Placed[]): void {
    if (this.run === notCompiled) {
      const dispatcher = new WebAssembly.Module(dispatchModule(this.memoryPages, TABLE_START, this.arena.pageMapBase));
      this.run = new WebAssembly.Instance(dispatcher, { e: { mem: this.memory, tab: this.table } }).exports.run as DispatchFn;
    }
    const exports = new WebAssembly.Instance(module, this.imports).exports;
    const mem = this.mem;
    placed.forEach((p, k) => {
      // Compiled in the background: the page may have been dropped, the block compiled by the other
      // tier, or its code rewritten (a store clears the decoded words it overlaps) since it was scanned.
      if (mem.decoded[p.page] !== p.dec || p.dec[entryWord(p.po)] >= 0) return;
      for (const { from, words } of p.ranges) for (let w = 0; w < words.length; w++) if (p.dec[from + w] !== words[w]) return;
      const fn = exports[`b${k}`] as WasmBlockFn;
      const id = mem.blocks.add(p.page, p.dec, p.po, p.hi, p.len, undefined, fn, p.lo);
      if (id >= this.table.length) this.table.grow(Math.max(id + 1 - this.table.length, this.table.length));
      this.table.set(id, fn);
      this.arena.setMapEntry(p.page, p.po, id);
    });
  }

  /** The pc a block left for the hart whose register file is at byte `regs`. */
  nextPc(regs: number): number {
    return this.pcCells[(regs + PC_CELL_OFFSET) >>> 3];
  }
}

/** The dispatcher before any block exists (enter.ts calls it only for a wasm block). */
function notCompiled(): number {
  throw new Error("wasm tier: the dispatcher ran before any block was compiled");
}
