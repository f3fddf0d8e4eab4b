import { describe, expect, it } from "vitest";
import type { VirtioBackend, VirtioLink } from "../../../src/devices/virtio/backend.ts";
import { VirtioMmio } from "../../../src/devices/virtio/mmio.ts";
import { DescChain } from "../../../src/devices/virtio/queue.ts";
import * as V from "../../../src/devices/virtio/regs.ts";
import { DriverRing, guestRam, RAM_BASE } from "./driver-ring.ts";
import { bringUp, deviceFeatures, negotiate, r, setupQueue, w } from "./transport.ts";

/** A back-end that returns every chain it is given with its writable length, and counts what the transport tells it. */
class EchoBackend implements VirtioBackend {
  readonly deviceId = 0x2a;
  readonly features = 1n << 3n;
  readonly queueCount = 2;
  readonly configSize = 8;
  readonly config = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  link: VirtioLink | undefined;
  resets = 0;
  private readonly chain = new DescChain();

  readConfig(offset: number, width: number): number {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = v * 256 + this.config[offset + i];
    return v;
  }
  writeConfig(offset: number, _width: number, value: number): void {
    this.config[offset] = value & 0xff;
  }
  activate(link: VirtioLink): void {
    this.link = link;
  }
  notify(i: number): void {
    const link = this.link!;
    const q = link.queue(i);
    while (q.pop(this.chain)) q.push(this.chain.head, this.chain.writableBytes);
    link.used(i);
  }
  reset(): void {
    this.resets++;
    this.link = undefined;
  }
}

function device(legacy = false) {
  const mem = guestRam();
  const backend = new EchoBackend();
  const irq = { level: false, set(l: boolean) { this.level = l; } };
  const dev = new VirtioMmio(backend, irq, mem, { legacy });
  const rings = [new DriverRing(mem, RAM_BASE + 0x1000, 8), new DriverRing(mem, RAM_BASE + 0x2000, 8)];
  return { mem, backend, irq, dev, rings };
}

const DATA = RAM_BASE + 0x8000;

