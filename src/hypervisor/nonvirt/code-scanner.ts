/*
 * Fix 2 for --isa-variant nonvirt: scan guest code before it runs and patch
 * the sensitive instructions that would not trap (--nonvirt-fix scan), the
 * way VMware's first x86 monitor made an unvirtualizable ISA virtualizable
 * without changing the guest (Adams & Agesen 2006 describe its translator;
 * VirtualBox's CSAM scanned pages the same way, as this does).
 *
 * Per guest page, in the VM's guest-physical table (guest-memory.ts):
 *
 *   state      PTE (U, A always)   how a page gets there
 *   ---------  ------------------  -------------------------------------------
 *   data       R W    (no X)       first touch (scan mode maps without X), or
 *                                  a guest store to a scanned page
 *   scanned    R X    (no W)       the first fetch from it: the page is
 *                                  scanned, its sensitive instructions patched
 *   patched    X      (no R, W)    as scanned, with at least one patch site
 *
 * So every page runs scanned, every write to scanned code faults first (the
 * page goes back to data with its original bytes, and its next fetch scans
 * it again: self-modifying code is rescanned; a store into its own page is
 * performed by the scanner and the page rescanned at once), and a guest that reads a
 * patched page as data gets its original bytes: the load faults on the
 * execute-only page and is served from the originals (a guest must never see
 * the patches — VMware hid its translation caches the same way).
 *
 * The scan: a linear sweep of the page, instruction by instruction (a 32-bit
 * instruction has 0b11 in its low bits; anything else is 16-bit), starting at
 * offset 0 or at 2 when the previous page's sweep ends in an instruction that
 * crosses into this one. Each instruction isNonvirtSensitive (isa-variant.ts)
 * calls sensitive has its low halfword replaced by PATCH_LOW — a custom-0
 * opcode, illegal on this hart — with the original halfword kept aside. Only
 * the low halfword changes, so a patch never reaches into the next page. When
 * the patched instruction traps, the hypervisor puts the original bits in the
 * exit and emulates them like any trapping CSR instruction.
 *
 * Where the patch lives: in the guest's own machine frame (the machine runs
 * what is in memory; there is no second copy of the code to run), owned by
 * the hypervisor — it alone writes there while the page is scanned, and it
 * restores the originals before the guest may write or plainly read it.
 *
 * Limits, stated: like any linear sweep it can be misled by data between
 * instructions on a page that is executed (popek's guests keep data off
 * their code pages); a sensitive instruction whose second half lies on a
 * page not yet backed when the first is scanned is not seen; the scanner
 * covers guests that run untranslated (M-mode guests, S-mode kernels before
 * they turn paging on) on one vCPU — the VM stops with a message otherwise.
 * Host-side writes into scanned code (device DMA, the SBI console) are not
 * tracked.
 *
 * This runs on the vCPU thread: the patches and the decoded-instruction cache
 * they invalidate belong to it, and the faults it handles never cross to the
 * main thread.
 */

import { DRAM_BASE, PAGE_SHIFT, PAGE_SIZE } from "../../machine/memlayout.ts";
import type { Hart } from "../../machine/hart.ts";
import type { PhysMem } from "../../machine/physmem.ts";
import { isNonvirtSensitive } from "../../machine/isa-variant.ts";
import * as R from "../../machine/riscv.ts";
import { decodeMmioAccess } from "../exits/mmio-decode.ts";
import type { GuestPhysView } from "../../machine/guest-phys-view.ts";
import { STAT } from "../stats.ts";

export type { NonvirtFix } from "./fixes.ts";

/**
 * The patch: the low halfword of a custom-0 instruction (opcode 0b0001011,
 * reserved for extensions popek does not implement, so illegal), rd = x31,
 * funct3 = 7 — a pattern the scanner recognises in the illegal-instruction
 * exit's bits before it looks the site up.
 */
export const PATCH_LOW = 0x0b | (31 << 7) | (7 << 12);

