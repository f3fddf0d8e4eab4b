/*
 * Booting a VM: images into guest RAM as QEMU places them, the device tree
 * at the top of RAM, and each vCPU's initial virtual hart.
 *
 *   --bios hv    the hypervisor is the firmware: the kernel starts in virtual
 *                S-mode (a0 = hart id, a1 = device tree), everything
 *                delegable is delegated to S, SBI comes from the hypervisor;
 *                secondary vCPUs wait stopped for HSM hart_start.
 *   --bios none  the image starts in virtual M-mode on every vCPU, as on the
 *                native board; its M-mode CSR work traps and is emulated.
 *   --bios PATH  firmware (e.g. OpenSBI) in virtual M-mode on every vCPU,
 *                the kernel where the firmware expects it.
 */

import { ConfigError } from "../errors.ts";
import { REG } from "../isa/regnames.ts";
import type { DeviceSpec } from "../machine/board-devices.ts";
import { boardDeviceTree, checkBootRegions, imageRegions, initrdAddress, type BootRegion } from "../machine/boot-layout.ts";
import { GUEST_OK, GuestMemoryFault, type GuestFaultCode } from "../machine/guest-memory-view.ts";
import { loadGuestImage, type GuestImage } from "../machine/image.ts";
import { DRAM_BASE, FIRMWARE_BASE, KERNEL_BASE } from "../machine/memlayout.ts";
import * as R from "../machine/riscv.ts";
import type { GuestMemory } from "./guest-memory.ts";
import { HSM_STARTED, HSM_STOPPED } from "./exits/services.ts";
import type { VcpuContext } from "./vcpu-context.ts";
import type { CsrFile } from "../machine/csr.ts";

type BiosChoice = { readonly kind: "hv" } | { readonly kind: "none" } | { readonly kind: "firmware"; readonly bytes: Uint8Array };

export interface VmImages {
  readonly bios: BiosChoice;
  readonly kernel?: Uint8Array;
  readonly initrd?: Uint8Array;
  readonly append?: string;
}

function place(memory: GuestMemory, image: GuestImage, what: string): void {
  for (const chunk of image.chunks) {
    const end = chunk.addr + chunk.memSize;
    if (!memory.isRam(chunk.addr) || (chunk.memSize > 0 && !memory.isRam(end - 1))) {
      throw new ConfigError(
        `${what}: segment 0x${chunk.addr.toString(16)}-0x${end.toString(16)} lies outside guest RAM ` +
          `0x${memory.ramBase.toString(16)}-0x${(memory.ramBase + memory.ramSize).toString(16)} (try --mem)`,
      );
    }
    copyIn(memory, chunk.addr, chunk.data);
    if (chunk.memSize > chunk.data.length) copyIn(memory, chunk.addr + chunk.data.length, new Uint8Array(chunk.memSize - chunk.data.length));
  }
}

/** Loads the images and sets every vCPU's initial state. Returns whether SBI comes from the hypervisor. */
/** Writes loader bytes through the VM's view (which backs the pages); the caller has checked that they land in RAM. */
function copyIn(memory: GuestMemory, gpa: number, bytes: Uint8Array): void {
  const fault = memory.view.copyIn(gpa, bytes);
  if (fault !== GUEST_OK) throw new GuestMemoryFault(fault as GuestFaultCode, gpa, bytes.length);
}

export function bootVm(memory: GuestMemory, vcpus: readonly VcpuContext[], images: VmImages, devices: readonly DeviceSpec[]): boolean {
  const bios = images.bios;
  let kernel: GuestImage | undefined;
  if (images.kernel !== undefined) {
    kernel = loadGuestImage(images.kernel, bios.kind === "none" ? DRAM_BASE : KERNEL_BASE, "kernel");
    if (bios.kind === "hv" && kernel.lowestAddr < KERNEL_BASE) {
      throw new ConfigError(
        `kernel: loads at 0x${kernel.lowestAddr.toString(16)}, inside the firmware's region below 0x${KERNEL_BASE.toString(16)}; ` +
          "an M-mode program runs with --bios none",
      );
    }
    place(memory, kernel, "kernel");
  }
  const regions: BootRegion[] = kernel === undefined ? [] : imageRegions(kernel, "kernel");
  let entry: number;
  if (bios.kind === "firmware") {
    const fw = loadGuestImage(bios.bytes, FIRMWARE_BASE, "bios");
    place(memory, fw, "bios");
    regions.push(...imageRegions(fw, "bios"));
    entry = fw.entry;
  } else if (kernel !== undefined) {
    entry = kernel.lowestAddr;
  } else {
    throw new ConfigError("nothing to run: give an IMAGE (or --kernel PATH, or --bios PATH)");
  }
  let initrd: { start: number; end: number } | undefined;
  if (images.initrd !== undefined) {
    const start = initrdAddress(kernel?.lowestAddr ?? DRAM_BASE, memory.ramSize);
    if (!memory.isRam(start) || !memory.isRam(start + images.initrd.length - 1)) {
      throw new ConfigError("initrd: does not fit in guest RAM (try a larger --mem)");
    }
    copyIn(memory, start, images.initrd);
    initrd = { start, end: start + images.initrd.length };
    regions.push({ what: "initrd", ...initrd });
  }
  const dt = boardDeviceTree({ harts: vcpus.length, ramBase: memory.ramBase, ramSize: memory.ramSize, bootargs: images.append, initrd, devices });
  checkBootRegions([...regions, { what: "device tree", start: dt.address, end: dt.address + dt.blob.length }]);
  copyIn(memory, dt.address, dt.blob);
  const fdt = dt.address;

  const hv = bios.kind === "hv";
  for (const ctx of vcpus) {
    ctx.x.fill(0);
    ctx.setReg(REG.a0, ctx.hartId);
    ctx.setReg(REG.a1, fdt);
    ctx.pc = entry;
    ctx.page.timerDeadline[0] = Infinity;
    if (hv) becomeSupervisor(ctx);
    // Under --bios hv only the boot hart runs; the others wait for HSM hart_start (SBI spec 9).
    Atomics.store(ctx.page.hsm, 0, !hv || ctx.hartId === 0 ? HSM_STARTED : HSM_STOPPED);
  }
  return hv;
}

/** The virtual hart as firmware leaves it for an S-mode kernel (what OpenSBI does before jumping). */
function becomeSupervisor(ctx: VcpuContext): void {
  supervisorDefaults(ctx.csr);
}

/**
 * M-mode state the hypervisor, acting as firmware, gives a hart it starts in
 * S-mode (at boot and on HSM hart_start): everything delegable delegated,
 * counters readable, Sstc enabled with its comparator disarmed.
 */
export function supervisorDefaults(c: CsrFile): void {
  c.write(R.CSR_MEDELEG, R.MEDELEG_WRITABLE & ~(1 << R.CAUSE_ECALL_S), 0);
  c.write(R.CSR_MIDELEG, R.S_INTERRUPTS, 0);
  c.write(R.CSR_MCOUNTEREN, R.COUNTEREN_CY | R.COUNTEREN_TM | R.COUNTEREN_IR, 0);
  c.write(R.CSR_MENVCFG, 0, R.MENVCFG_HI_STCE);
  c.write(R.CSR_STIMECMP, -1, -1);
  c.priv = R.PRV_S;
}
