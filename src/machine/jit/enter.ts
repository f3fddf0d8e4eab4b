/*
 * The interpreter's door into the block tier. runSlice calls enterBlock when
 * the block word of the slot it is about to execute is not 0 (see
 * ../decoded-page.ts): it counts the slot towards hotness, compiles the block
 * when the slot is hot, and runs a compiled block when it fits in what is
 * left of the slice — blocks never overshoot the budget. When a block ends
 * at another compiled block of the same page, that one runs from here too,
 * without a round trip through runSlice.
 */

import { PAGE_SIZE } from "../memlayout.ts";
import { entryWord } from "../decoded-page.ts";
import type { BlockCache } from "./block-cache.ts";
import { compileBlock } from "./block-compiler.ts";
import type { BlockHost, BlockMemory } from "./block-host.ts";
import { BLOCK_RUNTIME } from "./block-runtime.ts";
import type { WasmTier } from "./wasm-tier.ts";

/** What the door needs of the hart besides what its blocks use (the Hart implements it). */
export interface JitHost extends BlockHost {
  /** The tier's switch (HartOptions.jit). */
  readonly jit: boolean;
  readonly env: { readonly mem: JitMemory };
  /** The fetch page the interpreter runs from, and the RAM offset of its frame. */
  readonly fetchDecoded: Int32Array;
  readonly fetchFrame: number;
}

/** RAM as the door sees it (PhysMem): its decoded pages and the blocks compiled from them. */
interface JitMemory extends BlockMemory {
  readonly decoded: readonly (Int32Array | undefined)[];
  readonly blocks: BlockCache;
  /** The wasm block tier, where RAM has an arena for it (physmem.ts). */
  readonly wasm: WasmTier | undefined;
}

/**
 * Called with `b` = dec[entryWord(po)] (not 0), for the slot at byte offset
 * `po` of the current fetch page (virtual address `base`). Returns 0 when the
 * interpreter should execute the instruction itself; otherwise what the
 * blocks returned: the instructions they executed (hart.pc = next pc), or
 * minus that count after a trap (hart.pc = where the trap went).
 */
export function enterBlock(h: JitHost, dec: Int32Array, b: number, base: number, po: number, left: number): number {
  // Counting a visit is all most calls do (cold code): kept this small so V8 inlines it into runSlice.
  if (b < -1 && h.jit) {
    dec[entryWord(po)] = b + 1;
    return 0;
  }
  return compileOrRun(h, dec, b, base, po, left);
}

/** The rest of enterBlock: compiles a block that just got hot, runs compiled blocks. */
function compileOrRun(h: JitHost, dec: Int32Array, b: number, base: number, po: number, left: number): number {
  if (b < 0) {
    if (!h.jit) {
      dec[entryWord(po)] = 0;
      return 0;
    }
    b = compileAt(h, dec, po); // b is -1 here: the slot just got hot

    if (b === 0) return 0;
  }
  if (!h.jit) return 0;
  const cache = h.env.mem.blocks;
  // Blocks that follow one another in the page run from here, without a round trip through runSlice.
  let total = 0;
  /** The hart's register file in the wasm arena (-2: not looked up yet). */
  let regs = -2;
  for (;;) {
    const w = cache.wasm[b];
    if (w !== undefined) {
      if (cache.lens[b] > left - total) return total;
      const tier = h.env.mem.wasm as WasmTier; // wasm blocks exist only with a tier
      if (regs === -2) regs = tier.arena.regsAddress(h.x);
      const ld = h.loadTlb.addr, st = h.storeTlb.addr;
      // A hart or TLB with arrays of its own (outside the arena) runs the interpreter.
      if ((regs | ld | st) < 0) return total;
      // The page's block map lets the dispatcher chain to the next wasm block without coming back here.
      const page = h.fetchFrame / PAGE_SIZE;
      const map = h.env.mem.decoded[page] === dec ? tier.arena.mapOf(page) : 0;
      const r = tier.run(b, regs, base, left - total, ld, st, h.dataKey, map, h.fetchTlb.addr, h.fetchKey);
      h.pc = tier.nextPc(regs);
      if (r === 0) return total;
      total += r;
    } else {
      const fn = cache.fns[b];
      if (fn === undefined || cache.lens[b] > left - total) return total;
      const r = fn(h, base, b, dec, left - total, BLOCK_RUNTIME);
      if (r <= 0) return r === 0 ? total : r - total;
      total += r;
      if (h.stop) return total;
    }
    const d = h.pc - base;
    if (!(d >= 0 && d < PAGE_SIZE)) return total;
    b = dec[entryWord(d)];
    if (b <= 0) return total;
  }
}

/** Compiles the block at `po` of the fetch page; returns its id, or 0 (the slot is then left to the interpreter for good). */
function compileAt(h: JitHost, dec: Int32Array, po: number): number {
  const mem = h.env.mem;
  const page = h.fetchFrame / PAGE_SIZE;
  // Only a RAM page's own decoded array can hold blocks (not the hart's cross-page scratch).
  if (h.fetchDecoded !== dec || mem.decoded[page] !== dec) {
    dec[entryWord(po)] = 0;
    return 0;
  }
  const tier = mem.wasm;
  if (tier !== undefined && tier.arena.regsAddress(h.x) >= 0) {
    const b = tier.request(page, dec, po);
    if (b >= 0) return b;
  }
  const block = compileBlock(dec, mem.u16, h.fetchFrame, po);
  if (block === undefined) {
    dec[entryWord(po)] = 0;
    return 0;
  }
  return mem.blocks.add(page, dec, block.start, block.end, block.len, block.fn);
}