/** What onTrap made of a trap. */
const SCAN_NOT_MINE = 0;
/** Handled (a scan, an unprotect, a load served from the originals): go on at hart.pc. */
export const SCAN_HANDLED = 1;
/** A patched site trapped: emulate `scanner.original` at the trap's pc. */
export const SCAN_EMULATE = 2;

/** Flags of a RAM page in each state (guest-physical table). */
const PTE_DATA = R.PTE_V | R.PTE_R | R.PTE_W | R.PTE_U | R.PTE_A | R.PTE_D;
const PTE_SCANNED = R.PTE_V | R.PTE_R | R.PTE_X | R.PTE_U | R.PTE_A;
const PTE_PATCHED = R.PTE_V | R.PTE_X | R.PTE_U | R.PTE_A;
const PTE_FLAGS = 0x3ff;
const TWO_22 = 4194304;

/** One scanned page: the offsets of its patched instructions and their original low halfwords. */
interface ScannedPage {
  readonly sites: Map<number, number>;
}

export class CodeScanner {
  /** The original bits of the patched instruction that trapped (SCAN_EMULATE). */
  original = 0;
  /** Scanned pages by guest page index; absent: data. */
  private readonly scanned = new Map<number, ScannedPage>();
  /** Guest pages scanned at least once (a later scan of one is a rescan). */
  private readonly seen = new Set<number>();

  constructor(
    private readonly mem: PhysMem,
    private readonly memory: GuestPhysView,
    /** Machine address of the VM's guest-physical Sv39 root (guest-memory.ts). */
    private readonly root: number,
    private readonly stats: Float64Array,
  ) {}

  /**
   * A trap of the guest, before anything else sees it: returns SCAN_NOT_MINE
   * for everything that is not about scanned code (the usual exit path
   * follows), else handles it.
   */
  onTrap(h: Hart, cause: number, tval: number, pc: number): number {
    switch (cause) {
      case R.CAUSE_FETCH_PAGE_FAULT:
        return this.fetchFault(h, tval);
      case R.CAUSE_STORE_PAGE_FAULT:
        return this.codeWrite(h, tval, pc);
      case R.CAUSE_LOAD_PAGE_FAULT:
        return this.codeRead(h, tval, pc);
      case R.CAUSE_ILLEGAL_INSTRUCTION:
        return this.patchedSite(tval, pc);
      default:
        return SCAN_NOT_MINE;
    }
  }

  /** A fetch from a backed page without X: scan it (first run, or again after a write). */
  private fetchFault(h: Hart, gpa: number): number {
    const page = this.pageOf(gpa);
    if (page < 0 || this.scanned.has(page)) return SCAN_NOT_MINE;
    const off = this.memory.translate(this.pageBase(page), PAGE_SIZE);
    if (off < 0) return SCAN_NOT_MINE; // not backed yet: the main thread maps it, the retry comes back here
    this.scan(h, page, off);
    return SCAN_HANDLED;
  }

  /** Sweeps the page at machine offset `off`, patches it, counts, and maps it scanned or patched. */
  private scan(h: Hart, page: number, off: number): void {
    const sites = new Map<number, number>();
    const u16 = this.mem.u16;
    for (let at = this.entryOffset(page); at < PAGE_SIZE; ) {
      const low = u16[(off + at) >>> 1];
      if ((low & 3) !== 3) {
        at += 2;
        continue;
      }
      const high = at + 2 < PAGE_SIZE ? u16[(off + at + 2) >>> 1] : this.nextPageHalf(page);
      if (high >= 0 && isNonvirtSensitive((low | (high << 16)) >>> 0)) {
        sites.set(at, low);
        u16[(off + at) >>> 1] = PATCH_LOW;
      }
      at += 4;
    }
    this.scanned.set(page, { sites });
    const stats = this.stats;
    stats[STAT.scan_pages]++;
    if (this.seen.has(page)) stats[STAT.scan_rescans]++;
    this.seen.add(page);
    stats[STAT.scan_patched_sites] += sites.size;
    this.mem.invalidateCode(off, PAGE_SIZE);
    this.setFlags(page, sites.size > 0 ? PTE_PATCHED : PTE_SCANNED, h);
  }

