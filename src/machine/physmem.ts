/*
 * Physical RAM: one shared WebAssembly.Memory (its buffer is a
 * SharedArrayBuffer, so vCPU workers and a later wasm translation tier see the
 * same bytes), typed-array views for the hart's fast paths, and the cache of
 * predecoded instructions kept per physical page.
 *
 * Decoded pages are invalidated precisely: every store into a page that has
 * decoded instructions clears the slots it overlaps, so self-modifying code
 * and loaders that write code work without fence.i on this hart. Writes by
 * other threads are either reported the same way (the native board's DMA,
 * PhysMemView), or marked in a shared log (code-writes.ts) whose marked pages
 * fence.i drops; with neither, fence.i drops everything.
 * The same holds for the blocks compiled from a page (jit/block-cache.ts):
 * a decoded page carries their entry words after its slots (decoded-page.ts).
 */

import { DRAM_BASE, PAGE_SHIFT, PAGE_SIZE } from "./memlayout.ts";
import { ConfigError } from "../errors.ts";
import { BLOCK_ENTRY_BASE, BLOCK_ENTRY_WORDS, DECODED_PAGE_WORDS, HOT_THRESHOLD } from "./decoded-page.ts";
import { BlockCache } from "./jit/block-cache.ts";
import { WasmArena, arenaBytes, vcpuArenaBytes } from "./jit/wasm-arena.ts";
import { WASM_HOT_THRESHOLD, WasmTier } from "./jit/wasm-tier.ts";
import { wasmByEnvironment } from "./jit/switch.ts";
import { CodeWriteLog, type CodeWriteShare } from "./code-writes.ts";

const WASM_PAGE = 65536;

export class PhysMem {
  readonly memory: WebAssembly.Memory;
  readonly buffer: SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i16: Int16Array;
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  readonly base = DRAM_BASE;
  readonly size: number;
  readonly pages: number;
  /** Decoded instruction slots per RAM page, created when code first runs there. */
  readonly decoded: (Int32Array | undefined)[];
  /**
   * Not 0 where decoded[page] exists: checked by every store. With a shared
   * log (codeWrites), the count of threads that have code on the page.
   */
  readonly codeMap: Uint8Array;
  /**
   * The pages decoded[] has held an array for (each once, as `listed` says; a
   * dropped one stays until the next sweep): fence.i looks at these, not at all
   * of RAM's pages. Clearing every page (131072 at 512M) on each fence.i was
   * 15% of a Linux boot's profile.
   */
  private readonly livePages: number[] = [];
  private readonly listed: Uint8Array;
  /** Writes by other threads into this RAM, marked per page (code-writes.ts); undefined: fence.i drops everything. */
  readonly codeWrites: CodeWriteLog | undefined;
  /** With codeWrites: each decoded page's gen as it was when the page was decoded; and the epoch the last sweep saw. */
  private readonly seenGen: Int32Array | undefined;
  private seenEpoch = 0;
  /** What fence.i did (for --stats): fences, sweeps of the live pages, pages dropped as written from outside, whole flushes. */
  readonly codeStats = { fences: 0, sweeps: 0, pagesDropped: 0, flushes: 0 };
  /** Blocks compiled from this RAM's pages (this thread's; like decoded pages, they are per view). */
  readonly blocks: BlockCache;
  /** The memory past RAM that the wasm block tier reads (jit/wasm-arena.ts); undefined without one. */
  readonly arena: WasmArena | undefined;
  /** The wasm block tier over that arena (off with POPEK_WASM=0: blocks are JS then). */
  readonly wasm: WasmTier | undefined;
  /** Interpreter visits before the block at a slot is compiled. */
  readonly hotThreshold: number;

