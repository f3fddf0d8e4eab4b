/*
 * An empty virtio-mmio slot, as each of QEMU virt's eight slots is until a
 * device is plugged in (hw/virtio/virtio-mmio.c with no backend): a driver
 * reads the magic value and version, sees device ID 0 ("no device") and
 * moves on. The virtio devices to come replace it in their slot.
 *
 * Registers (offset; 32-bit):
 *   0x000  MagicValue  r  0x74726976 ("virt")
 *   0x004  Version     r  2 (the virtio 1.x transport; QEMU 7.2 defaults to legacy 1)
 *   0x008  DeviceID    r  0: no device
 *   0x00c  VendorID    r  0x554d4551 ("QEMU"), as QEMU reports it
 * Everything else reads 0 and ignores writes, as QEMU does for an empty
 * slot; accesses that are not 4 bytes wide read 0 too (QEMU logs them).
 */

import type { AccessWidth, DeviceKind, MmioDevice } from "./device.ts";
import { fdtNode, propString } from "../machine/fdt.ts";

/** One slot's window (QEMU virt: VIRTIO_STRIDE). */
const VIRTIO_MMIO_WINDOW = 0x1000;

const REG_MAGIC = 0x000;
const REG_VERSION = 0x004;
const REG_DEVICE_ID = 0x008;
const REG_VENDOR_ID = 0x00c;
const REG_WIDTH = 4;

const MAGIC = 0x74726976;
const VERSION_MODERN = 2;
const DEVICE_ID_NONE = 0;
const VENDOR_QEMU = 0x554d4551;

class VirtioMmioSlot implements MmioDevice {
  readonly name = "virtio-mmio";
  readonly size = VIRTIO_MMIO_WINDOW;

  read(offset: number, width: AccessWidth): number {
    if (width !== REG_WIDTH) return 0;
    switch (offset) {
      case REG_MAGIC:
        return MAGIC;
      case REG_VERSION:
        return VERSION_MODERN;
      case REG_DEVICE_ID:
        return DEVICE_ID_NONE;
      case REG_VENDOR_ID:
        return VENDOR_QEMU;
      default:
        return 0;
    }
  }

  write(_offset: number, _width: AccessWidth, _value: number): void {}
}

/** An empty slot as a board device: a PLIC source that never rises; described as virtio,mmio so drivers probe it. */
export const VIRTIO_MMIO_SLOT: DeviceKind<VirtioMmioSlot> = {
  name: "virtio-mmio-slot",
  window: VIRTIO_MMIO_WINDOW,
  wiring: "source",
  dt: {
    node: "virtio_mmio",
    build: (c) => fdtNode(c.name, [...c.interrupts, c.reg, propString("compatible", "virtio,mmio")]),
  },
  create: () => new VirtioMmioSlot(),
  reset: () => {},
};
