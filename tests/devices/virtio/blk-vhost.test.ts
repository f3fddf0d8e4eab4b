/*
 * virtio-blk's vhost mode (blk-vhost.ts): in a VM (the transport has the
 * service loop's doorbell and the VM's guest-physical map) one I/O worker
 * pops the request queue, checks each chain, moves the bytes and returns
 * the request, and a notify only kicks it — from the vCPU's thread without
 * an exit (kickFromVcpu) once a spell runs. Every hostile chain the worker
 * meets stops the device (DEVICE_NEEDS_RESET) with nothing of the image
 * written, as the main thread's checks do.
 */

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { S_IOERR, S_OK, VirtioBlk } from "../../../src/devices/virtio/blk.ts";
import { closeBlkIo, preloadBlkIo } from "../../../src/devices/virtio/blk-pool.ts";
import { VhostTable } from "../../../src/devices/virtio/blk-vhost.ts";
import { VirtioMmio } from "../../../src/devices/virtio/mmio.ts";
import * as V from "../../../src/devices/virtio/regs.ts";
import { FrameAllocator } from "../../../src/hypervisor/frames.ts";
import { GuestMemory } from "../../../src/hypervisor/guest-memory.ts";
import { DRAM_BASE } from "../../../src/machine/memlayout.ts";
import { DESC_F_INDIRECT, DESC_F_NEXT, DriverRing } from "./driver-ring.ts";
import { bringUp, r, w } from "./transport.ts";

afterAll(closeBlkIo);

const RAM = 0x10_0000;
const QSIZE = 16;
const HDR = DRAM_BASE + 0x10000;
const DATA = DRAM_BASE + 0x20000;
const STATUS = DRAM_BASE + 0x30000;
const INDIRECT = DRAM_BASE + 0x38000;
/** Pages the test never writes before a request reads into them. */
const UNTOUCHED = DRAM_BASE + 0x80000;
const T_IN = 0;
const T_OUT = 1;
const SECTORS = 64;
const FILL = 0xee;

/** A disk in a VM's memory (lazily backed frames, a frame table), as the hypervisor gives it to the device. */
function vmDisk(features = 0n) {
  const path = join(mkdtempSync(join(tmpdir(), "popek-blk-vhost-")), "disk.img");
  writeFileSync(path, new Uint8Array(SECTORS * 512).fill(FILL));
  const vm = new GuestMemory(new FrameAllocator(2 * RAM), RAM);
  const mem = vm.view;
  // The driver's structures and buffers are written (so backed), as a guest's would be; UNTOUCHED is not.
  for (let a = DRAM_BASE; a < UNTOUCHED; a += 4096) mem.writeU8(a, 0);
  const doorbell = new SharedArrayBuffer(4);
  const blk = new VirtioBlk({ path, serial: "vhost" });
  const dev = new VirtioMmio(blk, { set: () => {} }, mem, { legacy: false, doorbell, guestMap: vm.map });
  const ring = new DriverRing(mem, DRAM_BASE + 0x1000, QSIZE);
  bringUp(dev, [ring], features);
  const table = new VhostTable(blk.notifyTable(0));
  /** Request `i`: header i, data, status byte i; descriptors 3i .. 3i+2. */
  const offer = (i: number, type: number, sector: number, data = { addr: DATA + 512 * i, len: 512 }) => {
    mem.writeU32(HDR + 16 * i, type);
    mem.writeU64(HDR + 16 * i + 8, BigInt(sector));
    mem.writeU8(STATUS + i, 0xff);
    ring.offer(ring.chain(3 * i, [{ addr: HDR + 16 * i, len: 16 }, { ...data, write: type === T_IN }, { addr: STATUS + i, len: 1, write: true }]));
  };
  const failed = () => (r(dev, V.REG_STATUS) & V.STATUS_DEVICE_NEEDS_RESET) !== 0;
  return { path, mem, dev, ring, table, offer, failed };
}

/** Lets the event loop run (piscina starts spells from it) and polls the device as the service loop would, until `done`. */
async function until(dev: VirtioMmio, done: () => boolean): Promise<boolean> {
  const end = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > end) return false;
    dev.poll();
    await new Promise((res) => setTimeout(res, 1));
  }
  return true;
}

