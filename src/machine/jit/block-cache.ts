/*
 * Compiled blocks of one PhysMem, kept per physical page.
 *
 * The decoded page's layout, block words included, is in ../decoded-page.ts.
 *
 * A block records the bytes of its page it was compiled from. A store over
 * any of them (invalidate) drops the block and re-arms its entry's counter;
 * fence.i and loaders drop whole pages (flush, dropPage). A running block
 * notices that it was dropped by finding its entry word changed.
 */

import { entryWord } from "../decoded-page.ts";
import type { BlockFn } from "./block-host.ts";
import type { WasmBlockFn } from "./wasm-compiler.ts";

export class BlockCache {
  /** By id (0 unused): the function (JS or wasm tier), its length in instructions (one pass; a wasm region's entry block), and where it came from. */
  readonly fns: (BlockFn | undefined)[] = [undefined];
  readonly wasm: (WasmBlockFn | undefined)[] = [undefined];
  readonly lens: number[] = [0];
  private readonly page: number[] = [-1];
  private readonly start: number[] = [0];
  private readonly from: number[] = [0];
  private readonly end: number[] = [0];
  private readonly decOf: (Int32Array | undefined)[] = [undefined];
  private readonly free: number[] = [];
  /** Ids of the live blocks of each page. */
  private readonly byPage = new Map<number, number[]>();
  /** Blocks compiled so far (for tests and --stats). */
  compiled = 0;
  /** Told when a wasm block is dropped (page, entry offset), so the tier's block map forgets it. */
  onWasmRelease: ((page: number, start: number) => void) | undefined;

  /** `hotThreshold`: what a released block's entry word counts down from again (PhysMem's). */
  constructor(private readonly hotThreshold: number) {}

  /**
   * Registers a block compiled from bytes [from, end) of `page` (`from`: its
   * entry `start` but for a wasm region, whose blocks may lie before it),
   * entered at `start`; writes its id into the entry word.
   */
  add(page: number, dec: Int32Array, start: number, end: number, len: number, fn: BlockFn | undefined, wasm?: WasmBlockFn, from = start): number {
    const id = this.free.pop() ?? this.fns.length;
    this.fns[id] = fn;
    this.wasm[id] = wasm;
    this.lens[id] = len;
    this.page[id] = page;
    this.start[id] = start;
    this.from[id] = from;
    this.end[id] = end;
    this.decOf[id] = dec;
    let list = this.byPage.get(page);
    if (list === undefined) {
      list = [];
      this.byPage.set(page, list);
    }
    list.push(id);
    dec[entryWord(start)] = id;
    this.compiled++;
    return id;
  }

  /** A store wrote bytes [from, to) of `page` (offsets in the page): drop the blocks compiled from any of them. */
  invalidate(page: number, from: number, to: number): void {
    const list = this.byPage.get(page);
    if (list === undefined) return;
    for (let k = list.length - 1; k >= 0; k--) {
      const id = list[k];
      if (from < this.end[id] && to > this.from[id]) {
        list[k] = list[list.length - 1];
        list.pop();
        this.release(id);
      }
    }
    if (list.length === 0) this.byPage.delete(page);
  }

  /** The page's decoded array is being replaced or dropped: forget its blocks. */
  dropPage(page: number): void {
    const list = this.byPage.get(page);
    if (list === undefined) return;
    for (const id of list) this.release(id);
    this.byPage.delete(page);
  }

  /** fence.i: forget every block (the decoded pages that held their ids are dropped too). */
  flush(): void {
    for (const list of this.byPage.values()) for (const id of list) this.release(id);
    this.byPage.clear();
  }

  /**
   * Frees an id and puts the hot counter back in its entry word — also in a
   * decoded page being dropped, which a running slice may still hold: no
   * stale id may ever name a reused one.
   */
  private release(id: number): void {
    const dec = this.decOf[id];
    const at = entryWord(this.start[id]);
    if (dec !== undefined && dec[at] === id) dec[at] = -this.hotThreshold;
    if (this.wasm[id] !== undefined) this.onWasmRelease?.(this.page[id], this.start[id]);
    this.fns[id] = undefined;
    this.wasm[id] = undefined;
    this.decOf[id] = undefined;
    this.page[id] = -1;
    this.free.push(id);
  }
}