describe("virtio-mmio registers (virtio 1.2 §4.2.2)", () => {
  it("identifies as QEMU's: magic, version 2 (1 when legacy), device ID, vendor", () => {
    const { dev } = device();
    expect(r(dev, V.REG_MAGIC)).toBe(0x74726976);
    expect(r(dev, V.REG_VERSION)).toBe(2);
    expect(r(dev, V.REG_DEVICE_ID)).toBe(0x2a);
    expect(r(dev, V.REG_VENDOR_ID)).toBe(0x554d4551);
    expect(r(device(true).dev, V.REG_VERSION)).toBe(1);
  });

  it("offers the back-end's features plus VERSION_1, INDIRECT_DESC and EVENT_IDX; legacy offers no VERSION_1 and only 32 bits", () => {
    const f = deviceFeatures(device().dev);
    expect(f).toBe((1n << 3n) | (1n << 28n) | (1n << 29n) | (1n << 32n));
    const legacy = deviceFeatures(device(true).dev);
    expect(legacy).toBe((1n << 3n) | (1n << 28n) | (1n << 29n));
  });

  it("keeps FEATURES_OK as QEMU does, dropping features it did not offer (§3.1.1)", () => {
    const { dev, rings, backend } = device();
    expect(negotiate(dev, (1n << 32n) | (1n << 40n) | (1n << 29n))).toBe(true);
    rings.forEach((ring, i) => setupQueue(dev, i, ring));
    w(dev, V.REG_STATUS, r(dev, V.REG_STATUS) | V.STATUS_DRIVER_OK);
    expect(backend.link?.features).toBe((1n << 32n) | (1n << 29n));
  });

  it("serves a driver that never accepts VERSION_1 on a version-2 transport, as xv6's does on QEMU", () => {
    const { dev, rings } = device();
    // xv6: features read from word 0 only, written back to word 0; FEATURES_OK must stick.
    w(dev, V.REG_STATUS, V.STATUS_ACKNOWLEDGE | V.STATUS_DRIVER);
    const offered = r(dev, V.REG_DEVICE_FEATURES);
    w(dev, V.REG_DRIVER_FEATURES, offered & ~((1 << 28) | (1 << 29)));
    w(dev, V.REG_STATUS, V.STATUS_ACKNOWLEDGE | V.STATUS_DRIVER | V.STATUS_FEATURES_OK);
    expect(r(dev, V.REG_STATUS) & V.STATUS_FEATURES_OK).toBe(V.STATUS_FEATURES_OK);
    setupQueue(dev, 0, rings[0]);
    w(dev, V.REG_STATUS, V.STATUS_ACKNOWLEDGE | V.STATUS_DRIVER | V.STATUS_FEATURES_OK | V.STATUS_DRIVER_OK);
    rings[0].offer(rings[0].chain(0, [{ addr: DATA, len: 3, write: true }]));
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    expect(rings[0].used(0)).toEqual({ id: 0, len: 3 });
  });

  it("serves a queue: notify, used ring, InterruptStatus bit 0, the line, ACK lowers it", () => {
    const { dev, rings, irq, backend } = device();
    bringUp(dev, rings);
    expect(backend.link?.live).toBe(true);
    rings[1].offer(rings[1].chain(0, [{ addr: DATA, len: 5, write: true }]));
    w(dev, V.REG_QUEUE_NOTIFY, 1);
    expect(rings[1].used(0)).toEqual({ id: 0, len: 5 });
    expect(r(dev, V.REG_INTERRUPT_STATUS)).toBe(V.INT_USED_BUFFER);
    expect(irq.level).toBe(true);
    w(dev, V.REG_INTERRUPT_ACK, V.INT_USED_BUFFER);
    expect(r(dev, V.REG_INTERRUPT_STATUS)).toBe(0);
    expect(irq.level).toBe(false);
  });

  it("reports QueueNumMax 1024 for its queues and 0 for a queue it lacks, and QueueReady as written", () => {
    const { dev, rings } = device();
    negotiate(dev, 1n << 32n);
    w(dev, V.REG_QUEUE_SEL, 1);
    expect(r(dev, V.REG_QUEUE_NUM_MAX)).toBe(1024);
    w(dev, V.REG_QUEUE_SEL, 2);
    expect(r(dev, V.REG_QUEUE_NUM_MAX)).toBe(0);
    setupQueue(dev, 0, rings[0]);
    w(dev, V.REG_QUEUE_SEL, 0);
    expect(r(dev, V.REG_QUEUE_READY)).toBe(1);
  });

  it("reads configuration space at any width; a driver's write bumps ConfigGeneration", () => {
    const { dev } = device();
    expect(dev.read(0x100, 1)).toBe(1);
    expect(dev.read(0x102, 2)).toBe(0x0403);
    expect(dev.read(0x104, 4)).toBe(0x08070605);
    expect(dev.read(0x108, 1)).toBe(0); // past the back-end's space
    const g = r(dev, V.REG_CONFIG_GENERATION);
    dev.write(0x100, 1, 9);
    expect(dev.read(0x100, 1)).toBe(9);
    expect(r(dev, V.REG_CONFIG_GENERATION)).toBe(g + 1);
  });

  it("reads 0 for registers accessed at other than 32 bits, as QEMU", () => {
    const { dev } = device();
    expect(dev.read(V.REG_MAGIC, 2)).toBe(0);
    expect(dev.read(V.REG_MAGIC, 1)).toBe(0);
  });

  it("resets on Status 0: status, features, queues and interrupt gone, back-end told", () => {
    const { dev, rings, backend, irq } = device();
    bringUp(dev, rings);
    rings[0].offer(rings[0].chain(0, [{ addr: DATA, len: 1, write: true }]));
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    const link = backend.link!;
    const resets = backend.resets;
    w(dev, V.REG_STATUS, 0);
    expect(r(dev, V.REG_STATUS)).toBe(0);
    expect(r(dev, V.REG_INTERRUPT_STATUS)).toBe(0);
    expect(irq.level).toBe(false);
    w(dev, V.REG_QUEUE_SEL, 0);
    expect(r(dev, V.REG_QUEUE_READY)).toBe(0);
    expect(backend.resets).toBe(resets + 1);
    expect(link.live).toBe(false);
  });

  it("lays out a legacy queue from QueuePFN, GuestPageSize and QueueAlign (§4.2.4)", () => {
    const { dev, mem, backend } = device(true);
    w(dev, V.REG_STATUS, V.STATUS_ACKNOWLEDGE | V.STATUS_DRIVER);
    w(dev, V.REG_GUEST_PAGE_SIZE, 4096);
    w(dev, V.REG_QUEUE_SEL, 0);
    w(dev, V.REG_QUEUE_NUM, 8);
    w(dev, V.REG_QUEUE_ALIGN, 4096);
    w(dev, V.REG_QUEUE_PFN, (RAM_BASE + 0x4000) / 4096);
    expect(r(dev, V.REG_QUEUE_PFN)).toBe((RAM_BASE + 0x4000) / 4096);
    w(dev, V.REG_STATUS, V.STATUS_ACKNOWLEDGE | V.STATUS_DRIVER | V.STATUS_DRIVER_OK);
    expect(backend.link).toBeDefined();
    // The legacy layout: descriptors, the available ring right after, the used ring on the next 4 KiB boundary.
    const ring = new DriverRing(mem, RAM_BASE + 0x4000, 8);
    expect(ring.layout.avail).toBe(RAM_BASE + 0x4000 + 128);
    mem.writeU16(ring.layout.avail + 4, 0); // avail.ring[0] = 0
    mem.writeU16(ring.layout.avail + 2, 1);
    ring.desc(0, DATA, 3, 2);
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    const used = RAM_BASE + 0x5000;
    expect(mem.readU16(used + 2)).toBe(1);
    expect(mem.readU32(used + 8)).toBe(3);
  });
});

