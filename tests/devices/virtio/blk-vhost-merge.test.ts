/*
 * A vhost worker merges reads that follow one another on the image into one
 * readv scattering into their buffers (blk-vhost-worker.ts serveHeld). Each
 * buffer must still hold exactly its own sectors: a merge that scattered
 * into the wrong buffer, or at the wrong offset, changes some buffer's bytes
 * here. Reads that are not adjacent are not merged, and a merged read that
 * comes up short (the image shrank) is done again request by request.
 */

import { mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { VirtioBlk } from "../../../src/devices/virtio/blk.ts";
import { closeBlkIo, preloadBlkIo } from "../../../src/devices/virtio/blk-pool.ts";
import { VhostTable } from "../../../src/devices/virtio/blk-vhost.ts";
import { VirtioMmio } from "../../../src/devices/virtio/mmio.ts";
import * as V from "../../../src/devices/virtio/regs.ts";
import { FrameAllocator } from "../../../src/hypervisor/frames.ts";
import { GuestMemory } from "../../../src/hypervisor/guest-memory.ts";
import { DRAM_BASE } from "../../../src/machine/memlayout.ts";
import { DriverRing, type Buffer } from "./driver-ring.ts";
import { bringUp, w } from "./transport.ts";

afterAll(closeBlkIo);

const RAM = 0x20_0000;
const SECTOR = 512;
const SECTORS = 128;
const HDRS = DRAM_BASE + 0x10000;
const STATUS = DRAM_BASE + 0x11000;
const DATA = DRAM_BASE + 0x40000;
const T_IN = 0;

/** A request: read `count` sectors from `sector` into `parts` (lengths of its data buffers, each at its own address). */
interface Read {
  readonly sector: number;
  readonly parts: readonly number[];
}

/** Every byte differs from its neighbours' sectors' bytes at the same place, so a misplaced sector shows. */
function image(): Uint8Array {
  const img = new Uint8Array(SECTORS * SECTOR);
  for (let i = 0; i < img.length; i++) img[i] = (i * 7 + Math.floor(i / SECTOR) * 31 + 1) & 0xff;
  return img;
}

/** Offers `reads` (all before the first notify, so the worker pops them together), serves them, and checks each buffer and status. */
async function serve(reads: readonly Read[], shrinkTo?: number): Promise<{ table: VhostTable; data: Uint8Array[]; img: Uint8Array }> {
  await preloadBlkIo();
  const path = join(mkdtempSync(join(tmpdir(), "popek-blk-merge-")), "disk.img");
  const img = image();
  writeFileSync(path, img);
  const vm = new GuestMemory(new FrameAllocator(2 * RAM), RAM);
  const mem = vm.view;
  // Every page the driver uses is written first (backed), so no chain goes back to the main thread.
  for (let a = DRAM_BASE; a < DATA + 0x40000; a += 4096) mem.writeU8(a, 0);
  const blk = new VirtioBlk({ path, serial: "merge" });
  const dev = new VirtioMmio(blk, { set: () => {} }, mem, { legacy: false, doorbell: new SharedArrayBuffer(4), guestMap: vm.map });
  const ring = new DriverRing(mem, DRAM_BASE + 0x1000, 32);
  bringUp(dev, [ring], 0n);
  if (shrinkTo !== undefined) truncateSync(path, shrinkTo);
  const table = new VhostTable(blk.notifyTable(0) as SharedArrayBuffer);
  let desc = 0;
  let at = DATA;
  const where: number[][] = [];
  reads.forEach((rd, k) => {
    const hdr = HDRS + 16 * k;
    const length = rd.parts.reduce((a, b) => a + b, 0);
    mem.writeU32(hdr, T_IN);
    mem.writeU64(hdr + 8, BigInt(rd.sector));
    mem.writeU8(STATUS + k, 0xff);
    const bufs: Buffer[] = [{ addr: hdr, len: 16 }];
    const addrs: number[] = [];
    for (const len of rd.parts) {
      // A gap after each buffer: a scatter that ran on past a buffer's end lands in bytes checked below.
      bufs.push({ addr: at, len, write: true });
      addrs.push(at);
      at += len + 512;
    }
    bufs.push({ addr: STATUS + k, len: 1, write: true });
    where.push(addrs);
    expect(length % SECTOR).toBe(0);
    ring.offer(ring.chain(desc, bufs));
    desc += bufs.length;
  });
  w(dev, V.REG_QUEUE_NOTIFY, 0);
  const end = Date.now() + 20_000;
  while (ring.usedIdx() !== reads.length && Date.now() < end) {
    dev.poll();
    await new Promise((res) => setImmediate(res));
  }
  expect(ring.usedIdx()).toBe(reads.length);
  expect(table.served()[0]).toBe(reads.length);
  const data = reads.map((rd, k) => {
    expect(mem.readU8(STATUS + k)).toBe(0);
    const length = rd.parts.reduce((a, b) => a + b, 0);
    const got = new Uint8Array(length + rd.parts.length * 512);
    let o = 0;
    rd.parts.forEach((len, p) => {
      for (let i = 0; i < len + 512; i++) got[o + i] = mem.readU8(where[k][p] + i);
      o += len + 512;
    });
    return got;
  });
  await dev.quiesce();
  return { table, data, img };
}

/** What request `rd`'s buffers must hold (each followed by its untouched 512-byte gap), reading an image cut at `size` bytes. */
function expected(img: Uint8Array, rd: Read, size = img.length): Uint8Array {
  const out = new Uint8Array(rd.parts.reduce((a, b) => a + b + 512, 0));
  let pos = rd.sector * SECTOR;
  let o = 0;
  for (const len of rd.parts) {
    for (let i = 0; i < len; i++) out[o + i] = pos + i < size ? img[pos + i] : 0;
    pos += len;
    o += len + 512;
  }
  return out;
}

it("adjacent reads are merged and each buffer, split or not, holds exactly its own sectors", async () => {
  const reads: Read[] = [
    { sector: 0, parts: [4096] },
    { sector: 8, parts: [1024, 3072] },
    { sector: 16, parts: [512] },
    { sector: 40, parts: [2048] },
    { sector: 44, parts: [4096, 512] },
  ];
  const { table, data, img } = await serve(reads);
  reads.forEach((rd, k) => expect(data[k]).toEqual(expected(img, rd)));
  // The first three are one read, the last two another.
  expect(table.merged()).toBe(5);
});

it("reads that do not follow one another on the image are not merged", async () => {
  const reads: Read[] = [
    { sector: 0, parts: [4096] },
    { sector: 100, parts: [4096] },
    { sector: 8, parts: [4096] },
    { sector: 7, parts: [512] },
  ];
  const { table, data, img } = await serve(reads);
  reads.forEach((rd, k) => expect(data[k]).toEqual(expected(img, rd)));
  expect(table.merged()).toBe(0);
});

it("a merged read that comes up short is done again request by request: zeros past the image's new end", async () => {
  const reads: Read[] = [
    { sector: 0, parts: [4096] },
    { sector: 8, parts: [4096] },
    { sector: 16, parts: [4096] },
  ];
  const size = 12 * SECTOR;
  const { table, data, img } = await serve(reads, size);
  reads.forEach((rd, k) => expect(data[k]).toEqual(expected(img, rd, size)));
  expect(table.merged()).toBe(0);
});
