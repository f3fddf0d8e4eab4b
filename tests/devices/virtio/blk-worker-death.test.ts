import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { S_IOERR, VirtioBlk } from "../../../src/devices/virtio/blk.ts";
import { VirtioMmio } from "../../../src/devices/virtio/mmio.ts";
import * as V from "../../../src/devices/virtio/regs.ts";
import { FrameAllocator } from "../../../src/hypervisor/frames.ts";
import { GuestMemory } from "../../../src/hypervisor/guest-memory.ts";
import type { GuestMemoryView } from "../../../src/machine/guest-memory-view.ts";
import { DriverRing, guestRam, RAM_BASE } from "./driver-ring.ts";
import { bringUp, w } from "./transport.ts";

// Every I/O worker dies under its task (as a crashed or terminated thread's task rejects).
vi.mock("../../../src/devices/virtio/blk-pool.ts", () => ({
  BLK_IO_THREADS: 2,
  preloadBlkIo: () => new Promise(() => {}),
  runBlkServe: () => Promise.reject(new Error("worker died")),
  runBlkIo: () => Promise.reject(new Error("worker died")),
  runBlkVhost: () => Promise.reject(new Error("worker died")),
}));

const HDR = RAM_BASE + 0x10000;
const DATA = RAM_BASE + 0x20000;
const STATUS = RAM_BASE + 0x30000;

/** Offers `count` one-sector writes (to sectors 0, 1, ...) from DATA, each with its own header and a status byte preset to 0xff. */
function offerWrites(mem: GuestMemoryView, ring: DriverRing, count: number): void {
  for (let i = 0; i < count; i++) {
    mem.writeU32(HDR + 16 * i, 1);
    mem.writeU64(HDR + 16 * i + 8, BigInt(i));
    mem.writeU8(STATUS + i, 0xff);
    ring.offer(ring.chain(3 * i, [{ addr: HDR + 16 * i, len: 16 }, { addr: DATA, len: 512 }, { addr: STATUS + i, len: 1, write: true }]));
  }
}

describe("virtio-blk when its I/O workers die", () => {
  // Natively the main thread returns every request; under a hypervisor (a doorbell) the workers would, through the shared used ring.
  it.each([
    ["natively", undefined],
    ["under a hypervisor, where workers return requests themselves", new SharedArrayBuffer(4)],
  ])("%s: fails the requests on the ring with IOERR, again for the next one, and writes nothing", async (_, doorbell) => {
    const path = join(mkdtempSync(join(tmpdir(), "popek-blk-")), "disk.img");
    writeFileSync(path, new Uint8Array(64 * 512).fill(0xee));
    const mem = guestRam();
    const dev = new VirtioMmio(new VirtioBlk({ path, serial: "" }), { set: () => {} }, mem, { legacy: false, doorbell });
    const ring = new DriverRing(mem, RAM_BASE + 0x1000, 16);
    bringUp(dev, [ring], 0n);
    mem.copyIn(DATA, new Uint8Array(1024).fill(1));
    offerWrites(mem, ring, 3);
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    await dev.quiesce();
    expect(ring.usedIdx()).toBe(3);
    expect([0, 1, 2].map((i) => mem.readU8(STATUS + i))).toEqual([S_IOERR, S_IOERR, S_IOERR]);
    // The next request tries the pool again (and fails the same way), rather than hanging.
    mem.writeU8(STATUS, 0xff);
    ring.offer(ring.chain(9, [{ addr: HDR, len: 16 }, { addr: DATA, len: 512 }, { addr: STATUS, len: 1, write: true }]));
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    await dev.quiesce();
    expect(ring.usedIdx()).toBe(4);
    expect(mem.readU8(STATUS)).toBe(S_IOERR);
    expect(readFileSync(path).every((b) => b === 0xee)).toBe(true);
  });

  it("in vhost mode (a VM's guest map): the main thread takes the queue back, and the requests fail with IOERR, writing nothing", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "popek-blk-")), "disk.img");
    writeFileSync(path, new Uint8Array(64 * 512).fill(0xee));
    const vm = new GuestMemory(new FrameAllocator(0x20_0000), 0x10_0000);
    const mem = vm.view;
    const dev = new VirtioMmio(new VirtioBlk({ path, serial: "" }), { set: () => {} }, mem, { legacy: false, doorbell: new SharedArrayBuffer(4), guestMap: vm.map });
    const ring = new DriverRing(mem, RAM_BASE + 0x1000, 16);
    bringUp(dev, [ring], 0n);
    mem.copyIn(DATA, new Uint8Array(512).fill(1));
    offerWrites(mem, ring, 2);
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    const end = Date.now() + 5000;
    while (ring.usedIdx() < 2 && Date.now() < end) {
      dev.poll();
      await new Promise((res) => setTimeout(res, 1));
    }
    await dev.quiesce();
    expect(ring.usedIdx()).toBe(2);
    expect([0, 1].map((i) => mem.readU8(STATUS + i))).toEqual([S_IOERR, S_IOERR]);
    expect(readFileSync(path).every((b) => b === 0xee)).toBe(true);
  });
});
