/*
 * The part of RAM's WebAssembly.Memory past the guest's RAM, where the wasm
 * block tier (wasm-compiler.ts) finds what the harts keep in typed arrays:
 * a wasm function sees one memory only (no multi-memory in Node 20), so the
 * arrays it reads are views into this area instead of arrays of their own.
 *
 *   RAM [0, size)                     guest RAM (PhysMem)
 *   [size, +pages, rounded to 8)      codeMap: 1 where a RAM page has decoded code
 *   then per hart slot, HART_SLOT_BYTES each:
 *     +0      registers: REGISTER_WORDS int32 (hart.x), then the pc cell (f64)
 *             where a wasm block leaves the next pc
 *     +512    TLBS_PER_HART TLBs: key (f64 x TLB_ENTRIES), then ramOffset (int32 x TLB_ENTRIES)
 *   then the page map: one int32 per RAM page, the byte address of its block map or 0
 *   then block maps: MAP_POOL maps of one int32 per 2-byte slot of a page,
 *   the id of the wasm block that starts there or 0 (wasm-dispatch.ts chains
 *   through them); a RAM page gets one when its first wasm block is
 *   compiled, for good; past MAP_POOL pages, blocks are entered from JS only
 *
 * The native board's PhysMem has one arena with a slot per hart. Under the
 * hypervisor, machine memory reserves VCPU arena spans past the frames
 * (hypervisor/frames.ts): each vCPU thread's view of it gets one span of its
 * own, with one hart slot, because decoded pages, block ids and block maps
 * are per thread.
 * The guest cannot reach the arena: every RAM access is bounded by PhysMem's
 * size, and devices' DMA by the same size (PhysMemView, machineBytes).
 */

import { REGISTER_WORDS } from "../../isa/ops.ts";
import { TLB_ENTRIES, type TlbArrays } from "../tlb.ts";
import { PAGE_SIZE } from "../memlayout.ts";

/** TLBs a hart keeps in its slot: bare, then S and U for fetch, load and store (hart.ts). */
const TLBS_PER_HART = 7;
/** Byte offset of the pc cell from a hart's register file. */
export const PC_CELL_OFFSET = REGISTER_WORDS * 4;
const REGS_BYTES = 512;
const TLB_BYTES = TLB_ENTRIES * 8 + TLB_ENTRIES * 4;
const HART_SLOT_BYTES = REGS_BYTES + TLBS_PER_HART * TLB_BYTES;
const MAP_BYTES = (PAGE_SIZE / 2) * 4;
/** Pages that can have a block map (32 MiB of maps, committed by the OS only where written). */
const MAP_POOL = 4096;

/** What a hart keeps in its arena slot (HartStorage.regs and .tlbs). */
export interface ArenaHartStorage {
  readonly regs: Int32Array;
  readonly tlbs: readonly TlbArrays[];
}

/** Bytes of arena for a RAM of `pages` 4 KiB pages and `harts` hart slots. */
export function arenaBytes(pages: number, harts: number): number {
  return align8(pages) + harts * HART_SLOT_BYTES + pages * 4 + MAP_POOL * MAP_BYTES;
}

/** Bytes of one vCPU thread's arena (one hart slot) for a RAM of `pages` pages, whole wasm pages so spans stay aligned. */
export function vcpuArenaBytes(pages: number): number {
  return Math.ceil(arenaBytes(pages, 1) / 65536) * 65536;
}

/** The register file of the one hart slot of the vCPU arena at byte `at` (what its run page's regs become). */
export function vcpuArenaRegs(buffer: SharedArrayBuffer, at: number, pages: number): Int32Array {
  return new Int32Array(buffer, at + align8(pages), REGISTER_WORDS);
}

/** Byte address of the code map of the vCPU arena at byte `at` (a VM's vCPUs all use one: machine/code-writes.ts). */
export function vcpuArenaCodeMap(at: number): number {
  return at; // an arena opens with its code map
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

export class WasmArena {
  readonly codeMap: Uint8Array;
  private readonly slots: ArenaHartStorage[] = [];
  /** Byte address of each RAM page's block map, 0 for none; pageMapBase is its own. */
  private readonly pageMap: Int32Array;
  readonly pageMapBase: number;
  private readonly maps: Int32Array;
  private readonly mapsBase: number;
  private mapsUsed = 0;

  /** The arena of `buffer` starting at byte `base` (RAM's size), for `pages` RAM pages and `harts` hart slots. */
  constructor(buffer: SharedArrayBuffer, base: number, pages: number, harts: number) {
    this.codeMap = new Uint8Array(buffer, base, pages);
    let at = base + align8(pages);
    for (let k = 0; k < harts; k++, at += HART_SLOT_BYTES) {
      const tlbs: TlbArrays[] = [];
      for (let t = 0; t < TLBS_PER_HART; t++) {
        const addr = at + REGS_BYTES + t * TLB_BYTES;
        tlbs.push({ addr, key: new Float64Array(buffer, addr, TLB_ENTRIES), ramOffset: new Int32Array(buffer, addr + TLB_ENTRIES * 8, TLB_ENTRIES) });
      }
      this.slots.push({ regs: new Int32Array(buffer, at, REGISTER_WORDS), tlbs });
    }
    this.pageMapBase = at;
    this.pageMap = new Int32Array(buffer, at, pages);
    this.mapsBase = at + pages * 4;
    this.maps = new Int32Array(buffer, this.mapsBase, (MAP_POOL * MAP_BYTES) / 4);
  }

  /**
   * Zeroes what an earlier owner left (a vCPU arena handed to a new thread):
   * the code map, the hart slot, the block maps in use and the page map, so
   * no stale block id is ever chained to. Untouched maps stay uncommitted.
   */
  clear(): void {
    this.codeMap.fill(0);
    for (const slot of this.slots) {
      slot.regs.fill(0);
      for (const t of slot.tlbs) {
        t.key.fill(0);
        t.ramOffset.fill(0);
      }
    }
    const pageMap = this.pageMap;
    for (let p = 0; p < pageMap.length; p++) {
      const map = pageMap[p];
      if (map === 0) continue;
      const at = (map - this.mapsBase) >>> 2;
      this.maps.fill(0, at, at + MAP_BYTES / 4);
      pageMap[p] = 0;
    }
    this.mapsUsed = 0;
  }

  /** Byte address of RAM page `page`'s block map, 0 when it has none. */
  mapOf(page: number): number {
    return this.pageMap[page];
  }

  /** Records that the wasm block `id` starts at byte `po` of `page` (0: none does any more); gives the page a map if it can. */
  setMapEntry(page: number, po: number, id: number): void {
    let map = this.pageMap[page];
    if (map === 0) {
      if (id === 0 || this.mapsUsed === MAP_POOL) return;
      map = this.mapsBase + this.mapsUsed++ * MAP_BYTES;
      this.pageMap[page] = map;
    }
    this.maps[((map - this.mapsBase) >>> 2) + (po >>> 1)] = id;
  }

  /** Slot `k`'s storage, for the hart built on it. */
  hartStorage(k: number): ArenaHartStorage {
    const slot = this.slots[k];
    if (slot === undefined) throw new RangeError(`wasm arena: no hart slot ${k} (${this.slots.length} slots)`);
    return slot;
  }

  /** Byte address of a register file if it is one of the arena's, else -1 (a hart with its own arrays). */
  regsAddress(x: Int32Array): number {
    const slots = this.slots;
    for (let k = 0; k < slots.length; k++) if (slots[k].regs === x) return x.byteOffset;
    return -1;
  }
}
