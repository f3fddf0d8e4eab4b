/*
 * Where QEMU's virt board puts things in RAM at boot, as rules both the
 * native board and the hypervisor's VMs follow (hw/riscv/boot.c): the initrd
 * above the kernel, the device tree at the top of RAM.
 */

import type { DeviceSpec } from "./device-list.ts";
import { buildBoardDeviceTree, fdtAddress } from "./board-dt.ts";
import { ISA_STRING, ISA_STRING_H } from "./riscv.ts";
import type { GuestImage } from "./image.ts";
import { ConfigError } from "../errors.ts";

/**
 * The initrd's address: far enough above the kernel that it survives
 * decompression — halfway into RAM on small boards, 128M above the kernel on
 * large ones.
 */
export function initrdAddress(kernelBase: number, ramSize: number): number {
  return kernelBase + Math.min(ramSize / 2, 128 * 2 ** 20);
}

export interface DeviceTreePlacement {
  readonly blob: Uint8Array;
  readonly address: number;
}

/** The board's device tree for this boot, and where it goes. */
export function boardDeviceTree(cfg: {
  readonly harts: number;
  readonly ramBase: number;
  readonly ramSize: number;
  readonly bootargs?: string;
  readonly initrd?: { readonly start: number; readonly end: number };
  readonly devices: readonly DeviceSpec[];
  /** The harts implement the H extension: the ISA string says so. */
  readonly h?: boolean;
}): DeviceTreePlacement {
  const blob = buildBoardDeviceTree({ ...cfg, isa: cfg.h === true ? ISA_STRING_H : ISA_STRING });
  return { blob, address: fdtAddress(cfg.ramBase, cfg.ramSize, blob.length) };
}

/** A stretch of RAM that something loaded at boot occupies: [start, end). */
export interface BootRegion {
  readonly what: string;
  readonly start: number;
  readonly end: number;
}

/** The stretches an image's segments occupy (each to its memory size: an ELF's bss counts). */
export function imageRegions(image: GuestImage, what: string): BootRegion[] {
  return image.chunks.filter((c) => c.memSize > 0).map((c) => ({ what, start: c.addr, end: c.addr + c.memSize }));
}

const hex = (v: number): string => `0x${v.toString(16)}`;

/**
 * Refuses a boot whose pieces land on one another — firmware, kernel,
 * initrd, device tree — naming both, as QEMU refuses overlapping ROM
 * regions ("rom: requested regions overlap"). Without the check the later
 * write wins and the guest starts on a corrupted kernel or device tree: on a
 * small --mem the device tree at the top of RAM can reach down into the
 * kernel. Regions of one image are its own business.
 */
export function checkBootRegions(regions: readonly BootRegion[]): void {
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) {
      const a = regions[i];
      const b = regions[j];
      if (a.what === b.what || a.end <= b.start || b.end <= a.start) continue;
      throw new ConfigError(
        `${a.what} (${hex(a.start)}-${hex(a.end)}) and ${b.what} (${hex(b.start)}-${hex(b.end)}) overlap in RAM (try a larger --mem)`,
      );
    }
  }
}