  /**
   * A guest store to a scanned page. From another page it unprotects the
   * page, which is rescanned when it next runs (a loop copying code pays
   * once). A store to its own page could then never run again — without X
   * it cannot be fetched, with X it cannot write — so it is performed here
   * on the originals and the page rescanned at once. (An AMO or SC to its own
   * code page, which this does not emulate, would keep faulting.)
   */
  private codeWrite(h: Hart, gpa: number, pc: number): number {
    const page = this.pageOf(gpa);
    if (page < 0 || !this.scanned.has(page)) return SCAN_NOT_MINE;
    const access = this.pageOf(pc) === page ? decodeMmioAccess(h.instructionBits(pc)) : undefined;
    const addr = access === undefined ? -1 : h.getReg(access.base) + access.offset;
    if (access === undefined || !access.write || this.pageOf(addr) !== page || this.pageOf(addr + access.width - 1) !== page) {
      this.unprotect(h, gpa);
      return SCAN_HANDLED;
    }
    this.unprotect(h, gpa);
    const off = this.memory.translate(addr, access.width);
    const x = h.x;
    for (let k = 0; k < access.width; k++) {
      const word = k < 4 ? x[2 * access.reg] : x[2 * access.reg + 1];
      this.mem.u8[off + k] = (word >>> (8 * (k & 3))) & 0xff;
    }
    this.scan(h, page, off - (addr & (PAGE_SIZE - 1)));
    h.pc = pc + access.length;
    return SCAN_HANDLED;
  }

  /** A guest store to a scanned page: put the originals back and make it data again. True if it was scanned. */
  private unprotect(h: Hart, gpa: number): boolean {
    const page = this.pageOf(gpa);
    const record = page < 0 ? undefined : this.scanned.get(page);
    if (record === undefined) return false;
    const off = this.memory.translate(this.pageBase(page), PAGE_SIZE);
    for (const [at, low] of record.sites) this.mem.u16[(off + at) >>> 1] = low;
    this.scanned.delete(page);
    this.stats[STAT.scan_code_writes]++;
    this.mem.invalidateCode(off, PAGE_SIZE);
    this.setFlags(page, PTE_DATA, h);
    return true;
  }

  /**
   * A load from a patched (execute-only) page: the guest reads its own code
   * and must see the original bytes. A plain load is served here; anything
   * else (LR) unprotects the page and runs again, which is as correct and
   * costs a rescan.
   */
  private codeRead(h: Hart, gpa: number, pc: number): number {
    const page = this.pageOf(gpa);
    if (page < 0 || !this.scanned.has(page)) return SCAN_NOT_MINE;
    const access = decodeMmioAccess(h.instructionBits(pc));
    const addr = access === undefined ? -1 : h.getReg(access.base) + access.offset;
    let lo = 0;
    let hi = 0;
    if (access !== undefined && !access.write) {
      for (let k = 0; k < access.width; k++) {
        const byte = this.originalByte(addr + k);
        if (byte < 0) return this.unprotect(h, gpa) ? SCAN_HANDLED : SCAN_NOT_MINE;
        if (k < 4) lo |= byte << (8 * k);
        else hi |= byte << (8 * (k - 4));
      }
      if (access.signed && access.width < 4) lo = (lo << (32 - 8 * access.width)) >> (32 - 8 * access.width);
      if (access.width < 8) hi = access.signed && lo < 0 ? -1 : 0;
      if (access.reg !== 0) {
        h.x[2 * access.reg] = lo;
        h.x[2 * access.reg + 1] = hi;
      }
      this.stats[STAT.scan_code_reads]++;
      h.pc = pc + access.length;
      return SCAN_HANDLED;
    }
    return this.unprotect(h, gpa) ? SCAN_HANDLED : SCAN_NOT_MINE;
  }