  /**
   * New RAM of `size` bytes, or — given `memory` — a view of existing RAM (another thread's).
   * A block is compiled once the interpreter has reached its entry `hotThreshold` times
   * (default: the wasm tier's threshold where it is on, else the JS tier's).
   * `arenaHarts`: hart slots of a wasm arena after RAM (only for RAM that creates its memory).
   * `layout.reserve`: bytes to create past RAM for others' arenas (machine memory, whose vCPU
   * threads each get a span of it); `layout.arenaAt`: for a view, the byte address of its own
   * one-hart arena (wasm-arena.ts's vcpuArenaBytes past it); `layout.codeWrites`: the shared log
   * of other threads' writes (code-writes.ts), whose code map then stands for this RAM's own.
   */
  constructor(
    size: number,
    memory?: WebAssembly.Memory,
    hotThreshold?: number,
    arenaHarts = 0,
    layout: { reserve?: number; arenaAt?: number; codeWrites?: CodeWriteShare } = {},
  ) {
    const arenaAt = layout.arenaAt;
    if (arenaAt !== undefined && memory === undefined) throw new RangeError("PhysMem: arenaAt is for a view of existing memory");
    const wasmOn = (arenaHarts > 0 || arenaAt !== undefined) && wasmByEnvironment();
    this.hotThreshold = hotThreshold ?? (wasmOn ? WASM_HOT_THRESHOLD : HOT_THRESHOLD);
    if (!Number.isInteger(this.hotThreshold) || this.hotThreshold < 1) {
      throw new RangeError(`PhysMem: hot threshold must be a positive integer, got ${this.hotThreshold}`);
    }
    this.blocks = new BlockCache(this.hotThreshold);
    if (!Number.isInteger(size) || size < WASM_PAGE || size % WASM_PAGE !== 0) {
      throw new ConfigError(`memory size must be a positive multiple of 64K, got ${size}`);
    }
    if (size > 0x8000_0000) throw new ConfigError(`memory size ${size / 2 ** 20}M exceeds popek's 2048M limit`);
    if (memory !== undefined && arenaHarts !== 0) throw new RangeError("PhysMem: a view's arena is layout.arenaAt, not arenaHarts");
    const pages = size >>> PAGE_SHIFT;
    const reserve = layout.reserve ?? 0;
    if (!Number.isInteger(reserve) || reserve < 0 || reserve % WASM_PAGE !== 0) throw new RangeError(`PhysMem: reserve must be whole 64K pages, got ${reserve}`);
    const extra = (arenaHarts > 0 ? Math.ceil(arenaBytes(pages, arenaHarts) / WASM_PAGE) * WASM_PAGE : 0) + reserve;
    const wasmPages = (size + extra) / WASM_PAGE;
    this.memory = memory ?? new WebAssembly.Memory({ initial: wasmPages, maximum: wasmPages, shared: true });
    const length = this.memory.buffer.byteLength;
    if (memory === undefined ? length !== size + extra : length < size) throw new RangeError("PhysMem: memory size mismatch");
    if (arenaAt !== undefined && (arenaAt < size || arenaAt + vcpuArenaBytes(pages) > length)) {
      throw new RangeError(`PhysMem: arena at 0x${arenaAt.toString(16)} is not past RAM and inside the memory`);
    }
    this.buffer = this.memory.buffer as unknown as SharedArrayBuffer;
    this.size = size;
    // The views end at RAM's end: the arena after it is the block tier's, out of the guest's reach.
    this.u8 = new Uint8Array(this.buffer, 0, size);
    this.u16 = new Uint16Array(this.buffer, 0, size / 2);
    this.i16 = new Int16Array(this.buffer, 0, size / 2);
    this.i32 = new Int32Array(this.buffer, 0, size / 4);
    this.i64 = new BigInt64Array(this.buffer, 0, size / 8);
    this.pages = pages;
    this.decoded = new Array<Int32Array | undefined>(this.pages);
    this.arena =
      arenaHarts > 0 ? new WasmArena(this.buffer, size, pages, arenaHarts) : arenaAt !== undefined ? new WasmArena(this.buffer, arenaAt, pages, 1) : undefined;
    this.listed = new Uint8Array(pages);
    const share = layout.codeWrites;
    if (share !== undefined && share.pages !== pages) throw new RangeError(`PhysMem: a code-write log for ${share.pages} pages over ${pages}`);
    this.codeWrites = share === undefined ? undefined : new CodeWriteLog(share, this.buffer);
    this.seenGen = share === undefined ? undefined : new Int32Array(pages);
    // A wasm block reads the code map at a byte address of this memory: a log's map must be there too.
    if (share !== undefined && share.codeMapAt < 0 && this.arena !== undefined && wasmOn) throw new RangeError("PhysMem: the wasm tier needs the code map in machine memory");
    this.codeMap = this.codeWrites?.codeMap ?? this.arena?.codeMap ?? new Uint8Array(this.pages);
    this.wasm =
      this.arena !== undefined && wasmOn
        ? new WasmTier(this.memory, this.arena, this, this.codeMap.byteOffset, (off, width) => this.invalidateCode(off, width), this.hotThreshold)
        : undefined;
  }

  /** RAM offset of a physical address, or -1 if it is not RAM. */
  offsetOf(pa: number): number {
    const off = pa - DRAM_BASE;
    return off >= 0 && off < this.size ? off : -1;
  }

  /** The decoded-instruction array for a RAM page, created empty (all slots undecoded) on first use. */
  decodedPage(page: number): Int32Array {
    let d = this.decoded[page];
    if (d === undefined) {
      d = new Int32Array(DECODED_PAGE_WORDS);
      d.fill(-this.hotThreshold, BLOCK_ENTRY_BASE, BLOCK_ENTRY_BASE + BLOCK_ENTRY_WORDS); // not the sentinel's block words: they stay 0
      // Counted in before gen is read, and gen before the bytes are (code-writes.ts: the ordering).
      Atomics.add(this.codeMap, page, 1);
      if (this.seenGen !== undefined && this.codeWrites !== undefined) this.seenGen[page] = Atomics.load(this.codeWrites.gen, page);
      this.decoded[page] = d;
      if (this.listed[page] === 0) {
        this.listed[page] = 1;
        this.livePages.push(page);
      }
    }
    return d;
  }

