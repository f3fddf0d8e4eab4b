/*
 * The wasm block tier of one PhysMem (wasm-compiler.ts). A block that gets
 * hot is queued, not compiled at once: the queue becomes one module of many
 * functions, because V8's cost is per module (~0.3 ms to compile and
 * instantiate one, however small) far more than per function. A queued
 * block keeps counting visits from -PENDING_WAIT in its block word, so a
 * hot loop waits at most that many more visits: when one reaches -1 again,
 * the queue is compiled whatever its length.
 *
 * Blocks are scanned when the queue is compiled, from the page's decoded
 * slots as they are then (a store may have cleared some meanwhile; a page
 * dropped meanwhile is skipped), so what runs is always what RAM holds.
 */

import { PAGE_SIZE } from "../memlayout.ts";
import { entryWord } from "../decoded-page.ts";
import { scanBlock } from "./block-compiler.ts";
import type { BlockCache } from "./block-cache.ts";
import { PC_CELL_OFFSET, type WasmArena } from "./wasm-arena.ts";
import { WASM_OPS, wasmBlockFunc, wasmBlockModule, type WasmBlockFn } from "./wasm-compiler.ts";
import type { FuncSpec } from "./wasm-encoder.ts";
import { dispatchModule, type DispatchFn } from "./wasm-dispatch.ts";

/** Blocks compiled together in one module. */
const BATCH = 16;
/** Visits a queued block waits before it has the queue compiled (at most the hot threshold). */
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

export class WasmTier {
  private readonly imports: WebAssembly.Imports;
  private readonly pcCells: Float64Array;
  private readonly memoryPages: number;
  private readonly pending: Pending[] = [];
  private readonly wait: number;
  /** Wasm blocks by block id (BlockCache's), for the dispatcher's call_indirect. */
  private readonly table: WebAssembly.Table;
  /** Runs a wasm block and those it chains to (wasm-dispatch.ts). */
  readonly run: DispatchFn;
  /** Modules compiled so far (for tests and --stats). */
  modules = 0;

  /** `codeMap`: the byte address of RAM's codeMap in `memory`; `invalidate`: PhysMem.invalidateCode. */
  constructor(
    memory: WebAssembly.Memory,
    readonly arena: WasmArena,
    private readonly mem: TierMemory,
    private readonly codeMap: number,
    invalidate: (off: number, width: number) => void,
    hotThreshold: number,
  ) {
    this.wait = Math.min(PENDING_WAIT, hotThreshold);
    this.imports = { e: { mem: memory, inv: invalidate } };
    this.pcCells = new Float64Array(memory.buffer);
    this.memoryPages = memory.buffer.byteLength / WASM_PAGE;
    this.table = new WebAssembly.Table({ element: "anyfunc", initial: TABLE_START });
    const dispatcher = new WebAssembly.Instance(new WebAssembly.Module(dispatchModule(this.memoryPages, TABLE_START)), { e: { mem: memory, tab: this.table } });
    this.run = dispatcher.exports.run as DispatchFn;
    mem.blocks.onWasmRelease = (page, start) => arena.setMapEntry(page, start, 0);
  }

  /**
   * The block at `po` of RAM page `page` (decoded array `dec`) is hot: its
   * id when compiled now, 0 when queued (the interpreter runs it meanwhile),
   * -1 when its first instruction is not this tier's (the JS tier's then).
   */
  request(page: number, dec: Int32Array, po: number): number {
    const at = entryWord(po);
    if (this.pending.some((p) => p.dec === dec && p.po === po)) {
      this.flush();
      return dec[at] > 0 ? dec[at] : 0;
    }
    if (scanBlock(dec, this.mem.u16, page * PAGE_SIZE, po, WASM_OPS).insns.length === 0) return -1;
    this.pending.push({ page, dec, po });
    dec[at] = -this.wait;
    if (this.pending.length < BATCH) return 0;
    this.flush();
    return dec[at] > 0 ? dec[at] : 0;
  }

  /** Compiles the queue into one module and registers its blocks. */
  flush(): void {
    const mem = this.mem;
    const funcs: FuncSpec[] = [];
    const placed: { page: number; dec: Int32Array; po: number; end: number; len: number }[] = [];
    for (const { page, dec, po } of this.pending) {
      // Dropped meanwhile (a new decoded array), or no longer waiting (the tier switched off).
      if (mem.decoded[page] !== dec || dec[entryWord(po)] >= 0) continue;
      const { insns, end } = scanBlock(dec, mem.u16, page * PAGE_SIZE, po, WASM_OPS);
      if (insns.length === 0) {
        dec[entryWord(po)] = -1; // no longer this tier's: the next visit offers it to the JS tier
        continue;
      }
      funcs.push(wasmBlockFunc(insns, po, end, this.codeMap, `b${funcs.length}`));
      placed.push({ page, dec, po, end, len: insns.length });
    }
    this.pending.length = 0;
    if (funcs.length === 0) return;
    const module = new WebAssembly.Module(wasmBlockModule(funcs, this.memoryPages));
    const exports = new WebAssembly.Instance(module, this.imports).exports;
    this.modules++;
    placed.forEach((p, k) => {
      const fn = exports[`b${k}`] as WasmBlockFn;
      const id = mem.blocks.add(p.page, p.dec, p.po, p.end, p.len, undefined, fn);
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
