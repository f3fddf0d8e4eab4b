/*
 * A VM's guest-physical memory: guest RAM at 0x8000_0000 backed by machine
 * frames allocated on first touch, MMIO holes everywhere else, and the Sv39
 * table that makes this map real for the vCPU's hart.
 *
 * The guest runs in the hart's U-mode with paging on; its "virtual"
 * addresses are guest-physical addresses, and this table maps each RAM page
 * to its machine frame (U|R|W|X|A|D). Nothing else is mapped — not another
 * VM's frames, not the table itself, not the MMIO holes — so every device
 * access and every first touch of a RAM page faults and exits. That is the
 * isolation invariant: a guest reaches only frames in its own map.
 */

import { DRAM_BASE, PAGE_SIZE } from "../machine/memlayout.ts";
import * as R from "../machine/riscv.ts";
import type { FrameAllocator } from "./frames.ts";

const PTE_LEAF = R.PTE_V | R.PTE_R | R.PTE_W | R.PTE_X | R.PTE_U | R.PTE_A | R.PTE_D;
const TWO_22 = 4194304;

export class GuestMemory {
  readonly ramBase = DRAM_BASE;
  /** Machine address of each guest RAM page's frame; 0 until first touch. */
  private readonly frames: Float64Array;
  /** Machine address of the Sv39 root table. */
  readonly root: number;
  private readonly ownFrames: number[] = [];

  constructor(
    private readonly allocator: FrameAllocator,
    readonly ramSize: number,
  ) {
    this.frames = new Float64Array(ramSize / PAGE_SIZE);
    this.root = this.newTable();
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

  /** Maps the RAM page holding gpa (allocating its frame); false if gpa is not RAM. */
  ensureMapped(gpa: number): boolean {
    if (!this.isRam(gpa)) return false;
    const page = Math.floor((gpa - this.ramBase) / PAGE_SIZE);
    if (this.frames[page] !== 0) return true;
    const frame = this.allocator.alloc();
    this.ownFrames.push(frame);
    this.frames[page] = frame;
    this.mapPage(gpa - (gpa % PAGE_SIZE), frame);
    return true;
  }

  /** Machine RAM offset (into the allocator's PhysMem) of gpa, allocating its page; -1 if not RAM. */
  machineOffset(gpa: number): number {
    if (!this.ensureMapped(gpa)) return -1;
    const page = Math.floor((gpa - this.ramBase) / PAGE_SIZE);
    return this.frames[page] - DRAM_BASE + (gpa % PAGE_SIZE);
  }

  /** Machine RAM offset of gpa if its page is already backed, else -1 (never allocates: a peek, e.g. HTIF's poll). */
  mappedOffset(gpa: number): number {
    if (!this.isRam(gpa)) return -1;
    const frame = this.frames[Math.floor((gpa - this.ramBase) / PAGE_SIZE)];
    return frame === 0 ? -1 : frame - DRAM_BASE + (gpa % PAGE_SIZE);
  }

  /** Copies bytes into guest RAM; false if any byte is outside RAM. */
  write(gpa: number, bytes: Uint8Array): boolean {
    if (!this.isRam(gpa) || !this.isRam(gpa + bytes.length - 1)) return false;
    const mem = this.allocator.mem;
    let done = 0;
    while (done < bytes.length) {
      const at = gpa + done;
      const chunk = Math.min(bytes.length - done, PAGE_SIZE - (at % PAGE_SIZE));
      mem.u8.set(bytes.subarray(done, done + chunk), this.machineOffset(at));
      done += chunk;
    }
    return true;
  }

  /** Copies bytes out of guest RAM; undefined if any byte is outside RAM. */
  read(gpa: number, length: number): Uint8Array | undefined {
    if (length === 0) return new Uint8Array(0);
    if (!this.isRam(gpa) || !this.isRam(gpa + length - 1)) return undefined;
    const out = new Uint8Array(length);
    const mem = this.allocator.mem;
    let done = 0;
    while (done < length) {
      const at = gpa + done;
      const chunk = Math.min(length - done, PAGE_SIZE - (at % PAGE_SIZE));
      const off = this.machineOffset(at);
      out.set(mem.u8.subarray(off, off + chunk), done);
      done += chunk;
    }
    return out;
  }

  /** Gives every frame back (the VM is gone). */
  release(): void {
    for (const f of this.ownFrames) this.allocator.release(f);
    this.ownFrames.length = 0;
    this.frames.fill(0);
    this.allocator.release(this.root);
  }

  private newTable(): number {
    return this.allocator.alloc();
  }

  /** Writes the leaf PTE for a 4 KiB page, creating intermediate tables. Bounded by the three levels. */
  private mapPage(gpa: number, frame: number): void {
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
    writePte(mem.i32, word, frame / PAGE_SIZE, PTE_LEAF);
  }
}

/** A PTE: PPN in bits 53:10, flags below. The high word is written first so the walk never sees a valid half-PTE. */
function writePte(i32: Int32Array, word: number, ppn: number, flags: number): void {
  Atomics.store(i32, word + 1, Math.floor(ppn / TWO_22));
  Atomics.store(i32, word, ((ppn % TWO_22) << 10) | flags);
}
