/*
 * The flags of `popek run` (and of `popek diff`, which takes the same), as
 * commander hands them over, and what both run paths read from them alike.
 */

import { ConfigError } from "../errors.ts";
import { MMU_MODES, type MmuMode } from "../machine/swtlb.ts";
import { parseChoice } from "./options.ts";
import type { DeviceFlags } from "./devices.ts";

export interface RunFlags extends DeviceFlags {
  virt: string;
  harts?: string;
  vcpus?: string;
  shadowPages?: string;
  shadowCoherence: string;
  mem: string;
  bios?: string;
  kernel?: string;
  append?: string;
  initrd?: string;
  timeout?: string;
  clock: string;
  wait: string;
  exitHandler: string;
  stats?: boolean;
  mmu: string;
}

export const VIRT_MODES = ["none", "trap"] as const;

/** --mmu: the harts' MMU, natively and (for the real hart) under --virt trap. */
export function mmuFrom(flags: RunFlags): MmuMode {
  return parseChoice("--mmu", flags.mmu ?? "sv39", MMU_MODES);
}

/** The kernel image path: IMAGE or --kernel. */
export function kernelPathFrom(image: string | undefined, flags: RunFlags): string | undefined {
  if (image !== undefined && flags.kernel !== undefined) {
    throw new ConfigError("give the image either as IMAGE or as --kernel, not both");
  }
  return image ?? flags.kernel;
}