/** Blocks this thread (no poll, no event loop) until `done` or a few seconds pass. */
function waitBlocking(done: () => boolean): boolean {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const end = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > end) return false;
    Atomics.wait(nap, 0, 0, 1);
  }
  return true;
}

describe("virtio-blk in vhost mode: the worker serves the queue itself", () => {
  it("serves a read and a write kicked from a vCPU's thread while the main thread is blocked; the write is on the file", async () => {
    await preloadBlkIo();
    const d = vmDisk();
    d.mem.copyIn(DATA + 512, new Uint8Array(512).fill(0x5a));
    d.offer(0, T_IN, 2);
    w(d.dev, V.REG_QUEUE_NOTIFY, 0); // the first notify exits: the main thread starts the spell
    expect(await until(d.dev, () => d.ring.usedIdx() === 1)).toBe(true);
    expect(d.mem.readU8(STATUS)).toBe(S_OK);
    // The spell sleeps on KICK; the next notify is the vCPU's, taken without the main thread.
    d.offer(1, T_OUT, 7, { addr: DATA + 512, len: 512 });
    expect(d.table.kickFromVcpu()).toBe(true);
    expect(waitBlocking(() => d.ring.usedIdx() === 2)).toBe(true);
    expect(d.ring.used(1)).toEqual({ id: 3, len: 1 });
    expect(d.mem.readU8(STATUS + 1)).toBe(S_OK);
    expect(readFileSync(d.path).subarray(7 * 512, 8 * 512).every((b) => b === 0x5a)).toBe(true);
    expect(d.table.notifiesWithoutExit()).toBe(1);
    await d.dev.quiesce();
  });

  it("hands a read into pages the guest never touched back to the main thread, which backs them and serves it", async () => {
    const d = vmDisk();
    expect(d.mem.translate(UNTOUCHED, 1)).toBeLessThan(0);
    d.offer(0, T_IN, 0, { addr: UNTOUCHED, len: 8192 });
    w(d.dev, V.REG_QUEUE_NOTIFY, 0);
    expect(await until(d.dev, () => d.ring.usedIdx() === 1)).toBe(true);
    expect(d.ring.used(0)).toEqual({ id: 0, len: 8193 });
    expect(d.mem.readU8(STATUS)).toBe(S_OK);
    expect(d.mem.readU8(UNTOUCHED + 8191)).toBe(FILL);
    expect(d.failed()).toBe(false);
    await d.dev.quiesce();
  });

  it("answers IOERR past the disk's end without touching the image", async () => {
    const d = vmDisk();
    d.offer(0, T_OUT, SECTORS);
    w(d.dev, V.REG_QUEUE_NOTIFY, 0);
    expect(await until(d.dev, () => d.ring.usedIdx() === 1)).toBe(true);
    expect(d.mem.readU8(STATUS)).toBe(S_IOERR);
    expect(readFileSync(d.path).every((b) => b === FILL)).toBe(true);
    await d.dev.quiesce();
  });

  it("a kick from a vCPU's thread is refused (the notify exits) while no spell serves, and after a reset", async () => {
    const d = vmDisk();
    expect(d.table.kickFromVcpu()).toBe(false); // not armed before the first notify
    d.offer(0, T_IN, 0);
    w(d.dev, V.REG_QUEUE_NOTIFY, 0);
    expect(await until(d.dev, () => d.ring.usedIdx() === 1)).toBe(true);
    w(d.dev, V.REG_STATUS, 0);
    expect(d.table.kickFromVcpu()).toBe(false);
    await d.dev.quiesce();
  });
});

/** A hostile chain at head 0 (after a good request at head 3, served first), written by `make`. */
type Hostile = (d: ReturnType<typeof vmDisk>) => void;