  /** Forgets a page's decoded code and blocks, and counts this thread out of its code map entry. */
  private dropDecoded(page: number): void {
    if (this.decoded[page] === undefined) return;
    this.blocks.dropPage(page);
    this.decoded[page] = undefined;
    Atomics.sub(this.codeMap, page, 1);
  }

  /** A store of `width` bytes at RAM offset `off` hit a code page: forget the slots it overlaps. */
  invalidateCode(off: number, width: number): void {
    const page = off >>> PAGE_SHIFT;
    const d = this.decoded[page];
    // Other threads have code here too (the count is above our own): for them, an outside write.
    if (this.codeWrites !== undefined && this.codeMap[page] > (d === undefined ? 0 : 1)) this.markForOthers(page, d !== undefined);
    if (d === undefined) return;
    // A 4-byte instruction starting 2 bytes before the store overlaps it too.
    const first = Math.max(0, (off & (PAGE_SIZE - 1)) - 2) & ~1;
    const last = Math.min(PAGE_SIZE - 2, ((off & (PAGE_SIZE - 1)) + width - 1) & ~1);
    for (let slot = first; slot <= last; slot += 2) {
      d[slot] = 0;
      // A slot that was left to the interpreter may hold a compilable instruction now.
      if (d[BLOCK_ENTRY_BASE + (slot >>> 1)] === 0) d[BLOCK_ENTRY_BASE + (slot >>> 1)] = -this.hotThreshold;
    }
    this.blocks.invalidate(page, off & (PAGE_SIZE - 1), (off & (PAGE_SIZE - 1)) + width);
    // The last instruction of the previous page cannot reach into this one: cross-page instructions are never cached.
  }

  /**
   * Set when every write to this RAM forgets the decoded code it overlaps:
   * the harts' stores (interpreter, blocks, slow paths, AMOs), page-table A/D
   * updates, and device DMA through the board's PhysMemView (workers' writes
   * are reported by machineWritten). The native board sets it; fence.i then
   * has nothing left to forget. A vCPU's RAM, which another thread writes
   * behind its back, leaves it unset and flushes on fence.i.
   */
  writesInvalidateCode = false;

  /** This thread's store into a page another thread has code on: marks it in the log, keeping our own copy (already invalidated precisely) current. */
  private markForOthers(page: number, own: boolean): void {
    const log = this.codeWrites as CodeWriteLog;
    const seen = this.seenGen as Int32Array;
    const before = Atomics.add(log.gen, page, 1);
    if (own && seen[page] === before) seen[page] = before + 1;
    Atomics.add(log.epoch, 0, 1);
  }

  /** fence.i: forget decoded instructions that may be stale (PhysMem's header says which). */
  fenceI(): void {
    this.codeStats.fences++;
    if (this.codeWrites !== undefined) this.dropWrittenPages();
    else if (!this.writesInvalidateCode) this.flushCode();
  }

  /**
   * Drops the decoded pages other threads wrote since they were decoded
   * (code-writes.ts), and sweeps dropped pages off the live list. Nothing to
   * look at when the epoch has not moved since the last sweep.
   */
  private dropWrittenPages(): void {
    const log = this.codeWrites as CodeWriteLog;
    const seen = this.seenGen as Int32Array;
    const epoch = Atomics.load(log.epoch, 0); // before the gens: a mark after it is seen at the next fence.i
    if (epoch === this.seenEpoch) return;
    this.seenEpoch = epoch;
    this.codeStats.sweeps++;
    const live = this.livePages;
    const gen = log.gen;
    let kept = 0;
    for (let k = 0; k < live.length; k++) {
      const page = live[k];
      if (this.decoded[page] !== undefined && gen[page] !== seen[page]) {
        this.dropDecoded(page);
        this.codeStats.pagesDropped++;
      }
      if (this.decoded[page] === undefined) this.listed[page] = 0;
      else live[kept++] = page;
    }
    live.length = kept;
  }

  /** Forget every decoded instruction (fence.i on RAM written behind the harts' back with no log; reset). */
  flushCode(): void {
    this.codeStats.flushes++;
    for (const page of this.livePages) {
      this.dropDecoded(page);
      this.listed[page] = 0;
    }
    this.blocks.flush();
    this.livePages.length = 0;
  }

  /** Copies bytes into RAM at a physical address (loader use); invalidates decoded code there (this thread's, and marks it for others). */
  writeBytes(pa: number, bytes: Uint8Array): void {
    const off = this.offsetOf(pa);
    if (off < 0 || off + bytes.length > this.size) throw new RangeError(`writeBytes outside RAM at 0x${pa.toString(16)}`);
    this.u8.set(bytes, off);
    for (let p = off >>> PAGE_SHIFT; p <= (off + bytes.length - 1) >>> PAGE_SHIFT; p++) {
      this.dropDecoded(p);
      this.codeWrites?.mark(p);
    }
  }
}
