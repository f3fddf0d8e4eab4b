import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VirtioBlk, S_IOERR, S_OK, S_UNSUPP } from "../../../src/devices/virtio/blk.ts";
import { closeBlkIo } from "../../../src/devices/virtio/blk-pool.ts";
import { VirtioMmio } from "../../../src/devices/virtio/mmio.ts";
import * as V from "../../../src/devices/virtio/regs.ts";
import { ConfigError } from "../../../src/errors.ts";
import { DESC_F_INDIRECT, DriverRing, guestRam, RAM_BASE, type Buffer } from "./driver-ring.ts";
import { bringUp, r, w } from "./transport.ts";

afterAll(closeBlkIo);

const SECTORS = 64;
const HDR = RAM_BASE + 0x10000;
const DATA = RAM_BASE + 0x20000;
const STATUS = RAM_BASE + 0x30000;

function image(fill = 0xee): string {
  const path = join(mkdtempSync(join(tmpdir(), "popek-blk-")), "disk.img");
  writeFileSync(path, new Uint8Array(SECTORS * 512).fill(fill));
  return path;
}

function disk(path = image(), serial = "popek-d0") {
  const mem = guestRam();
  const blk = new VirtioBlk({ path, serial });
  const dev = new VirtioMmio(blk, { set: () => {} }, mem, { legacy: false });
  const ring = new DriverRing(mem, RAM_BASE + 0x1000, 16);
  bringUp(dev, [ring], V.feature(V.F_RING_INDIRECT_DESC));
  let next = 0;
  /** Sends one request (header, data buffers, status) and waits for its completion; returns the status byte and the used length. */
  const request = async (type: number, sector: bigint, data: Buffer[], status = { addr: STATUS, len: 1, write: true }) => {
    mem.writeU32(HDR, type);
    mem.writeU32(HDR + 4, 0);
    mem.writeU64(HDR + 8, sector);
    mem.writeU8(STATUS, 0xff);
    const head = ring.chain(next, [{ addr: HDR, len: 16 }, ...data, status]);
    next = (next + 2 + data.length) % 8;
    const want = (ring.usedIdx() + 1) & 0xffff;
    ring.offer(head);
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    await until(() => ring.usedIdx() === want || failed());
    return { status: mem.readU8(STATUS), len: ring.used(want - 1).len };
  };
  const failed = () => (r(dev, V.REG_STATUS) & V.STATUS_DEVICE_NEEDS_RESET) !== 0;
  return { mem, blk, dev, ring, request, failed, path };
}