describe("guest mistakes stop the device with DEVICE_NEEDS_RESET; the machine carries on", () => {
  const needsReset = (dev: VirtioMmio) => (r(dev, V.REG_STATUS) & V.STATUS_DEVICE_NEEDS_RESET) !== 0;

  it("a notification of a queue the device lacks", () => {
    const { dev, rings } = device();
    bringUp(dev, rings);
    w(dev, V.REG_QUEUE_NOTIFY, 7);
    expect(needsReset(dev)).toBe(true);
    expect(dev.lastError).toMatch(/notify of queue 7/);
    expect(r(dev, V.REG_INTERRUPT_STATUS)).toBe(V.INT_CONFIG_CHANGE);
  });

  it("a queue register written with QueueSel out of range", () => {
    const { dev } = device();
    negotiate(dev, 1n << 32n);
    w(dev, V.REG_QUEUE_SEL, 0xffff_ffff);
    w(dev, V.REG_QUEUE_NUM, 8);
    expect(needsReset(dev)).toBe(true);
  });

  it("a queue made ready at an address outside RAM, or of a bad size", () => {
    for (const bad of [{ num: 8, at: 0x1000_0000 }, { num: 3, at: RAM_BASE }, { num: 4096, at: RAM_BASE }]) {
      const { dev } = device();
      negotiate(dev, 1n << 32n);
      w(dev, V.REG_QUEUE_SEL, 0);
      w(dev, V.REG_QUEUE_NUM, bad.num);
      w(dev, V.REG_QUEUE_DESC_LOW, bad.at);
      w(dev, V.REG_QUEUE_DRIVER_LOW, bad.at + 0x1000);
      w(dev, V.REG_QUEUE_DEVICE_LOW, bad.at + 0x2000);
      w(dev, V.REG_QUEUE_READY, 1);
      expect(needsReset(dev)).toBe(true);
      expect(r(dev, V.REG_QUEUE_READY)).toBe(0);
    }
  });

  it("changing a live queue's layout", () => {
    const { dev, rings } = device();
    bringUp(dev, rings);
    w(dev, V.REG_QUEUE_SEL, 0);
    w(dev, V.REG_QUEUE_NUM, 4);
    expect(needsReset(dev)).toBe(true);
  });

  it("a hostile ring: the device then ignores notifications until reset, and works again after", () => {
    const { dev, rings, backend } = device();
    bringUp(dev, rings);
    rings[0].desc(0, DATA, 1, 1, 0); // a loop
    rings[0].offer(0);
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    expect(needsReset(dev)).toBe(true);
    expect(dev.lastError).toMatch(/loop/);
    const before = rings[0].usedIdx();
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    expect(rings[0].usedIdx()).toBe(before);
    // The driver resets and starts over: the device serves again.
    const fresh = [new DriverRing(rings[0].mem, RAM_BASE + 0x3000, 8), rings[1]];
    bringUp(dev, fresh);
    expect(needsReset(dev)).toBe(false);
    fresh[0].offer(fresh[0].chain(0, [{ addr: DATA, len: 2, write: true }]));
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    expect(fresh[0].used(0)).toEqual({ id: 0, len: 2 });
    expect(backend.link?.live).toBe(true);
  });

  it("one device failing leaves another machine's device serving", () => {
    const a = device();
    const b = device();
    bringUp(a.dev, a.rings);
    bringUp(b.dev, b.rings);
    a.rings[0].offer(9);
    w(a.dev, V.REG_QUEUE_NOTIFY, 0);
    expect(needsReset(a.dev)).toBe(true);
    b.rings[0].offer(b.rings[0].chain(0, [{ addr: DATA, len: 1, write: true }]));
    w(b.dev, V.REG_QUEUE_NOTIFY, 0);
    expect(needsReset(b.dev)).toBe(false);
    expect(b.rings[0].usedIdx()).toBe(1);
  });
});
