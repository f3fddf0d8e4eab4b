/*
 * Writes into RAM that a thread's own store paths do not see, recorded for
 * the threads that keep decoded code over the same RAM.
 *
 * A PhysMem forgets the decoded code a store overwrites when its own hart
 * stores (physmem.ts). Where several threads run harts over one memory, and
 * other threads write it too (a device model's DMA, an I/O worker, an
 * emulator's stores on behalf of the guest, a loader), each writer marks the
 * pages it wrote here, and a thread's fence.i drops only the decoded pages
 * marked since it decoded them, instead of all of them.
 *
 * The shared state, one SharedArrayBuffer plus the code map:
 *
 *   Int32 [0]                     epoch: bumped after a marked page that some thread has code on
 *   Int32 [HEADER_WORDS, +pages)  gen: per RAM page, bumped by every outside write into it
 *   codeMap (Uint8 per page)      how many threads hold decoded code for the page (physmem.ts
 *                                 counts its own in and out); a hart's stores take their slow
 *                                 path where it is not 0, so a store into a page another
 *                                 thread has code on is marked as an outside write too
 *
 * The code map is where the threads' wasm blocks can read it (machine memory,
 * at codeMapAt) or, with no wasm tier, after gen in this buffer (codeMapAt -1).
 *
 * Ordering (why marking cannot miss a decode): a writer stores its bytes,
 * then bumps gen (an atomic read-modify-write: a full barrier), then reads the
 * code map. A thread that starts to decode a page counts itself into the code
 * map (atomic), then reads gen, then reads the bytes. Either the writer's bump
 * comes first, and the decoder reads the new bytes, or the decoder's count
 * does, and the writer sees it and bumps the epoch, so the decoder's next
 * fence.i finds gen moved and drops the page.
 *
 * A hart's own store checks the code map with a plain load just after the
 * store, with no barrier between (the interpreter's and wasm blocks' fast
 * path). A store from one thread racing with another thread's first decode
 * of that page can therefore go unmarked: the guest would have to execute
 * bytes at the very moment another hart rewrites them, and its fence.i
 * after that rewrite could then run the old instruction. Closing that would
 * cost a barrier per store.
 *
 * Machine-level and generic: what writes is the caller's business (the
 * hypervisor passes this to its memory views, devices and vCPU threads).
 */

import { PAGE_SHIFT } from "./memlayout.ts";

/** Words before gen: the epoch, then padding so the epoch's cache line is its own. */
const HEADER_WORDS = 16;

/** What another thread needs to build the same log: plain data and shared buffers (it crosses postMessage). */
export interface CodeWriteShare {
  readonly buffer: SharedArrayBuffer;
  /** RAM pages it covers (machine memory's, from its first byte). */
  readonly pages: number;
  /** Byte address of the code map in machine memory, or -1: in `buffer`, after gen. */
  readonly codeMapAt: number;
}

/** A new log's shared state for `pages` RAM pages, its code map at `codeMapAt` in machine memory (-1: in the log's own buffer). */
export function newCodeWriteShare(pages: number, codeMapAt: number): CodeWriteShare {
  if (!Number.isInteger(pages) || pages <= 0) throw new RangeError(`code writes: ${pages} pages`);
  return { buffer: new SharedArrayBuffer((HEADER_WORDS + pages) * 4 + (codeMapAt < 0 ? pages : 0)), pages, codeMapAt };
}

export class CodeWriteLog {
  /** Per RAM page: bumped by every outside write into it. */
  readonly gen: Int32Array;
  /** Bumped after every outside write into a page some thread has code on (one word). */
  readonly epoch: Int32Array;
  /** Per RAM page: how many threads hold decoded code for it. */
  readonly codeMap: Uint8Array;

  readonly pages: number;
  /** barrier()'s word: this object's own, so the barrier contends with no other thread. */
  private readonly fence = new Int32Array(new SharedArrayBuffer(4));

  /** The log `share` describes, over machine memory `machine` (where its code map may live). */
  constructor(share: CodeWriteShare, machine: SharedArrayBuffer) {
    const pages = share.pages;
    this.pages = pages;
    const genBytes = (HEADER_WORDS + pages) * 4;
    const mapHere = share.codeMapAt < 0;
    if (share.buffer.byteLength !== genBytes + (mapHere ? pages : 0)) throw new RangeError("code writes: the shared buffer does not match the RAM size");
    if (!mapHere && (!Number.isInteger(share.codeMapAt) || share.codeMapAt + pages > machine.byteLength)) {
      throw new RangeError(`code writes: a code map at 0x${share.codeMapAt.toString(16)} is not inside machine memory`);
    }
    this.epoch = new Int32Array(share.buffer, 0, 1);
    this.gen = new Int32Array(share.buffer, HEADER_WORDS * 4, pages);
    this.codeMap = mapHere ? new Uint8Array(share.buffer, genBytes, pages) : new Uint8Array(machine, share.codeMapAt, pages);
  }

  /** Machine RAM bytes [off, off + length) were just written by someone other than the harts' own stores. */
  written(off: number, length: number): void {
    if (length <= 0) return;
    const last = Math.min(this.pages - 1, (off + length - 1) >>> PAGE_SHIFT);
    for (let page = off >>> PAGE_SHIFT; page <= last; page++) this.mark(page);
  }

  /**
   * A full barrier, for a writer whose bytes went in by plain stores (a
   * read(2) into guest memory) before writtenWhereCode: an atomic
   * read-modify-write of a word of this thread's own log object.
   */
  barrier(): void {
    Atomics.add(this.fence, 0, 1);
  }

  /**
   * Like written(), but marks only the pages some thread holds code on now:
   * one load of the code map per page instead of an atomic add on its gen.
   * Sound only after a full barrier that follows the bytes (barrier(), or
   * bytes stored with seq-cst Atomics): by the ordering at the top, a page
   * whose count this load finds 0 is decoded, if ever, by a thread that
   * counted itself in after that barrier, so after the bytes landed, and it
   * decodes the new ones. What the cheaper rule saves: a used ring's or a
   * data buffer's page, which holds no code, costs a load, not a mark.
   */
  writtenWhereCode(off: number, length: number): void {
    if (length <= 0) return;
    const last = Math.min(this.pages - 1, (off + length - 1) >>> PAGE_SHIFT);
    for (let page = off >>> PAGE_SHIFT; page <= last; page++) if (Atomics.load(this.codeMap, page) !== 0) this.mark(page);
  }

  /** One page written from outside: bumps its gen, then, if some thread has code on it, the epoch (order: see the top). */
  mark(page: number): void {
    Atomics.add(this.gen, page, 1);
    if (Atomics.load(this.codeMap, page) !== 0) Atomics.add(this.epoch, 0, 1);
  }
}
