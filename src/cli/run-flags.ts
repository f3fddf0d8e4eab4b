/*
 * The flags of `popek run` (and of `popek diff`, which takes the same), as
 * commander hands them over, and what both run paths read from them alike.
 */

import { ConfigError } from "../errors.ts";

export interface RunFlags {
  virt: string;
  harts?: string;
  vcpus?: string;
  shadowPages?: string;
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
}

export const VIRT_MODES = ["none", "trap"] as const;

/** The kernel image path: IMAGE or --kernel. */
export function kernelPathFrom(image: string | undefined, flags: RunFlags): string | undefined {
  if (image !== undefined && flags.kernel !== undefined) {
    throw new ConfigError("give the image either as IMAGE or as --kernel, not both");
  }
  return image ?? flags.kernel;
}
