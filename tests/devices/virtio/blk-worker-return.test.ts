/*
 * virtio-blk under a hypervisor (the transport is given the service loop's
 * doorbell): the I/O worker returns a request to the driver itself — status
 * byte, used element, used index (blk-used.ts) — while the main thread still
 * checks every chain before a worker sees it and raises the interrupts.
 */

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { S_OK, VirtioBlk } from "../../../src/devices/virtio/blk.ts";
import { DONE_PUSHED_OK } from "../../../src/devices/virtio/blk-status.ts";
import { closeBlkIo, preloadBlkIo } from "../../../src/devices/virtio/blk-pool.ts";
import { machineViews, SharedUsedRing } from "../../../src/devices/virtio/blk-used.ts";
import { VirtioMmio } from "../../../src/devices/virtio/mmio.ts";
import * as V from "../../../src/devices/virtio/regs.ts";
import { CodeWriteLog, newCodeWriteShare } from "../../../src/machine/code-writes.ts";
import { DriverRing, guestRam, RAM_BASE } from "./driver-ring.ts";
import { bringUp, r, w } from "./transport.ts";

afterAll(closeBlkIo);

const HDR = RAM_BASE + 0x10000;
const DATA = RAM_BASE + 0x20000;
const STATUS = RAM_BASE + 0x30000;
const T_IN = 0;
const T_OUT = 1;
const SECTORS = 64;

function image(): { path: string; bytes: Uint8Array } {
  const bytes = Uint8Array.from({ length: SECTORS * 512 }, (_, i) => (i * 7 + (i >> 9)) & 0xff);
  const path = join(mkdtempSync(join(tmpdir(), "popek-blk-ret-")), "disk.img");
  writeFileSync(path, bytes);
  return { path, bytes };
}

/** A device as a VM's service loop has it (a doorbell), with its interrupt line recorded. */
function vmDisk(path: string, features = 0n) {
  const mem = guestRam();
  const line = { level: false, set(v: boolean) { this.level = v; } };
  const doorbell = new SharedArrayBuffer(4);
  const dev = new VirtioMmio(new VirtioBlk({ path, serial: "" }), line, mem, { legacy: false, doorbell });
  const ring = new DriverRing(mem, RAM_BASE + 0x1000, 16);
  bringUp(dev, [ring], features);
  /** Request `i`: header i, 512 bytes of data at DATA + 512 i, status byte i; descriptors 3i .. 3i+2. */
  const offer = (i: number, type: number, sector: number, data = { addr: DATA + 512 * i, len: 512 }) => {
    mem.writeU32(HDR + 16 * i, type);
    mem.writeU64(HDR + 16 * i + 8, BigInt(sector));
    mem.writeU8(STATUS + i, 0xff);
    ring.offer(ring.chain(3 * i, [{ addr: HDR + 16 * i, len: 16 }, { ...data, write: type === T_IN }, { addr: STATUS + i, len: 1, write: true }]));
  };
  return { mem, dev, ring, line, doorbell: new Int32Array(doorbell), offer };
}

/** Blocks this thread (no timer, no poll() of the device runs) until `done` or a few seconds pass. */
function waitBlocking(done: () => boolean): boolean {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const until = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > until) return false;
    Atomics.wait(nap, 0, 0, 1);
  }
  return true;
}

