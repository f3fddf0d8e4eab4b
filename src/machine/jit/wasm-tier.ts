/*
 * The wasm block tier of one PhysMem (wasm-compiler.ts): compiles blocks
 * into modules that import RAM's memory and PhysMem's code-invalidation
 * hook, keeps them by their bytes (the same code at the same page offsets
 * compiles once, wherever it is mapped), and reads the pc cell a block
 * leaves its next pc in.
 */

import type { Insn } from "./block-compiler.ts";
import { PC_CELL_OFFSET, type WasmArena } from "./wasm-arena.ts";
import { wasmBlockModule, type WasmBlockFn } from "./wasm-compiler.ts";

/** Distinct modules kept; the cache starts over when full. */
const MODULE_CACHE_LIMIT = 8192;
const WASM_PAGE = 65536;

export class WasmTier {
  private readonly cache = new Map<string, WasmBlockFn>();
  private readonly imports: WebAssembly.Imports;
  private readonly pcCells: Float64Array;
  private readonly memoryPages: number;
  /** Modules compiled so far (for tests and --stats). */
  compiled = 0;

  /** `codeMap`: the byte address of RAM's codeMap in `memory`; `invalidate`: PhysMem.invalidateCode. */
  constructor(memory: WebAssembly.Memory, readonly arena: WasmArena, private readonly codeMap: number, invalidate: (off: number, width: number) => void) {
    this.imports = { e: { mem: memory, inv: invalidate } };
    this.pcCells = new Float64Array(memory.buffer);
    this.memoryPages = memory.buffer.byteLength / WASM_PAGE;
  }

  /** The function for block `insns` entered at page offset `entry` and ending at `end`. */
  compile(insns: readonly Insn[], entry: number, end: number): WasmBlockFn {
    const bytes = wasmBlockModule(insns, entry, end, this.codeMap, this.memoryPages);
    const key = String.fromCharCode(...bytes);
    let fn = this.cache.get(key);
    if (fn === undefined) {
      if (this.cache.size >= MODULE_CACHE_LIMIT) this.cache.clear();
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), this.imports);
      fn = instance.exports.b as WasmBlockFn;
      this.cache.set(key, fn);
      this.compiled++;
    }
    return fn;
  }

  /** The pc a block left for the hart whose register file is at byte `regs`. */
  nextPc(regs: number): number {
    return this.pcCells[(regs + PC_CELL_OFFSET) >>> 3];
  }
}
