/*
 * The physical bus outside RAM: a short list of MMIO windows. The hart goes
 * here only on its slow path (a TLB miss to a non-RAM page), so a linear scan
 * over a handful of devices is fine.
 */

import type { AccessWidth, MmioDevice } from "../devices/device.ts";

interface Window {
  readonly base: number;
  readonly end: number;
  readonly device: MmioDevice;
}

export class Bus {
  private readonly windows: Window[] = [];

  /** Maps a device's register window at `base`. */
  map(base: number, device: MmioDevice): void {
    const end = base + device.size;
    for (const w of this.windows) {
      if (base < w.end && w.base < end) throw new Error(`bus: ${device.name} overlaps ${w.device.name}`);
    }
    this.windows.push({ base, end, device });
  }

  /** The device at a physical address, or undefined. */
  find(pa: number): Window | undefined {
    for (const w of this.windows) if (pa >= w.base && pa < w.end) return w;
    return undefined;
  }

  /** Reads a register; -1 means nothing answers there (an access fault). */
  read(pa: number, width: AccessWidth): number {
    const w = this.find(pa);
    if (w === undefined || pa + width > w.end) return -1;
    return w.device.read(pa - w.base, width) >>> 0;
  }

  /** Writes a register; false means nothing answers there. */
  write(pa: number, width: AccessWidth, value: number): boolean {
    const w = this.find(pa);
    if (w === undefined || pa + width > w.end) return false;
    w.device.write(pa - w.base, width, value);
    return true;
  }

  get devices(): readonly MmioDevice[] {
    return this.windows.map((w) => w.device);
  }
}
