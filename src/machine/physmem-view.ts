/*
 * The native board's GuestMemoryView: guest-physical is machine-physical, RAM
 * is one contiguous PhysMem from DRAM_BASE, and every page is backed. A write
 * through the view forgets decoded instructions in the pages it touches, as
 * a hart's own store would (DMA that rewrites code must not run stale code).
 */

import { FAULT_OUTSIDE, rangeInside } from "./guest-memory-view.ts";
import { PAGE_SHIFT, PAGE_SIZE } from "./memlayout.ts";
import { PagedGuestView } from "./paged-view.ts";
import type { PhysMem } from "./physmem.ts";

export class PhysMemView extends PagedGuestView {
  constructor(private readonly mem: PhysMem) {
    super(mem.buffer, mem.base, mem.size);
  }

  translate(gpa: number, length: number): number {
    return rangeInside(gpa, Math.max(length, 1), this.ramBase, this.ramSize) ? gpa - this.ramBase : FAULT_OUTSIDE;
  }

  protected override written(off: number, length: number): void {
    const codeMap = this.mem.codeMap;
    const end = off + length;
    for (let page = off >>> PAGE_SHIFT; page <= (end - 1) >>> PAGE_SHIFT; page++) {
      if (codeMap[page] === 0) continue;
      const from = Math.max(off, page * PAGE_SIZE);
      const to = Math.min(end, (page + 1) * PAGE_SIZE);
      this.mem.invalidateCode(from, to - from);
    }
  }
}