/** Waits for the I/O pool (event-loop turns, not a fixed time). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 20_000 && !done(); i++) await new Promise((res) => setTimeout(res, 1));
  if (!done()) throw new Error("until: no completion");
}

describe("virtio-blk (virtio 1.2 §5.2) on a raw image", () => {
  it("tells its capacity in 512-byte sectors, seg_max and blk_size in configuration space", () => {
    const { dev } = disk();
    expect(dev.read(0x100, 4)).toBe(SECTORS);
    expect(dev.read(0x104, 4)).toBe(0);
    expect(dev.read(0x100 + 12, 4)).toBe(1022);
    expect(dev.read(0x100 + 20, 4)).toBe(512);
  });

  it("writes sectors that are in the file when the request completes, and reads them back", async () => {
    const { mem, request, path } = disk();
    const pattern = Uint8Array.from({ length: 1024 }, (_, i) => (i * 7) & 0xff);
    mem.copyIn(DATA, pattern);
    const wr = await request(1, 3n, [{ addr: DATA, len: 1024 }]);
    expect(wr.status).toBe(S_OK);
    expect(wr.len).toBe(1);
    expect(readFileSync(path).subarray(3 * 512, 5 * 512)).toEqual(Buffer.from(pattern));
    mem.copyIn(DATA, new Uint8Array(1024));
    // Read back through two buffers split mid-sector, and an indirect table.
    const rd = await request(0, 3n, [{ addr: DATA, len: 700, write: true }, { addr: DATA + 0x1000, len: 324, write: true }]);
    expect(rd.status).toBe(S_OK);
    expect(rd.len).toBe(1025);
    const back = new Uint8Array(1024);
    mem.copyOut(DATA, back.subarray(0, 700));
    mem.copyOut(DATA + 0x1000, back.subarray(700));
    expect(back).toEqual(pattern);
  });

  it("reads through an indirect descriptor table", async () => {
    const d = disk(image(0x5a));
    const table = RAM_BASE + 0x40000;
    d.ring.chain(0, [{ addr: HDR, len: 16 }, { addr: DATA, len: 512, write: true }, { addr: STATUS, len: 1, write: true }], table);
    d.mem.writeU32(HDR, 0);
    d.mem.writeU64(HDR + 8, 1n);
    d.ring.desc(9, table, 48, DESC_F_INDIRECT);
    d.ring.offer(9);
    w(d.dev, V.REG_QUEUE_NOTIFY, 0);
    await until(() => d.ring.usedIdx() === 1);
    expect(d.mem.readU8(STATUS)).toBe(S_OK);
    expect(d.mem.readU8(DATA + 511)).toBe(0x5a);
  });

  it("flushes, and answers GET_ID with the serial", async () => {
    const { mem, request } = disk();
    expect((await request(4, 0n, [])).status).toBe(S_OK);
    const id = await request(8, 0n, [{ addr: DATA, len: 20, write: true }]);
    expect(id.status).toBe(S_OK);
    const bytes = new Uint8Array(20);
    mem.copyOut(DATA, bytes);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe("popek-d0");
    expect(bytes[8]).toBe(0);
  });

  it("serves five reads offered with one notify, each into its own buffers (the submission ring)", async () => {
    const path = image();
    const file = readFileSync(path);
    for (let sector = 0; sector < SECTORS; sector++) file.fill(sector + 1, sector * 512, sector * 512 + 512);
    writeFileSync(path, file);
    const { mem, ring, dev } = disk(path);
    const sectors = [7, 3, 40, 0, 63];
    sectors.forEach((sector, i) => {
      mem.writeU32(HDR + 16 * i, 0);
      mem.writeU64(HDR + 16 * i + 8, BigInt(sector));
      mem.writeU8(STATUS + i, 0xff);
      ring.offer(ring.chain(3 * i, [{ addr: HDR + 16 * i, len: 16 }, { addr: DATA + 0x1000 * i, len: 512, write: true }, { addr: STATUS + i, len: 1, write: true }]));
    });
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    await until(() => ring.usedIdx() === sectors.length);
    sectors.forEach((sector, i) => {
      expect(mem.readU8(STATUS + i)).toBe(S_OK);
      expect([mem.readU8(DATA + 0x1000 * i), mem.readU8(DATA + 0x1000 * i + 511)]).toEqual([sector + 1, sector + 1]);
    });
  });

  it("answers UNSUPP for a type it does not know", async () => {
    const { request } = disk();
    expect((await request(11, 0n, [{ addr: DATA, len: 512 }])).status).toBe(S_UNSUPP);
  });

  it("refuses a missing or unreadable image with a ConfigError", () => {
    expect(() => new VirtioBlk({ path: "/nonexistent/disk.img", serial: "" })).toThrow(ConfigError);
  });
});

describe("hostile block requests: IOERR or DEVICE_NEEDS_RESET, and the image is untouched", () => {
  const untouched = (path: string) => expect(readFileSync(path).every((b) => b === 0xee)).toBe(true);

  it("past the end, at a sector near 2^64, or wrapping around", async () => {
    const d = disk();
    d.mem.copyIn(DATA, new Uint8Array(1024).fill(1));
    for (const sector of [BigInt(SECTORS - 1), BigInt(SECTORS), 2n ** 64n - 1n, 2n ** 55n]) {
      expect((await d.request(1, sector, [{ addr: DATA, len: 1024 }])).status).toBe(S_IOERR);
    }
    expect((await d.request(0, 2n ** 64n - 2n, [{ addr: DATA, len: 1024, write: true }])).status).toBe(S_IOERR);
    untouched(d.path);
  });

  it("data that is not whole sectors", async () => {
    const d = disk();
    expect((await d.request(1, 0n, [{ addr: DATA, len: 511 }])).status).toBe(S_IOERR);
    expect((await d.request(1, 0n, [{ addr: DATA, len: 0 }, { addr: DATA, len: 513 }])).status).toBe(S_IOERR);
    untouched(d.path);
  });

  it("no status byte (a zero-length status buffer), or a header shorter than 16 bytes", async () => {
    const a = disk();
    await a.request(1, 0n, [{ addr: DATA, len: 512 }], { addr: STATUS, len: 0, write: true });
    expect(a.failed()).toBe(true);
    untouched(a.path);
    const b = disk();
    b.mem.writeU32(HDR, 1);
    b.ring.offer(b.ring.chain(0, [{ addr: HDR, len: 8 }, { addr: STATUS, len: 1, write: true }]));
    w(b.dev, V.REG_QUEUE_NOTIFY, 0);
    expect(b.failed()).toBe(true);
    untouched(b.path);
  });

  it("a request whose data buffer lies outside guest RAM", async () => {
    const d = disk();
    await d.request(1, 0n, [{ addr: 0x1000_0000, len: 512 }]);
    expect(d.failed()).toBe(true);
    untouched(d.path);
  });

  it("a queue taken away while a read is in flight: the device stops, nothing throws", async () => {
    const d = disk();
    d.mem.writeU32(HDR, 0);
    d.mem.writeU64(HDR + 8, 0n);
    d.ring.offer(d.ring.chain(0, [{ addr: HDR, len: 16 }, { addr: DATA, len: 4096, write: true }, { addr: STATUS, len: 1, write: true }]));
    w(d.dev, V.REG_QUEUE_NOTIFY, 0);
    w(d.dev, V.REG_QUEUE_SEL, 0);
    w(d.dev, V.REG_QUEUE_READY, 0);
    await d.dev.quiesce();
    await new Promise((res) => setImmediate(res));
    expect(d.failed()).toBe(true);
    expect(d.ring.usedIdx()).toBe(0);
  });

  it("a device reset while a read is in flight: the late completion is dropped", async () => {
    const d = disk();
    d.mem.writeU32(HDR, 0);
    d.mem.writeU64(HDR + 8, 0n);
    d.mem.writeU8(STATUS, 0xff);
    d.ring.offer(d.ring.chain(0, [{ addr: HDR, len: 16 }, { addr: DATA, len: 4096, write: true }, { addr: STATUS, len: 1, write: true }]));
    w(d.dev, V.REG_QUEUE_NOTIFY, 0);
    w(d.dev, V.REG_STATUS, 0);
    // quiesce (what a VM awaits before freeing its frames) resolves once the worker is done with guest memory.
    await d.dev.quiesce();
    expect(d.blk.stats.readBytes).toBe(4096);
    expect(d.ring.usedIdx()).toBe(0);
    expect(d.mem.readU8(STATUS)).toBe(0xff);
  });
});

describe("virtio-blk completions without the event loop", () => {
  it("a read its worker flagged done is finished by poll() while the main thread never yields", async () => {
    const { mem, dev, ring, request } = disk(image(0x5a));
    await request(4, 0n, []); // a flush first: the pool's worker is up and idle
    mem.writeU32(HDR, 0);
    mem.writeU32(HDR + 4, 0);
    mem.writeU64(HDR + 8, 1n);
    mem.writeU8(STATUS, 0xff);
    const want = (ring.usedIdx() + 1) & 0xffff;
    ring.offer(ring.chain(4, [{ addr: HDR, len: 16 }, { addr: DATA, len: 512, write: true }, { addr: STATUS, len: 1, write: true }]));
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    // Synchronous from here on: no await, so piscina's result message cannot be taken; only the
    // shared completion word can end this loop (a run loop's poll between slices does the same).
    const deadline = performance.now() + 30_000;
    while (ring.usedIdx() !== want && performance.now() < deadline) dev.poll();
    expect(ring.usedIdx()).toBe(want);
    expect(mem.readU8(STATUS)).toBe(S_OK);
    expect(mem.readU8(DATA + 511)).toBe(0x5a);
  }, 60_000);
});