const hostile: [string, Hostile, bigint?][] = [
  ["a descriptor loop", (d) => {
    d.ring.desc(0, HDR, 16, DESC_F_NEXT, 1);
    d.ring.desc(1, DATA, 512, DESC_F_NEXT, 0);
    d.ring.offer(0);
  }],
  ["a head beyond the queue", (d) => d.ring.offer(QSIZE + 1)],
  ["a next index beyond the queue", (d) => {
    d.ring.desc(0, HDR, 16, DESC_F_NEXT, QSIZE);
    d.ring.offer(0);
  }],
  ["a data buffer outside guest RAM", (d) => {
    d.mem.writeU32(HDR, T_OUT);
    d.ring.offer(d.ring.chain(0, [{ addr: HDR, len: 16 }, { addr: DRAM_BASE + RAM - 256, len: 512 }, { addr: STATUS, len: 1, write: true }]));
  }],
  ["a length near 2^32", (d) => {
    d.ring.offer(d.ring.chain(0, [{ addr: HDR, len: 16 }, { addr: DATA, len: 0xffff_fe00, write: true }, { addr: STATUS, len: 1, write: true }]));
  }],
  ["no status byte (a zero-length status buffer)", (d) => {
    d.mem.writeU32(HDR, T_OUT);
    d.ring.offer(d.ring.chain(0, [{ addr: HDR, len: 16 }, { addr: DATA, len: 512 }, { addr: STATUS, len: 0, write: true }]));
  }],
  ["a readable buffer after a writable one", (d) => {
    d.ring.offer(d.ring.chain(0, [{ addr: HDR, len: 16 }, { addr: STATUS, len: 1, write: true }, { addr: DATA, len: 512 }]));
  }],
  ["an indirect table of bad size", (d) => {
    d.ring.desc(0, INDIRECT, 24, DESC_F_INDIRECT);
    d.ring.offer(0);
  }, V.feature(V.F_RING_INDIRECT_DESC)],
  ["a nested indirect table", (d) => {
    d.ring.desc(0, INDIRECT, 16, DESC_F_INDIRECT, 0, INDIRECT);
    d.ring.desc(0, INDIRECT, 16, DESC_F_INDIRECT);
    d.ring.offer(0);
  }, V.feature(V.F_RING_INDIRECT_DESC)],
  ["an indirect descriptor not negotiated", (d) => {
    d.ring.desc(0, INDIRECT, 16, DESC_F_INDIRECT);
    d.ring.offer(0);
  }],
  ["more buffers offered than the queue holds", (d) => d.ring.setAvailIdx(2 + QSIZE)],
];

describe("hostile rings met by the vhost worker: DEVICE_NEEDS_RESET, nothing written, the device serves again after a reset", () => {
  for (const [name, make, features] of hostile) {
    it(name, async () => {
      await preloadBlkIo();
      const d = vmDisk(features ?? 0n);
      d.mem.copyIn(DATA, new Uint8Array(512).fill(0x11));
      // A good request first (head 3) brings the worker up; then the hostile one, offered with a kick from the vCPU.
      d.offer(1, T_IN, 0);
      w(d.dev, V.REG_QUEUE_NOTIFY, 0);
      expect(await until(d.dev, () => d.ring.usedIdx() === 1)).toBe(true);
      make(d);
      if (!d.table.kickFromVcpu()) w(d.dev, V.REG_QUEUE_NOTIFY, 0);
      expect(await until(d.dev, d.failed)).toBe(true);
      expect(d.ring.usedIdx()).toBe(1);
      expect(readFileSync(d.path).every((b) => b === FILL)).toBe(true);
      expect(d.table.kickFromVcpu()).toBe(false);
      await d.dev.quiesce();
      // A reset and a fresh queue: served again (a new generation).
      w(d.dev, V.REG_STATUS, 0);
      const again = new DriverRing(d.mem, DRAM_BASE + 0x6000, QSIZE);
      bringUp(d.dev, [again]);
      d.mem.writeU32(HDR, T_IN);
      d.mem.writeU64(HDR + 8, 0n);
      again.offer(again.chain(0, [{ addr: HDR, len: 16 }, { addr: DATA, len: 512, write: true }, { addr: STATUS, len: 1, write: true }]));
      w(d.dev, V.REG_QUEUE_NOTIFY, 0);
      expect(await until(d.dev, () => again.usedIdx() === 1)).toBe(true);
      expect(d.mem.readU8(STATUS)).toBe(S_OK);
      expect(d.failed()).toBe(false);
      await d.dev.quiesce();
    });
  }
});
