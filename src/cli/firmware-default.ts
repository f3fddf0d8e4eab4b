/*
 * `--virt trap` as a drop-in switch: the command line that runs an image
 * natively runs it deprivileged when `--virt trap` is added. Natively an
 * image without --bios starts in M-mode at its lowest address; under the
 * hypervisor that is `--bios none` (virtual M-mode). An S-mode kernel — one
 * that loads at 0x8020_0000 or above, where firmware hands over, or any
 * image given with --kernel — gets the hypervisor's SBI (`--bios hv`), as
 * QEMU gives it OpenSBI. Only an explicit --bios overrides the choice.
 */

import { loadGuestImage, readImageFile } from "../machine/image.ts";
import { DRAM_BASE, KERNEL_BASE } from "../machine/memlayout.ts";

interface FirmwareDefault {
  readonly bios: "none" | "hv";
  /** One line for stderr saying what was chosen and why. */
  readonly note: string;
}

/** The firmware for an IMAGE (or --kernel) run under --virt trap without --bios. */
export function trapFirmwareDefault(image: string | undefined): FirmwareDefault {
  if (image === undefined) {
    return { bios: "hv", note: "popek: --kernel without --bios: the kernel starts in virtual S-mode on the hypervisor's SBI (--bios hv)" };
  }
  // A flat binary loads at 0x8000_0000, as `-bios none -kernel IMAGE` loads it.
  const lowest = loadGuestImage(readImageFile(image, "kernel"), DRAM_BASE, "kernel").lowestAddr;
  const at = `0x${lowest.toString(16)}`;
  if (lowest >= KERNEL_BASE) {
    return { bios: "hv", note: `popek: ${image} loads at ${at}: an S-mode kernel, on the hypervisor's SBI (--bios hv)` };
  }
  return { bios: "none", note: `popek: ${image} starts at ${at}: it runs in virtual M-mode (--bios none)` };
}
