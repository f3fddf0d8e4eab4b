/*
 * HTIF for a VM: the same protocol as the native board's (src/machine/htif.ts),
 * over the VM's guest-physical memory. Polled on the main thread, from the
 * hypervisor's periodic device tick (every ~0.5 ms while the VM runs, and at
 * least every doorbell sleep of 1 ms), not on the vCPU thread: a store to
 * tohost is a plain RAM store that never exits, the vCPU thread has no
 * console or VM stop of its own, and a poll on the tick costs the guest
 * nothing. A program that reports and then spins (riscv-tests' HTIF_REPORT)
 * or sleeps in wfi is stopped within a tick, as the native board stops it
 * within a slice.
 */

import { htifSymbols, pollHtif, type HtifMemory, type HtifSymbols } from "../machine/htif.ts";
import { loadGuestImage } from "../machine/image.ts";
import { DRAM_BASE } from "../machine/memlayout.ts";
import type { GuestMemory } from "./guest-memory.ts";
import type { VmImages } from "./vm-boot.ts";

export class VmHtif {
  private readonly view: HtifMemory;

  private constructor(
    private readonly at: HtifSymbols,
    memory: GuestMemory,
    i32: Int32Array,
    private readonly output: (byte: number) => void,
  ) {
    this.view = {
      // An unbacked page has never been written: it reads zero, and polling must not allocate it.
      readWord: (gpa) => {
        const off = memory.mappedOffset(gpa);
        return off < 0 ? (memory.isRam(gpa) ? 0 : undefined) : i32[off >>> 2];
      },
      writeWord: (gpa, value) => {
        const off = memory.mappedOffset(gpa);
        if (off >= 0) i32[off >>> 2] = value;
      },
    };
  }

  /** HTIF for the VM's kernel image, if it has a `tohost` symbol; `machine` is machine memory's words (memory's frames live there). */
  static forImages(images: VmImages, memory: GuestMemory, machine: Int32Array, output: (byte: number) => void): VmHtif | undefined {
    if (images.kernel === undefined) return undefined;
    const at = htifSymbols(loadGuestImage(images.kernel, DRAM_BASE, "kernel").symbols);
    return at === undefined ? undefined : new VmHtif(at, memory, machine, output);
  }

  /** The program's exit code once it has written one to tohost, else undefined. */
  poll(): number | undefined {
    return pollHtif(this.view, this.at, this.output);
  }
}
