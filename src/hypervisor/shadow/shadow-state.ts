/*
 * The shared state of one vCPU's shadow page tables: a pool of machine
 * frames (the memory bound, --shadow-pages), the directory of kept shadow
 * address spaces ("slots") and the current selection, all in one
 * SharedArrayBuffer that the vCPU thread and the hypervisor's main thread
 * both view (shadow-mmu.ts).
 *
 * Who touches it: exactly one thread at a time, by the exit protocol — the
 * vCPU thread while its vCPU runs or handles an exit locally, the main
 * thread while the vCPU waits in an exit it posted (or, for a shootdown,
 * while it is parked in such an exit: shootdown.ts). H_FLUSH_PENDING alone
 * is written with Atomics: the main thread sets it, the vCPU thread takes
 * it before it runs guest code again.
 *
 *   Int32 header  [H_*]
 *   Int32 slots   SLOT_COUNT x SLOT_FIELDS  [S_*]
 *   Int32 ptDir   --shadow-coherence wp: the write-protected guest page-table
 *                 pages (pt-directory.ts); empty under tlb
 *   Int32 wrMap   --shadow-coherence wp: one bit per machine frame, set when
 *                 a writable shadow leaf may map it; empty under tlb
 *   Int32 pool    free stack of machine page numbers, pool size entries
 */

import type { FrameAllocator } from "../frames.ts";
import { PAGE_SIZE } from "../../machine/memlayout.ts";
import { PT_DIR_WORDS } from "./pt-directory.ts";

/**
 * How the shadow stays coherent with the guest's page tables (shadow-mmu.ts):
 * "tlb", it has the lifetime of TLB entries (the guest's fences say what to
 * drop); "wp", the guest's page-table pages are also write-protected and
 * every store to one is emulated and zaps what it changes.
 */
export const SHADOW_COHERENCE = ["tlb", "wp"] as const;
export type ShadowCoherence = (typeof SHADOW_COHERENCE)[number];

/** Kept shadow address spaces per vCPU; slot i runs under real ASID i + 1 (ASID 0 is the guest-physical table). */
export const SLOT_COUNT = 32;
/** The least --shadow-pages: a root per kept space plus a walk's two tables, with room to spare. */
export const MIN_SHADOW_PAGES = 16;
/** The most --shadow-pages accepts (1 GiB of tables per vCPU). */
export const MAX_SHADOW_PAGES = 262144;
/** --shadow-pages ceiling of the default, per vCPU: 4 MiB of shadow tables (a 128 MiB direct map needs ~70 tables). */
const MAX_DEFAULT_SHADOW_PAGES = 1024;

/** --shadow-pages default, per vCPU: one frame per 32 pages of guest RAM, between MIN_SHADOW_PAGES and 1024 (1024 from 128 MiB up). */
export function defaultShadowPages(ramSize: number): number {
  return Math.max(MIN_SHADOW_PAGES, Math.min(MAX_DEFAULT_SHADOW_PAGES, Math.floor(ramSize / PAGE_SIZE / 32)));
}

// Header words.
export const H_FREE_TOP = 0;
const H_POOL_SIZE = 1;
/** Machine page number of a frame that stays zero: unbacked guest RAM reads as it (no PTE there is valid). */
export const H_ZERO_PPN = 2;
/** Set when shadow entries were dropped or changed: the vCPU flushes its hart's TLB before running on. */
export const H_FLUSH_PENDING = 3;
/** The selection cache: the virtual state it was made for, and its answer (slot, or -1 for the guest-physical table). */
export const H_CUR_VALID = 4;
export const H_CUR_PRIV = 5;
export const H_CUR_STATUS = 6;
export const H_CUR_SATP_LO = 7;
export const H_CUR_SATP_HI = 8;
export const H_CUR_SLOT = 9;
/** Use counter for least-recently-used recycling. */
export const H_STAMP = 10;
/** 1 under --shadow-coherence wp. */
export const H_WRITE_PROTECT = 11;
/** Words of the wrMap section (0 under tlb). */
const H_WRMAP_WORDS = 12;
const HEADER_WORDS = 16;

// Slot fields.
/** Guest satp's PPN, low 32 bits and bits 43:32. */
export const S_ROOT_LO = 0;
export const S_ROOT_HI = 1;
export const S_ASID = 2;
export const S_VIEW = 3;
/** Machine page number of the shadow root; 0 when the slot is free. */
export const S_SHADOW_ROOT = 4;
export const S_LAST_USE = 5;
export const SLOT_FIELDS = 6;

export class ShadowState {
  readonly header: Int32Array;
  readonly slots: Int32Array;
  readonly pool: Int32Array;
  readonly ptDir: Int32Array;
  readonly wrMap: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, HEADER_WORDS);
    this.slots = new Int32Array(buffer, HEADER_WORDS * 4, SLOT_COUNT * SLOT_FIELDS);
    const wp = this.header[H_WRITE_PROTECT] === 1;
    let offset = (HEADER_WORDS + SLOT_COUNT * SLOT_FIELDS) * 4;
    this.ptDir = new Int32Array(buffer, offset, wp ? PT_DIR_WORDS : 0);
    offset += this.ptDir.byteLength;
    this.wrMap = new Int32Array(buffer, offset, this.header[H_WRMAP_WORDS]);
    offset += this.wrMap.byteLength;
    this.pool = new Int32Array(buffer, offset, (buffer.byteLength - offset) / 4);
  }

  /**
   * Allocates the state and its frame pool (main thread, at VM creation):
   * `pages` zeroed machine frames for shadow tables plus the zero frame.
   */
  static create(frames: FrameAllocator, pages: number, coherence: ShadowCoherence = "tlb"): ShadowState {
    if (!Number.isInteger(pages) || pages < MIN_SHADOW_PAGES) throw new RangeError(`shadow: --shadow-pages must be an integer >= ${MIN_SHADOW_PAGES} (got ${pages})`);
    const wp = coherence === "wp";
    const wrMapWords = wp ? Math.ceil(frames.mem.u8.length / PAGE_SIZE / 32) : 0;
    const buffer = new SharedArrayBuffer((HEADER_WORDS + SLOT_COUNT * SLOT_FIELDS + (wp ? PT_DIR_WORDS : 0) + wrMapWords + pages) * 4);
    // The section sizes go in first: the views below are laid out from them.
    const header = new Int32Array(buffer, 0, HEADER_WORDS);
    header[H_WRITE_PROTECT] = wp ? 1 : 0;
    header[H_WRMAP_WORDS] = wrMapWords;
    const s = new ShadowState(buffer);
    for (let i = 0; i < pages; i++) s.pool[i] = frames.alloc() / PAGE_SIZE;
    s.header[H_FREE_TOP] = pages;
    s.header[H_POOL_SIZE] = pages;
    s.header[H_ZERO_PPN] = frames.alloc() / PAGE_SIZE;
    s.header[H_CUR_SLOT] = -1;
    return s;
  }

  /** Gives the pool's frames and the zero frame back (the VM is gone; call after every slot was freed into the pool). */
  release(frames: FrameAllocator): void {
    for (let i = 0; i < this.header[H_FREE_TOP]; i++) frames.release(this.pool[i] * PAGE_SIZE);
    frames.release(this.header[H_ZERO_PPN] * PAGE_SIZE);
    this.header[H_FREE_TOP] = 0;
  }
}
