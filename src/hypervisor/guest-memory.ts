/*
 * A VM's guest-physical memory, owned on the main thread: guest RAM at
 * 0x8000_0000 backed by machine frames allocated on first touch, MMIO holes
 * everywhere else, and the Sv39 table that makes this map real for the
 * vCPU's hart.
 *
 * The guest runs in the hart's U-mode with paging on; its "virtual"
 * addresses are guest-physical addresses, and this table maps each RAM page
 * to its machine frame (U|R|W|X|A|D). Nothing else is mapped — not another
 * VM's frames, not the table itself, not the MMIO holes — so every device
 * access and every first touch of a RAM page faults and exits. That is the
 * isolation invariant: a guest reaches only frames in its own map.
 *
 * The same map, guest page -> machine frame, is kept as a flat table in
 * shared memory (machine/guest-phys-view.ts), so any thread can translate through a
 * GuestMemoryView. Only `ensure` backs pages; views never allocate, and the
 * main thread's view (`view`) calls `ensure` before it writes.
 */

import { DRAM_BASE, PAGE_SHIFT, PAGE_SIZE } from "../machine/memlayout.ts";
import * as R from "../machine/riscv.ts";
import { HGATP_MODE_SV39X4 } from "../machine/hext-defs.ts";
import type { FrameAllocator } from "./frames.ts";
import { GuestPhysView, MAX_DEVICE_PAGES, type GuestPhysMap } from "../machine/guest-phys-view.ts";
import { newCodeWriteShare } from "../machine/code-writes.ts";

const PTE_LEAF = R.PTE_V | R.PTE_R | R.PTE_W | R.PTE_X | R.PTE_U | R.PTE_A | R.PTE_D;
/** A device page mapped straight into the guest: data only, never fetched from. */
const PTE_DEVICE = R.PTE_V | R.PTE_R | R.PTE_W | R.PTE_U | R.PTE_A | R.PTE_D;
const TWO_22 = 4194304;
const FRAME_TABLE_ENTRY_BYTES = 4;
/** An Sv39x4 root table: 2048 entries. */
const GSTAGE_ROOT_PAGES = 4;

export class GuestMemory {
  readonly ramBase = DRAM_BASE;
  /** The shared guest page -> machine page table, for views on other threads. */
  readonly map: GuestPhysMap;
  /** The main thread's view: writes to unbacked RAM back it first. */
  readonly view: GuestPhysView;
  /** Machine page number of each guest RAM page's frame; 0 until first touch. */
  private readonly frames: Int32Array;
  /** The device pages mapped into the guest (GuestPhysMap.devicePages), for the shadow page tables. */
  private readonly devicePages: Int32Array;
  /** Machine address of the Sv39 root table. */
  readonly root: number;
  private readonly ownFrames: number[] = [];

  constructor(
    private readonly allocator: FrameAllocator,
    readonly ramSize: number,
    /** --nonvirt-fix scan: RAM is mapped without X, so the first fetch from each page exits to the code scanner (nonvirt/code-scanner.ts). */
    private readonly scanCode = false,
    /** --virt hw: the root is also the G-stage's (Sv39x4), so it takes 16 KiB, 16 KiB aligned; its first page is the Sv39 root. */
    private readonly gstage = false,
    /** Where the vCPUs' shared code map goes in machine memory (a vCPU arena's, so wasm blocks read it); -1: in the log's own buffer. */
    codeMapAt = -1,
  ) {
    const frameTable = new SharedArrayBuffer((ramSize / PAGE_SIZE) * FRAME_TABLE_ENTRY_BYTES);
    this.frames = new Int32Array(frameTable);
    const devicePages = new SharedArrayBuffer((1 + 2 * MAX_DEVICE_PAGES) * 4);
    this.devicePages = new Int32Array(devicePages);
    const codeWrites = newCodeWriteShare(allocator.mem.pages, codeMapAt);
    this.map = { frameTable, ramBase: this.ramBase, ramSize, devicePages, codeWrites };
    this.view = new GuestPhysView(allocator.mem.buffer, this.map, (gpa, length) => this.ensure(gpa, length));
    this.root = gstage ? allocator.allocAligned(GSTAGE_ROOT_PAGES, GSTAGE_ROOT_PAGES * PAGE_SIZE) : this.newTable();
  }

  /** hgatp for this map as the G-stage (--virt hw): Sv39x4, VMID 0, as (lo, hi). Guest-physical addresses below 2^39 index the Sv39 root's entries alike. */
  hgatp(): { lo: number; hi: number } {
    const ppn = this.root / PAGE_SIZE;
    return { lo: ppn | 0, hi: (HGATP_MODE_SV39X4 << 28) | Math.floor(ppn / 2 ** 32) };
  }

