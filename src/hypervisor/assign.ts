/*
 * Device assignment: what the hypervisor does to give a VM a device
 * directly (as VFIO does for KVM), so the guest's driver reaches it with no
 * exit at all:
 *
 *   1. the device's register page becomes a machine frame mapped at its
 *      guest-physical address in the VM's map (U|R|W, never X), so the
 *      guest's register accesses are plain loads and stores;
 *   2. every page of guest RAM is pinned (backed now, as VFIO pins all guest
 *      memory), and an IOMMU G-stage table is written with exactly the VM's
 *      RAM map, guest page -> machine frame; the device's IOMMU context points
 *      at it, so its DMA reaches the VM's RAM and nothing else — not the
 *      register page, not another VM's frames;
 *   3. its interrupt is posted into each vCPU's virtual mip word (the run
 *      page's CSR state) and the vCPU woken: no main-thread exit delivers it.
 *
 * The frames (register page, IOMMU tables) are the VM's: freed with it, after
 * the device's thread has stopped (DeviceKind.quiesce).
 */

import type { DirectAttachment } from "../devices/device.ts";
import { DeviceContextWriter, GStageTable, newDeviceContext } from "../devices/assigned-nic/iommu.ts";
import { ST_MIP_HW } from "../machine/csr.ts";
import { DRAM_BASE, PAGE_SIZE } from "../machine/memlayout.ts";
import type { DeviceSpec } from "../machine/board-devices.ts";
import type { FrameAllocator } from "./frames.ts";
import type { GuestMemory } from "./guest-memory.ts";
import type { RunPage } from "./runpage.ts";

export function assignDevice(spec: DeviceSpec, memory: GuestMemory, frames: FrameAllocator, pages: readonly RunPage[]): DirectAttachment {
  const registerFrame = memory.ownFrame();
  memory.mapDevicePage(spec.base, registerFrame);
  memory.ensure(memory.ramBase, memory.ramSize);
  const table = new GStageTable(frames.mem.buffer, () => memory.ownFrame());
  const map = new Int32Array(memory.map.frameTable);
  for (let page = 0; page < map.length; page++) table.map(memory.ramBase + page * PAGE_SIZE, map[page] * PAGE_SIZE);
  const iommu = newDeviceContext();
  new DeviceContextWriter(iommu).gStage(table.root);
  return {
    machine: frames.mem.buffer,
    machineBytes: frames.mem.size,
    registerPage: registerFrame - DRAM_BASE,
    iommu,
    codeWrites: memory.map.codeWrites,
    harts: pages.map((p) => ({ mip: p.vcsrState, mipIndex: ST_MIP_HW, wake: p.wake })),
  };
}
