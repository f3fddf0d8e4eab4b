/*
 * The flags of `popek run` (and of `popek diff`, which takes the same), as
 * commander hands them over, and what both run paths read from them alike.
 */

import { ConfigError } from "../errors.ts";
import type { BootImages } from "../machine/board.ts";
import { readImageFile } from "../machine/image.ts";
import { MMU_MODES, type MmuMode } from "../machine/swtlb.ts";
import { ISA_VARIANTS, type IsaVariant } from "../machine/isa-variant.ts";
import { NONVIRT_FIXES, type NonvirtFix } from "../hypervisor/nonvirt/fixes.ts";
import { parseChoice } from "./options.ts";
import { textImageNote } from "./image-hint.ts";
import type { DeviceFlags } from "./devices.ts";

export interface RunFlags extends DeviceFlags {
  virt: string;
  harts?: string;
  vcpus?: string;
  shadowPages?: string;
  /** --shadow-coherence tlb|wp (default tlb). */
  shadowCoherence?: string;
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
  isaVariant?: string;
  nonvirtFix?: string;
  /** --cpu rv64[,h=true]: the native harts' model (cpu-flag.ts). */
  cpu?: string;
  /** --trace FILE, --trace-ring N, --top (src/trace/, top.ts): --virt trap only. */
  trace?: string;
  traceRing?: string;
  top?: boolean;
  /** --pin [CPUS]: true alone, or the main thread's core then each vCPU's (src/host/affinity.ts). */
  pin?: boolean | string;
  /** --gdb DEV, -s (--gdb tcp::1234), -S (halted until the debugger continues): run-gdb.ts, native board only. */
  gdb?: string;
  s?: boolean;
  S?: boolean;
}

export const VIRT_MODES = ["none", "trap", "hw"] as const;

/** --mmu: the harts' MMU, natively and (for the real hart) under --virt trap. */
export function mmuFrom(flags: RunFlags): MmuMode {
  return parseChoice("--mmu", flags.mmu ?? "sv39", MMU_MODES);
}

/** --isa-variant: standard RISC-V, or the non-virtualizable variant (src/machine/isa-variant.ts). */
export function isaVariantFrom(flags: RunFlags): IsaVariant {
  return parseChoice("--isa-variant", flags.isaVariant ?? "standard", ISA_VARIANTS);
}

/** --nonvirt-fix, checked against the rest: scanning only means something under trap, on the variant. */
export function nonvirtFixFrom(flags: RunFlags, virt: string): NonvirtFix {
  const fix = parseChoice("--nonvirt-fix", flags.nonvirtFix ?? "none", NONVIRT_FIXES);
  if (fix === "none") return fix;
  if (virt !== "trap") throw new ConfigError("--nonvirt-fix scan: the hypervisor scans guest code; it applies under --virt trap");
  if (isaVariantFrom(flags) !== "nonvirt") throw new ConfigError("--nonvirt-fix scan: there is nothing to fix on the standard ISA; add --isa-variant nonvirt");
  return fix;
}

/** The kernel image path: IMAGE or --kernel. */
export function kernelPathFrom(image: string | undefined, flags: RunFlags): string | undefined {
  if (image !== undefined && flags.kernel !== undefined) {
    throw new ConfigError("give the image either as IMAGE or as --kernel, not both");
  }
  return image ?? flags.kernel;
}

/** Reads an image the user named (IMAGE, --kernel, --bios), with a note when it is plain text (image-hint.ts). */
export function readUserImage(path: string, what: string, note: (line: string) => void): Uint8Array {
  const bytes = readImageFile(path, what);
  const hint = textImageNote(path, bytes);
  if (hint !== undefined) note(hint);
  return bytes;
}

/** Turns the command line into the native board's boot images; `note` gets a line about an image that is plain text. */
export function bootImagesFrom(image: string | undefined, flags: RunFlags, note: (line: string) => void = () => {}): BootImages {
  const kernelPath = kernelPathFrom(image, flags);
  const bios = flags.bios ?? "none";
  if (bios === "hv") throw new ConfigError("--bios hv: the hypervisor's SBI exists only under --virt trap");
  const firmware = bios === "none" ? undefined : readUserImage(bios, "bios", note);
  if (kernelPath === undefined && firmware === undefined) {
    throw new ConfigError("nothing to run: give an IMAGE (or --kernel PATH, or --bios PATH)");
  }
  return {
    firmware,
    kernel: kernelPath === undefined ? undefined : readUserImage(kernelPath, "kernel", note),
    initrd: flags.initrd === undefined ? undefined : readImageFile(flags.initrd, "initrd"),
    append: flags.append,
  };
}
