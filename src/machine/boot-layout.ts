/*
 * Where QEMU's virt board puts things in RAM at boot, as rules both the
 * native board and the hypervisor's VMs follow (hw/riscv/boot.c): the initrd
 * above the kernel, the device tree at the top of RAM.
 */

import type { DeviceSpec } from "./device-list.ts";
import { buildBoardDeviceTree, fdtAddress } from "./board-dt.ts";
import { ISA_STRING, ISA_STRING_H } from "./riscv.ts";

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
