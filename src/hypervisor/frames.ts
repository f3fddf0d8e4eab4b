/*
 * Machine memory and its frame allocator. Machine memory is one shared
 * WebAssembly.Memory; every vCPU thread maps it as its hart's RAM, at the
 * same physical addresses (DRAM_BASE upward). The hypervisor hands out 4 KiB
 * frames from it — to guests (their RAM, lazily) and to itself (the page
 * tables that confine each guest to its own frames). Frames are zeroed
 * before they are handed out, so no guest ever sees another's old data.
 */

import { PhysMem } from "../machine/physmem.ts";
import { DRAM_BASE, PAGE_SIZE } from "../machine/memlayout.ts";

class OutOfMachineMemory extends Error {
  override readonly name = "OutOfMachineMemory";
}

export class FrameAllocator {
  readonly mem: PhysMem;
  private next = 0;
  private readonly free: number[] = [];
  allocated = 0;

  constructor(bytes: number) {
    this.mem = new PhysMem(bytes);
  }

  get totalFrames(): number {
    return this.mem.pages;
  }

  /** A zeroed frame's machine physical address. */
  alloc(): number {
    let off: number;
    const reused = this.free.pop();
    if (reused !== undefined) {
      off = reused;
      this.mem.u8.fill(0, off, off + PAGE_SIZE);
    } else {
      if (this.next + PAGE_SIZE > this.mem.size) {
        throw new OutOfMachineMemory(`machine memory exhausted (${this.mem.size / 2 ** 20}M); give popek more with --host-mem`);
      }
      off = this.next; // fresh frames of a new WebAssembly.Memory are already zero
      this.next += PAGE_SIZE;
    }
    this.allocated++;
    return DRAM_BASE + off;
  }

  /**
   * `pages` contiguous zeroed frames whose first is aligned to `align` bytes
   * (an Sv39x4 root: 4 frames, 16 KiB), from fresh memory; frames skipped to
   * reach the alignment go to the free list. Returns the first's address.
   */
  allocAligned(pages: number, align: number): number {
    while ((DRAM_BASE + this.next) % align !== 0 && this.next < this.mem.size) {
      this.free.push(this.next);
      this.next += PAGE_SIZE;
    }
    if (this.next + pages * PAGE_SIZE > this.mem.size) throw new OutOfMachineMemory(`machine memory exhausted (${this.mem.size / 2 ** 20}M)`);
    const first = DRAM_BASE + this.next;
    this.next += pages * PAGE_SIZE;
    this.allocated += pages;
    return first;
  }

  /** Returns a frame; it is zeroed again before reuse. */
  release(pa: number): void {
    this.free.push(pa - DRAM_BASE);
    this.allocated--;
  }
}