describe("virtio-blk whose I/O workers return requests themselves", () => {
  it("the worker writes the data, status byte and used element; the main thread raises the interrupt, when it polls", async () => {
    const { path, bytes } = image();
    const { mem, dev, ring, line, doorbell, offer } = vmDisk(path);
    await preloadBlkIo();
    // A first request brings a pool thread up (piscina starts it from the event loop).
    offer(0, T_IN, 1);
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    await dev.quiesce();
    expect(ring.usedIdx()).toBe(1);
    w(dev, V.REG_INTERRUPT_ACK, 1);
    expect(line.level).toBe(false);

    const bell = Atomics.load(doorbell, 0);
    offer(1, T_IN, 5);
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    // The notify only marks the queue; the poll after the exit (the service loop's) checks the chain and sends it out.
    expect(ring.usedIdx()).toBe(1);
    dev.poll();
    // This thread blocks: nothing on it can finish the request, yet the driver sees it back.
    expect(waitBlocking(() => ring.usedIdx() === 2)).toBe(true);
    expect(ring.used(1)).toEqual({ id: 3, len: 513 });
    expect(mem.readU8(STATUS + 1)).toBe(S_OK);
    const got = new Uint8Array(512);
    mem.copyOut(DATA + 512, got);
    expect(got).toEqual(bytes.subarray(5 * 512, 6 * 512));
    // The driver wants interrupts (no NO_INTERRUPT): the worker rang the doorbell, and a poll (that one, if the worker
    // was quick, or the next) raised the line.
    expect(Atomics.load(doorbell, 0)).toBeGreaterThan(bell);
    dev.poll();
    expect(line.level).toBe(true);
    expect(r(dev, V.REG_INTERRUPT_STATUS) & V.INT_USED_BUFFER).toBe(V.INT_USED_BUFFER);
    await dev.quiesce();
  });

  it("keeps NO_INTERRUPT and EVENT_IDX: no interrupt until used.idx passes used_event", async () => {
    const { path } = image();
    const { dev, ring, line, offer } = vmDisk(path, V.feature(V.F_RING_EVENT_IDX));
    ring.setUsedEvent(2); // interrupt me once the third request is back
    for (let i = 0; i < 3; i++) {
      offer(i, T_IN, i);
      w(dev, V.REG_QUEUE_NOTIFY, 0);
      await dev.quiesce();
      expect(ring.usedIdx()).toBe(i + 1);
      expect(line.level).toBe(i === 2);
    }
  });

  it("a write is in the image when the driver sees it complete", async () => {
    const { path } = image();
    const { mem, dev, ring, offer } = vmDisk(path);
    await preloadBlkIo();
    mem.copyIn(DATA, new Uint8Array(512).fill(0x5a));
    offer(0, T_OUT, 3, { addr: DATA, len: 512 });
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    await dev.quiesce();
    mem.copyIn(DATA + 512, new Uint8Array(512).fill(0xa5));
    offer(1, T_OUT, 4, { addr: DATA + 512, len: 512 });
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    dev.poll();
    expect(waitBlocking(() => ring.usedIdx() === 2)).toBe(true);
    const file = readFileSync(path);
    expect(file.subarray(3 * 512, 4 * 512).every((b) => b === 0x5a)).toBe(true);
    expect(file.subarray(4 * 512, 5 * 512).every((b) => b === 0xa5)).toBe(true);
    await dev.quiesce();
  });

  it("a hostile chain stops the device before any worker sees it, and nothing is returned or written", async () => {
    const { path, bytes } = image();
    const { mem, dev, ring, offer } = vmDisk(path);
    offer(0, T_IN, 0);
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    await dev.quiesce();
    // A write whose data buffer runs past the end of guest RAM.
    offer(1, T_OUT, 2, { addr: RAM_BASE + mem.ramSize - 256, len: 512 });
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    await dev.quiesce();
    expect(r(dev, V.REG_STATUS) & V.STATUS_DEVICE_NEEDS_RESET).toBe(V.STATUS_DEVICE_NEEDS_RESET);
    expect(ring.usedIdx()).toBe(1);
    expect(mem.readU8(STATUS + 1)).toBe(0xff);
    expect(readFileSync(path)).toEqual(Buffer.from(bytes));
  });

  it("counts requests in flight exactly while workers return them: more offered than the queue holds stops the device", async () => {
    const { path } = image();
    const { dev, ring, offer } = vmDisk(path);
    for (let i = 0; i < 4; i++) offer(i, T_IN, i);
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    await dev.quiesce();
    expect(ring.usedIdx()).toBe(4);
    // All 4 are back (returned by workers): a full queue of 16 more is legal.
    ring.setAvailIdx(4 + 16);
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    await dev.quiesce();
    expect(r(dev, V.REG_STATUS) & V.STATUS_DEVICE_NEEDS_RESET).toBe(0);
    // 16 in flight or back, and 17 more offered on a queue of 16: too many.
    ring.setAvailIdx(4 + 16 + 17);
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    await dev.quiesce();
    expect(dev.lastError).toMatch(/more buffers than the queue holds/);
  });

  it("a hung or dying server leaves no trace after a reset: the device comes back and serves again", async () => {
    const { path, bytes } = image();
    const { dev, ring, offer, mem } = vmDisk(path);
    offer(0, T_IN, 0);
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    w(dev, V.REG_STATUS, 0); // reset while the request may still be with its worker
    await dev.quiesce();
    const again = new DriverRing(mem, RAM_BASE + 0x8000, 16);
    bringUp(dev, [again]);
    mem.writeU32(HDR, T_IN);
    mem.writeU64(HDR + 8, 7n);
    again.offer(again.chain(0, [{ addr: HDR, len: 16 }, { addr: DATA, len: 512, write: true }, { addr: STATUS, len: 1, write: true }]));
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    await dev.quiesce();
    expect(again.usedIdx()).toBe(1);
    expect(again.used(0)).toEqual({ id: 0, len: 513 });
    const got = new Uint8Array(512);
    mem.copyOut(DATA, got);
    expect(got).toEqual(bytes.subarray(7 * 512, 8 * 512));
    expect(ring.layout.used).not.toBe(again.layout.used);
  });
});

