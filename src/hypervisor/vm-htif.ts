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

import { htifMemoryOf, htifSymbols, pollHtif, type HtifMemory, type HtifSymbols } from "../machine/htif.ts";
import { loadGuestImage } from "../machine/image.ts";
import { DRAM_BASE } from "../machine/memlayout.ts";
import type { GuestMemory } from "./guest-memory.ts";
import type { VmImages } from "./vm-boot.ts";

export class VmHtif {
  private readonly view: HtifMemory;

  private constructor(
    private readonly at: HtifSymbols,
    memory: GuestMemory,
    private readonly output: (byte: number) => void,
  ) {
    this.view = htifMemoryOf(memory.view);
  }

  /** HTIF for the VM's kernel image, if it has a `tohost` symbol. */
  static forImages(images: VmImages, memory: GuestMemory, output: (byte: number) => void): VmHtif | undefined {
    if (images.kernel === undefined) return undefined;
    const at = htifSymbols(loadGuestImage(images.kernel, DRAM_BASE, "kernel").symbols);
    return at === undefined ? undefined : new VmHtif(at, memory, output);
  }

  /** The program's exit code once it has written one to tohost, else undefined. */
  poll(): number | undefined {
    return pollHtif(this.view, this.at, this.output);
  }
}