  /** An illegal instruction: one of our patches (SCAN_EMULATE, `original` set), or the guest's own. */
  private patchedSite(bits: number, pc: number): number {
    if ((bits & 0xffff) !== PATCH_LOW) return SCAN_NOT_MINE;
    const page = this.pageOf(pc);
    const low = page < 0 ? undefined : this.scanned.get(page)?.sites.get(pc & (PAGE_SIZE - 1));
    if (low === undefined) return SCAN_NOT_MINE;
    this.original = ((bits & 0xffff0000) | low) >>> 0;
    this.stats[STAT.scan_patch_exit]++;
    return SCAN_EMULATE;
  }

  /** A byte of guest RAM as the guest wrote it (patches undone), or -1 where there is no backed RAM. */
  private originalByte(gpa: number): number {
    const page = this.pageOf(gpa);
    const at = gpa & (PAGE_SIZE - 1);
    const low = page < 0 ? undefined : this.scanned.get(page)?.sites.get(at & ~1);
    if (low !== undefined) return (at & 1) === 0 ? low & 0xff : low >>> 8;
    const off = this.memory.translate(gpa, 1);
    return off < 0 ? -1 : this.mem.u8[off];
  }

  /**
   * Where the sweep of `page` starts: 2 when the sweep of the page before it
   * (from its own start) ends in a 32-bit instruction crossing into this one.
   */
  private entryOffset(page: number): number {
    if (page === 0) return 0;
    const off = this.memory.translate(this.pageBase(page - 1), PAGE_SIZE);
    if (off < 0) return 0;
    const u16 = this.mem.u16;
    let at = 0;
    while (at < PAGE_SIZE) at += (u16[(off + at) >>> 1] & 3) === 3 ? 4 : 2;
    return at - PAGE_SIZE;
  }

  /** The first halfword of the page after `page`, or -1 if it is not backed. */
  private nextPageHalf(page: number): number {
    const off = this.memory.translate(this.pageBase(page + 1), 2);
    return off < 0 ? -1 : this.mem.u16[off >>> 1];
  }

  /** The guest page index of a guest-physical address, or -1 outside RAM. */
  private pageOf(gpa: number): number {
    const rel = gpa - this.memory.ramBase;
    return rel >= 0 && rel < this.memory.ramSize ? rel >>> PAGE_SHIFT : -1;
  }

  private pageBase(page: number): number {
    return this.memory.ramBase + page * PAGE_SIZE;
  }

  /** Rewrites the flags of a RAM page's leaf PTE in the guest-physical table and drops the hart's stale translations. */
  private setFlags(page: number, flags: number, h: Hart): void {
    const word = this.leafWord(this.pageBase(page));
    const i32 = this.mem.i32;
    Atomics.store(i32, word, (Atomics.load(i32, word) & ~PTE_FLAGS) | flags);
    h.flushTlbs();
  }

  /** The int32 index of the leaf PTE for `gpa` (a backed page: guest-memory.ts has built the walk). Bounded by the three levels. */
  private leafWord(gpa: number): number {
    const i32 = this.mem.i32;
    let table = this.root;
    for (let level = 2; ; level--) {
      const vpn = Math.floor(gpa / (PAGE_SIZE * 512 ** level)) % 512;
      const word = (table - DRAM_BASE + vpn * 8) >>> 2;
      if (level === 0) return word;
      const lo = Atomics.load(i32, word);
      if ((lo & R.PTE_V) === 0) throw new Error(`scan: no table for 0x${gpa.toString(16)} (a backed page always has one)`);
      table = ((i32[word + 1] & 0x3f_ffff) * TWO_22 + (lo >>> 10)) * PAGE_SIZE;
    }
  }
}
