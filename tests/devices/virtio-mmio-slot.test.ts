import { describe, expect, it } from "vitest";
import { NO_IRQ_LINE } from "../../src/devices/device.ts";
import { VIRTIO_MMIO_SLOT } from "../../src/devices/virtio-mmio-slot.ts";
import { PhysMem } from "../../src/machine/physmem.ts";
import { PhysMemView } from "../../src/machine/physmem-view.ts";

function slot() {
  return VIRTIO_MMIO_SLOT.create(
    { irq: NO_IRQ_LINE, clock: { mtime: () => 0 }, memory: new PhysMemView(new PhysMem(0x1_0000)) },
    { consoleOut: () => {}, power: () => {} },
  );
}

describe("an empty virtio-mmio slot (QEMU virt with no device plugged in)", () => {
  it("identifies as virtio-mmio version 2 from QEMU with device ID 0, so a driver skips it", () => {
    const s = slot();
    expect(s.read(0x000, 4)).toBe(0x74726976); // "virt"
    expect(s.read(0x004, 4)).toBe(2);
    expect(s.read(0x008, 4)).toBe(0);
    expect(s.read(0x00c, 4)).toBe(0x554d4551); // "QEMU"
  });

  it("reads 0 elsewhere and for accesses that are not 32-bit, and ignores writes", () => {
    const s = slot();
    expect(s.read(0x070, 4)).toBe(0);
    expect(s.read(0x000, 1)).toBe(0);
    s.write(0x070, 4, 0xffff_ffff);
    expect(s.read(0x070, 4)).toBe(0);
    expect(s.size).toBe(VIRTIO_MMIO_SLOT.window);
  });
});
