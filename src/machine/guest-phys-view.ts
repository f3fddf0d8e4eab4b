/*
 * A VM's GuestMemoryView, usable on any thread: guest-physical addresses go
 * through the VM's frame table (guest RAM page -> machine page number, 0
 * while the page has no frame), which lives in a SharedArrayBuffer, so a
 * vCPU thread or a device back-end builds the same view from the same
 * buffers and translates without asking the main thread.
 *
 * The table is written only by the VM's GuestMemory on the main thread (a
 * frame number appears once, after its frame is zeroed, and changes only when
 * the VM is gone); other threads read it without locks. A reader that sees 0
 * for a page being backed at that moment reports FAULT_UNBACKED (or reads
 * zeros), both of which were true an instant earlier.
 *
 * A view reaches only frames in this table: that is the VM's isolation
 * invariant, the same one its Sv39 table gives the vCPU's hart.
 *
 * Every write through a view is marked in the VM's code-write log
 * (machine/code-writes.ts) when the map has one, so a vCPU's fence.i drops
 * the decoded code that DMA or an emulated store rewrote.
 */

import { FAULT_OUTSIDE, FAULT_SPLIT, FAULT_UNBACKED, rangeInside } from "./guest-memory-view.ts";
import { DRAM_BASE, PAGE_SHIFT, PAGE_SIZE } from "./memlayout.ts";
import { PagedGuestView } from "./paged-view.ts";
import { CodeWriteLog, type CodeWriteShare } from "./code-writes.ts";

/** What another thread needs to build a VM's view: plain data and shared buffers (it crosses postMessage). */
export interface GuestPhysMap {
  /** Int32 per guest RAM page: its machine page number, 0 while unbacked. */
  readonly frameTable: SharedArrayBuffer;
  readonly ramBase: number;
  readonly ramSize: number;
  /**
   * Device pages mapped straight into the guest (an assigned device's
   * register page, GuestMemory.mapDevicePage): Int32 [count, then (guest
   * page number, machine page number) pairs]. Not RAM: translate never
   * reaches them; devicePage() finds them for the shadow page tables.
   */
  readonly devicePages?: SharedArrayBuffer;
  /** The VM's log of writes its vCPUs' harts did not make themselves (over all machine memory's pages). */
  readonly codeWrites?: CodeWriteShare;
}

/** Pairs a device-page table holds at most. */
export const MAX_DEVICE_PAGES = 16;

export class GuestPhysView extends PagedGuestView {
  private readonly frames: Int32Array;
  private readonly devices: Int32Array | undefined;
  /** The VM's code-write log (its shared state, for threads that write machine memory themselves; and this view's handle on it). */
  readonly codeWrites: CodeWriteShare | undefined;
  private readonly codeLog: CodeWriteLog | undefined;

  /**
   * @param machine machine memory (the hypervisor's PhysMem buffer)
   * @param ensure  the owner's page backing, on the main thread only; absent elsewhere, so writes to unbacked RAM fault
   */
  constructor(
    machine: SharedArrayBuffer,
    map: GuestPhysMap,
    private readonly ensure?: (gpa: number, length: number) => boolean,
  ) {
    super(machine, map.ramBase, map.ramSize);
    this.frames = new Int32Array(map.frameTable);
    this.devices = map.devicePages === undefined ? undefined : new Int32Array(map.devicePages);
    this.codeWrites = map.codeWrites;
    this.codeLog = map.codeWrites === undefined ? undefined : new CodeWriteLog(map.codeWrites, machine);
    if (this.frames.length * PAGE_SIZE !== map.ramSize) throw new RangeError("GuestPhysView: frame table does not match RAM size");
  }

  translate(gpa: number, length: number): number {
    const len = Math.max(length, 1);
    if (!rangeInside(gpa, len, this.ramBase, this.ramSize)) return FAULT_OUTSIDE;
    const first = (gpa - this.ramBase) >>> PAGE_SHIFT;
    const last = (gpa + len - 1 - this.ramBase) >>> PAGE_SHIFT;
    const frames = this.frames;
    const pfn = frames[first];
    if (pfn === 0) return FAULT_UNBACKED;
    let split = false;
    for (let p = first + 1; p <= last; p++) {
      const next = frames[p];
      if (next === 0) return FAULT_UNBACKED;
      if (next !== pfn + (p - first)) split = true;
    }
    if (split) return FAULT_SPLIT;
    return pfn * PAGE_SIZE - DRAM_BASE + ((gpa - this.ramBase) & (PAGE_SIZE - 1));
  }

  /** Machine address of the device page mapped straight into the guest at `gpa`'s page, or -1. */
  devicePage(gpa: number): number {
    const d = this.devices;
    if (d === undefined) return -1;
    const page = Math.floor(gpa / PAGE_SIZE);
    const n = Math.min(Atomics.load(d, 0), MAX_DEVICE_PAGES);
    for (let i = 0; i < n; i++) if (d[1 + 2 * i] === page) return d[2 + 2 * i] * PAGE_SIZE;
    return -1;
  }

  protected override written(off: number, length: number): void {
    this.codeLog?.written(off, length);
  }

  protected override back(gpa: number, length: number): boolean {
    return this.ensure !== undefined && this.ensure(gpa, length);
  }
}