describe("the shared used-ring table (blk-used.ts)", () => {
  function table(eventIdx = false) {
    const mem = guestRam();
    const ring = new DriverRing(mem, RAM_BASE + 0x1000, 16);
    const used = new SharedUsedRing();
    expect(used.setUp(mem, ring.layout, eventIdx, 1)).toBe(true);
    const status = mem.translate(STATUS, 1);
    return { mem, ring, used, views: machineViews(mem.machine), done: new Int32Array(new SharedArrayBuffer(16)), status };
  }

  it("drops a return for a generation that is no longer live (the device was reset), but still marks its slot done", () => {
    const { mem, ring, used, views, done, status } = table();
    used.kill();
    mem.writeU8(STATUS, 0xff);
    expect(used.push(3, views, done, 1, { slot: 2, head: 6, length: 513, status: S_OK, statusAt: status, done: DONE_PUSHED_OK })).toBe(false);
    expect(ring.usedIdx()).toBe(0);
    expect(mem.readU8(STATUS)).toBe(0xff);
    expect(done[2]).toBe(DONE_PUSHED_OK);
  });

  it("finishes the return of a server that died holding the lock, and frees the lock", () => {
    const { mem, ring, used, views, done, status } = table();
    // As the layout in blk-used.ts says: server 7 took LOCK (word 0), logged its return (words 10-16) and armed it (word 9), then died.
    const words = used.words;
    words[0] = 7;
    words.set([1, 9, 1025, S_OK, status, DONE_PUSHED_OK, 0], 10);
    words[9] = 1;
    mem.writeU8(STATUS, 0xff);
    expect(used.recover(8, views, done)).toBe(false); // another server's death: not the holder
    expect(used.recover(7, views, done)).toBe(true);
    expect(ring.usedIdx()).toBe(1);
    expect(ring.used(0)).toEqual({ id: 9, len: 1025 });
    expect(mem.readU8(STATUS)).toBe(S_OK);
    expect(done[1]).toBe(DONE_PUSHED_OK);
    expect(used.usedIndex()).toBe(1);
    // The lock is free: the next return goes in after it.
    expect(used.push(1, views, done, 1, { slot: 2, head: 3, length: 1, status: S_OK, statusAt: status, done: DONE_PUSHED_OK })).toBe(true);
    expect(ring.usedIdx()).toBe(2);
    expect(ring.used(1)).toEqual({ id: 3, len: 1 });
  });

  it("asks for an interrupt as the driver set it: NO_INTERRUPT, or EVENT_IDX's used_event", () => {
    const plain = table();
    plain.ring.setAvailFlags(1);
    expect(plain.used.push(1, plain.views, undefined, 1, { slot: -1, head: 0, length: 1, status: S_OK, statusAt: plain.status, done: 0 })).toBe(false);
    expect(plain.used.takeInterrupt()).toBe(false);
    plain.ring.setAvailFlags(0);
    expect(plain.used.push(1, plain.views, undefined, 1, { slot: -1, head: 0, length: 1, status: S_OK, statusAt: plain.status, done: 0 })).toBe(true);
    expect(plain.used.takeInterrupt()).toBe(true);
    expect(plain.used.takeInterrupt()).toBe(false);
    const ev = table(true);
    ev.ring.setUsedEvent(1);
    const wants = [0, 1, 2].map(() => ev.used.push(1, ev.views, undefined, 1, { slot: -1, head: 0, length: 1, status: S_OK, statusAt: ev.status, done: 0 }));
    expect(wants).toEqual([false, true, false]);
  });

  it("marks the pages a push writes in the VM's code-write log, where some thread holds code decoded from them", () => {
    const { mem, ring, used: plain, views, done, status } = table();
    const share = newCodeWriteShare(mem.machine.byteLength >>> 12, -1);
    const log = new CodeWriteLog(share, mem.machine);
    const used = new SharedUsedRing(plain.buffer, log);
    const pageOf = (gpa: number) => mem.translate(gpa, 1) >>> 12;
    const ringPage = pageOf(ring.layout.used);
    const statusPage = pageOf(STATUS);
    expect(ringPage).not.toBe(statusPage);
    // Some vCPU has decoded code on the status byte's page; none on the used ring's.
    log.codeMap[statusPage] = 1;
    expect(used.push(1, views, done, 1, { slot: 0, head: 3, length: 1, status: S_OK, statusAt: status, done: DONE_PUSHED_OK })).toBe(true);
    expect(log.gen[statusPage]).toBe(1);
    expect(log.epoch[0]).toBe(1);
    // A page without code is left alone: no thread can hold stale code for it.
    expect(log.gen[ringPage]).toBe(0);
    log.codeMap[ringPage] = 1;
    expect(used.push(1, views, done, 1, { slot: 0, head: 4, length: 1, status: S_OK, statusAt: status, done: DONE_PUSHED_OK })).toBe(true);
    expect(log.gen[ringPage]).toBeGreaterThanOrEqual(1);
    expect(log.gen[statusPage]).toBe(2);
    expect(log.epoch[0]).toBeGreaterThanOrEqual(3);
    expect(ring.usedIdx()).toBe(2);
  });
});
