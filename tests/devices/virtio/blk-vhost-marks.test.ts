/*
 * What a vhost worker returns to the driver — the status byte, the used
 * element and index — is written behind the vCPUs' backs, so it is marked
 * in the VM's code-write log (machine/code-writes.ts) where a vCPU holds
 * code decoded from the page, as the data a read brings in is. Without the
 * mark a vCPU's fence.i would keep running code decoded from the old bytes.
 */

import { mkdtempSync, writeFileSync } from "node:fs";
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
import { CodeWriteLog } from "../../../src/machine/code-writes.ts";
import { DRAM_BASE, PAGE_SHIFT } from "../../../src/machine/memlayout.ts";
import { DriverRing } from "./driver-ring.ts";
import { bringUp, w } from "./transport.ts";

afterAll(closeBlkIo);

const RAM = 0x20_0000;
const HDR = DRAM_BASE + 0x10000;
const STATUS = DRAM_BASE + 0x11000;
const DATA = DRAM_BASE + 0x40000;
const T_IN = 0;

/** Lets the event loop run (piscina starts spells from it) and polls as the service loop would, until `done` or 20 s. */
async function until(dev: VirtioMmio, done: () => boolean): Promise<boolean> {
  const end = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > end) return false;
    dev.poll();
    await new Promise((res) => setImmediate(res));
  }
  return true;
}

it("a vhost worker's return marks the status byte's and the used ring's pages where a vCPU holds code decoded from them", async () => {
  await preloadBlkIo();
  const path = join(mkdtempSync(join(tmpdir(), "popek-blk-marks-")), "disk.img");
  writeFileSync(path, new Uint8Array(64 * 512).fill(0x5a));
  const vm = new GuestMemory(new FrameAllocator(2 * RAM), RAM);
  const mem = vm.view;
  // Every page the driver uses is written first (backed), so the chain does not go back to the main thread.
  for (let a = DRAM_BASE; a < DATA + 4096; a += 4096) mem.writeU8(a, 0);
  const blk = new VirtioBlk({ path, serial: "marks" });
  const dev = new VirtioMmio(blk, { set: () => {} }, mem, { legacy: false, doorbell: new SharedArrayBuffer(4), guestMap: vm.map });
  const ring = new DriverRing(mem, DRAM_BASE + 0x1000, 16);
  // No EVENT_IDX: the worker's avail_event write (marked by its view) would mark the ring's page anyway.
  bringUp(dev, [ring], 0n);
  const table = new VhostTable(blk.notifyTable(0) as SharedArrayBuffer);
  const share = vm.map.codeWrites;
  if (share === undefined) throw new Error("a VM's map has a code-write log");
  const log = new CodeWriteLog(share, mem.machine);
  const pageOf = (gpa: number) => mem.translate(gpa, 1) >>> PAGE_SHIFT;
  const statusPage = pageOf(STATUS);
  const ringPage = pageOf(ring.layout.used);
  const dataPage = pageOf(DATA);
  expect(new Set([statusPage, ringPage, dataPage]).size).toBe(3);
  log.codeMap[statusPage] = 1;
  log.codeMap[ringPage] = 1;
  log.codeMap[dataPage] = 1;
  // A read of sector 8 into one page; the driver's own writes are marked by the main thread's view.
  mem.writeU32(HDR, T_IN);
  mem.writeU64(HDR + 8, 8n);
  mem.writeU8(STATUS, 0xff);
  ring.offer(ring.chain(0, [{ addr: HDR, len: 16 }, { addr: DATA, len: 4096, write: true }, { addr: STATUS, len: 1, write: true }]));
  // The first notify hands the queue to the worker; the request is served there, not on this thread.
  const before = [log.gen[statusPage], log.gen[ringPage], log.gen[dataPage]];
  w(dev, V.REG_QUEUE_NOTIFY, 0);
  expect(await until(dev, () => ring.usedIdx() === 1)).toBe(true);
  expect(table.served()[0]).toBe(1);
  expect(mem.readU8(STATUS)).toBe(0);
  expect(log.gen[statusPage]).toBeGreaterThan(before[0]);
  expect(log.gen[ringPage]).toBeGreaterThan(before[1]);
  expect(log.gen[dataPage]).toBeGreaterThan(before[2]);
  await dev.quiesce();
});
