/*
 * Machine memory and its frame allocator. Machine memory is one shared
 * WebAssembly.Memory; every vCPU thread maps it as its hart's RAM, at the
 * same physical addresses (DRAM_BASE upward). The hypervisor hands out 4 KiB
 * frames from it — to guests (their RAM, lazily) and to itself (the page
 * tables that confine each guest to its own frames). Frames are zeroed
 * before they are handed out, so no guest ever sees another's old data.
 *
 * Past the frames, the same memory holds VCPU_ARENAS arena spans for the
 * wasm block tier (machine/jit/wasm-arena.ts): a vCPU thread that claims one
 * keeps its registers, TLBs and block maps there, where its wasm blocks
 * read them. Nothing that hands out frames, DMA (machineBytes) or guest
 * memory views reaches them: all are bounded by mem.size.
 */

import { PhysMem } from "../machine/physmem.ts";
import { DRAM_BASE, PAGE_SHIFT, PAGE_SIZE } from "../machine/memlayout.ts";
import { WasmArena, vcpuArenaBytes } from "../machine/jit/wasm-arena.ts";

/**
 * vCPU threads that can run the wasm tier at once, over all VMs of the
 * process; one more runs the JS tier only (VmConfig's vCPUs beyond it, until
 * a VM ends and gives its spans back). Spans are reserved address space:
 * the OS commits only the block maps a thread writes.
 */
const VCPU_ARENAS = 8;

class OutOfMachineMemory extends Error {
  override readonly name = "OutOfMachineMemory";
}

export class FrameAllocator {
  readonly mem: PhysMem;
  private next = 0;
  private readonly free: number[] = [];
  allocated = 0;
  /** Byte addresses of the arena spans no vCPU holds, and of those an earlier one held (cleared before reuse). */
  private readonly freeArenas: number[] = [];
  private readonly usedArenas = new Set<number>();

  constructor(bytes: number, arenas = VCPU_ARENAS) {
    const span = vcpuArenaBytes(bytes >>> PAGE_SHIFT);
    this.mem = new PhysMem(bytes, undefined, undefined, 0, { reserve: arenas * span });
    for (let k = arenas - 1; k >= 0; k--) this.freeArenas.push(bytes + k * span);
  }

  /**
   * A vCPU arena span's byte address for a new vCPU thread, cleared of what an
   * earlier one left; -1 when all are held (that vCPU keeps the JS tier).
   */
  claimArena(): number {
    const at = this.freeArenas.pop();
    if (at === undefined) return -1;
    if (this.usedArenas.has(at)) new WasmArena(this.mem.buffer, at, this.mem.pages, 1).clear();
    this.usedArenas.add(at);
    return at;
  }

  /** Gives an arena span back once its vCPU thread has ended. */
  releaseArena(at: number): void {
    if (!this.usedArenas.has(at) || this.freeArenas.includes(at)) throw new RangeError(`frames: arena 0x${at.toString(16)} is not held`);
    this.freeArenas.push(at);
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
