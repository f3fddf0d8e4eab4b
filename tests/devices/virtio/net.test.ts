import { describe, expect, it } from "vitest";
import { VirtioMmio } from "../../../src/devices/virtio/mmio.ts";
import { VirtioNet } from "../../../src/devices/virtio/net.ts";
import { parseMac } from "../../../src/net/ethernet.ts";
import * as V from "../../../src/devices/virtio/regs.ts";
import { DriverRing, guestRam, RAM_BASE } from "./driver-ring.ts";
import { TestPort } from "./loop-port.ts";
import { bringUp, r, w } from "./transport.ts";

const F_MRG_RXBUF = V.feature(15);
const TX_BUF = RAM_BASE + 0x10000;
const RX_BUF = RAM_BASE + 0x20000;
const HDR = 12;

function nic(features = 0n, loopback = false) {
  const mem = guestRam();
  const port = new TestPort(loopback);
  const net = new VirtioNet({ mac: parseMac("52:54:00:12:34:56"), port });
  const irq = { level: false, set(l: boolean) { this.level = l; } };
  const dev = new VirtioMmio(net, irq, mem, { legacy: false });
  const rx = new DriverRing(mem, RAM_BASE + 0x1000, 8);
  const tx = new DriverRing(mem, RAM_BASE + 0x2000, 8);
  bringUp(dev, [rx, tx], features);
  return { mem, port, net, dev, rx, tx, irq };
}

function frame(n: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * seed + 3) & 0xff);
}

describe("virtio-net (virtio 1.2 §5.1) on a switch port", () => {
  it("has its MAC and link-up status in configuration space", () => {
    const { dev } = nic();
    expect([0, 1, 2, 3, 4, 5].map((i) => dev.read(0x100 + i, 1))).toEqual([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    expect(dev.read(0x106, 2)).toBe(1);
  });

  it("transmits a frame after its 12-byte header, and interrupts once for the batch", () => {
    const { mem, port, tx, dev, irq } = nic();
    const f = frame(60);
    mem.copyIn(TX_BUF + HDR, f);
    tx.offer(tx.chain(0, [{ addr: TX_BUF, len: HDR }, { addr: TX_BUF + HDR, len: 60 }]));
    tx.offer(tx.chain(2, [{ addr: TX_BUF, len: HDR + 60 }]));
    w(dev, V.REG_QUEUE_NOTIFY, 1);
    expect(port.sent).toEqual([f, f]);
    expect(tx.usedIdx()).toBe(2);
    expect(irq.level).toBe(true);
  });

  it("receives a frame into a posted buffer, header first with num_buffers 1", () => {
    const { mem, port, rx } = nic();
    rx.offer(rx.chain(0, [{ addr: RX_BUF, len: 2048, write: true }]));
    const f = frame(1514);
    port.deliver(f);
    expect(rx.used(0)).toEqual({ id: 0, len: HDR + 1514 });
    expect(mem.readU16(RX_BUF + 10)).toBe(1);
    const got = new Uint8Array(1514);
    mem.copyOut(RX_BUF + HDR, got);
    expect(got).toEqual(f);
  });

  it("spreads a frame over several buffers with MRG_RXBUF, num_buffers saying how many", () => {
    const { mem, port, rx, net } = nic(F_MRG_RXBUF);
    for (let i = 0; i < 3; i++) rx.offer(rx.chain(i, [{ addr: RX_BUF + 0x1000 * i, len: 600, write: true }]));
    const f = frame(1514, 5);
    port.deliver(f);
    expect(rx.usedIdx()).toBe(3);
    expect(mem.readU16(RX_BUF + 10)).toBe(3);
    expect([rx.used(0).len, rx.used(1).len, rx.used(2).len]).toEqual([600, 600, HDR + 1514 - 1200]);
    const got = new Uint8Array(1514);
    mem.copyOut(RX_BUF + HDR, got.subarray(0, 588));
    mem.copyOut(RX_BUF + 0x1000, got.subarray(588, 1188));
    mem.copyOut(RX_BUF + 0x2000, got.subarray(1188));
    expect(got).toEqual(f);
    expect(net.stats.rxFrames).toBe(1);
  });

  it("keeps frames that arrive before any buffer is posted, and delivers them on the receive queue's notify", () => {
    const { port, rx, dev } = nic();
    port.deliver(frame(60));
    port.deliver(frame(61));
    expect(rx.usedIdx()).toBe(0);
    rx.offer(rx.chain(0, [{ addr: RX_BUF, len: 2048, write: true }]));
    rx.offer(rx.chain(1, [{ addr: RX_BUF + 0x1000, len: 2048, write: true }]));
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    expect(rx.usedIdx()).toBe(2);
    expect(rx.used(1).len).toBe(HDR + 61);
  });

  it("loops a transmitted frame back into its own receive ring over a loopback port", () => {
    const { mem, rx, tx, dev } = nic(0n, true);
    rx.offer(rx.chain(0, [{ addr: RX_BUF, len: 2048, write: true }]));
    mem.copyIn(TX_BUF + HDR, frame(100, 3));
    tx.offer(tx.chain(0, [{ addr: TX_BUF, len: HDR + 100 }]));
    w(dev, V.REG_QUEUE_NOTIFY, 1);
    const got = new Uint8Array(100);
    mem.copyOut(RX_BUF + HDR, got);
    expect(got).toEqual(frame(100, 3));
  });

  it("stops with DEVICE_NEEDS_RESET on a transmit buffer shorter than its header, or a receive buffer too small without MRG_RXBUF", () => {
    const a = nic();
    a.tx.offer(a.tx.chain(0, [{ addr: TX_BUF, len: 4 }]));
    w(a.dev, V.REG_QUEUE_NOTIFY, 1);
    expect(r(a.dev, V.REG_STATUS) & V.STATUS_DEVICE_NEEDS_RESET).not.toBe(0);
    expect(a.port.sent).toEqual([]);
    const b = nic();
    b.rx.offer(b.rx.chain(0, [{ addr: RX_BUF, len: 100, write: true }]));
    b.port.deliver(frame(1514));
    expect(r(b.dev, V.REG_STATUS) & V.STATUS_DEVICE_NEEDS_RESET).not.toBe(0);
  });

  it("a frame for a NIC whose driver took its receive queue away stops the NIC, not the sender", () => {
    const { port, dev } = nic();
    w(dev, V.REG_QUEUE_SEL, 0);
    w(dev, V.REG_QUEUE_READY, 0);
    expect(() => port.deliver(frame(60))).not.toThrow();
    expect(r(dev, V.REG_STATUS) & V.STATUS_DEVICE_NEEDS_RESET).not.toBe(0);
  });

  it("parses MACs as QEMU spells them, and nothing else", () => {
    expect(parseMac("52:54:00:ab:CD:ef")).toEqual(Uint8Array.from([0x52, 0x54, 0, 0xab, 0xcd, 0xef]));
    expect(() => parseMac("52:54:00:ab:cd")).toThrow(RangeError);
    expect(() => parseMac("52-54-00-ab-cd-ef")).toThrow(RangeError);
  });
});