  /** satp for the vCPU's hart: Sv39, ASID 0, root = this VM's table. As (lo, hi). */
  satp(): { lo: number; hi: number } {
    const ppn = this.root / PAGE_SIZE;
    return { lo: ppn | 0, hi: (R.SATP_MODE_SV39 << 28) | Math.floor(ppn / 2 ** 32) };
  }

  isRam(gpa: number): boolean {
    return gpa >= this.ramBase && gpa < this.ramBase + this.ramSize;
  }

  /** Frames this VM holds (RAM pages touched plus its page tables). */
  get frameCount(): number {
    return this.ownFrames.length;
  }

  /** Backs every RAM page of [gpa, gpa + length) with a frame and maps it; false (backing nothing) if any byte is not RAM. */
  ensure(gpa: number, length = 1): boolean {
    const len = Math.max(length, 1);
    if (!this.isRam(gpa) || !this.isRam(gpa + len - 1)) return false;
    const last = (gpa + len - 1 - this.ramBase) >>> PAGE_SHIFT;
    for (let page = (gpa - this.ramBase) >>> PAGE_SHIFT; page <= last; page++) {
      if (this.frames[page] !== 0) continue;
      const frame = this.allocator.alloc();
      this.ownFrames.push(frame);
      // The frame is zeroed before its number is published to other threads' views.
      Atomics.store(this.frames, page, frame / PAGE_SIZE);
      this.mapPage(this.ramBase + page * PAGE_SIZE, frame, this.scanCode ? PTE_LEAF & ~R.PTE_X : PTE_LEAF);
    }
    return true;
  }

  /** A zeroed machine frame the VM owns (released with it): a device's register page, an IOMMU table. */
  ownFrame(): number {
    const frame = this.allocator.alloc();
    this.ownFrames.push(frame);
    return frame;
  }

  /**
   * Maps a device's register page (a machine frame) at guest-physical `gpa`,
   * outside RAM, straight into the guest: its loads and stores there no
   * longer exit (an assigned device, src/devices/assigned-nic/). Not RAM to
   * the views: DMA and the VMM's own accesses cannot reach it.
   */
  mapDevicePage(gpa: number, frame: number): void {
    if (gpa % PAGE_SIZE !== 0 || this.isRam(gpa)) throw new RangeError(`guest memory: a device page at 0x${gpa.toString(16)} must be page-aligned and outside RAM`);
    const d = this.devicePages;
    const n = d[0];
    if (n >= MAX_DEVICE_PAGES) throw new RangeError(`guest memory: more than ${MAX_DEVICE_PAGES} device pages`);
    d[1 + 2 * n] = gpa / PAGE_SIZE;
    d[2 + 2 * n] = frame / PAGE_SIZE;
    Atomics.store(d, 0, n + 1); // published after the pair
    this.mapPage(gpa, frame, PTE_DEVICE);
  }

  /** Gives every frame back (the VM is gone). */
  release(): void {
    for (const f of this.ownFrames) this.allocator.release(f);
    this.ownFrames.length = 0;
    this.frames.fill(0);
    for (let k = 0; k < (this.gstage ? GSTAGE_ROOT_PAGES : 1); k++) this.allocator.release(this.root + k * PAGE_SIZE);
  }

  private newTable(): number {
    return this.allocator.alloc();
  }

  /** Writes the leaf PTE for a 4 KiB page, creating intermediate tables. Bounded by the three levels. */
  private mapPage(gpa: number, frame: number, leaf: number): void {
    const mem = this.allocator.mem;
    const vpn = [Math.floor(gpa / PAGE_SIZE) % 512, Math.floor(gpa / (PAGE_SIZE * 512)) % 512, Math.floor(gpa / (PAGE_SIZE * 512 * 512)) % 512];
    let table = this.root;
    for (let level = 2; level > 0; level--) {
      const word = (table - DRAM_BASE + vpn[level] * 8) >>> 2;
      const lo = mem.i32[word];
      if ((lo & R.PTE_V) === 0) {
        const next = this.newTable();
        this.ownFrames.push(next);
        writePte(mem.i32, word, next / PAGE_SIZE, R.PTE_V);
        table = next;
      } else {
        table = ((mem.i32[word + 1] & 0x3f_ffff) * TWO_22 + (lo >>> 10)) * PAGE_SIZE;
      }
    }
    const word = (table - DRAM_BASE + vpn[0] * 8) >>> 2;
    writePte(mem.i32, word, frame / PAGE_SIZE, leaf);
  }
}

/** A PTE: PPN in bits 53:10, flags below. The high word is written first so the walk never sees a valid half-PTE. */
function writePte(i32: Int32Array, word: number, ppn: number, flags: number): void {
  Atomics.store(i32, word + 1, Math.floor(ppn / TWO_22));
  Atomics.store(i32, word, ((ppn % TWO_22) << 10) | flags);
}
