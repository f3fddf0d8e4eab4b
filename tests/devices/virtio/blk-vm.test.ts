/*
 * virtio-blk in a VM's memory (--virt trap): guest RAM is backed on first
 * touch and its frames need not be contiguous, so a request's buffers are
 * backed on the main thread before an I/O worker writes them, page by page
 * into the right frames, and no other VM's frame is touched.
 */

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VirtioBlk, S_OK } from "../../../src/devices/virtio/blk.ts";
import { closeBlkIo } from "../../../src/devices/virtio/blk-pool.ts";
import { VirtioMmio } from "../../../src/devices/virtio/mmio.ts";
import * as V from "../../../src/devices/virtio/regs.ts";
import { FrameAllocator } from "../../../src/hypervisor/frames.ts";
import { GuestMemory } from "../../../src/hypervisor/guest-memory.ts";
import { DRAM_BASE, PAGE_SIZE } from "../../../src/machine/memlayout.ts";
import { DriverRing } from "./driver-ring.ts";
import { bringUp, w } from "./transport.ts";

afterAll(closeBlkIo);

const RAM = 0x10_0000;
const SIZE = 65536;

describe("virtio-blk DMA into a VM's lazily backed, scattered frames", () => {
  it("backs the pages of a 64 KiB read first, fills each frame, and leaves the neighbour VM alone", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "popek-blk-vm-")), "disk.img");
    const disk = Uint8Array.from({ length: 2 * SIZE }, (_, i) => (i * 13 + (i >> 9)) & 0xff);
    writeFileSync(path, disk);
    const frames = new FrameAllocator(4 * RAM);
    const vm = new GuestMemory(frames, RAM);
    const neighbour = new GuestMemory(frames, RAM);
    const mem = vm.view;
    const ring = new DriverRing(mem, DRAM_BASE + 0x1000, 8);
    const dev = new VirtioMmio(new VirtioBlk({ path, serial: "" }), { set: () => {} }, mem, { legacy: false });
    bringUp(dev, [ring]);
    // Every other page of the buffer backed, interleaved with the neighbour's frames; the rest untouched.
    const data = DRAM_BASE + 0x40000;
    for (let p = 0; p < SIZE / PAGE_SIZE; p += 2) {
      vm.ensure(data + p * PAGE_SIZE, 1);
      neighbour.ensure(DRAM_BASE + p * PAGE_SIZE, 1);
    }
    expect(mem.translate(data + PAGE_SIZE, 1)).toBeLessThan(0); // not backed yet
    mem.writeU32(DRAM_BASE + 0x3000, 0); // IN
    mem.writeU64(DRAM_BASE + 0x3008, 128n); // from byte 64 KiB
    ring.offer(ring.chain(0, [{ addr: DRAM_BASE + 0x3000, len: 16 }, { addr: data, len: SIZE, write: true }, { addr: DRAM_BASE + 0x3010, len: 1, write: true }]));
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    await dev.quiesce();
    expect(ring.usedIdx()).toBe(1);
    expect(mem.readU8(DRAM_BASE + 0x3010)).toBe(S_OK);
    expect(mem.translate(data, SIZE)).toBeLessThan(0); // scattered: no single machine range
    const got = new Uint8Array(SIZE);
    mem.copyOut(data, got);
    expect(got).toEqual(disk.subarray(SIZE));
    const other = new Uint8Array(RAM);
    neighbour.view.copyOut(DRAM_BASE, other);
    expect(other.every((b) => b === 0)).toBe(true);
  });
});
