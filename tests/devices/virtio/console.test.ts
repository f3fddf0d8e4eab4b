/*
 * virtio-console (virtio 1.2 §5.3), one port without MULTIPORT, driven from
 * hand-built rings: transmit goes to the console output, host input waits
 * for the driver's receive buffers, emerg_wr prints without a queue.
 */

import { describe, expect, it } from "vitest";
import { VirtioConsole } from "../../../src/devices/virtio/console.ts";
import { VirtioMmio } from "../../../src/devices/virtio/mmio.ts";
import * as V from "../../../src/devices/virtio/regs.ts";
import { DriverRing, guestRam, RAM_BASE } from "./driver-ring.ts";
import { bringUp, deviceFeatures, r, w } from "./transport.ts";

const F_EMERG_WRITE = V.feature(2);
const TX_BUF = RAM_BASE + 0x10000;
const RX_BUF = RAM_BASE + 0x20000;

function consoleDevice() {
  const mem = guestRam();
  const out: number[] = [];
  const con = new VirtioConsole((b) => out.push(b));
  const irq = { level: false, set(l: boolean) { this.level = l; } };
  const dev = new VirtioMmio(con, irq, mem, { legacy: false });
  const rx = new DriverRing(mem, RAM_BASE + 0x1000, 8);
  const tx = new DriverRing(mem, RAM_BASE + 0x2000, 8);
  const text = () => String.fromCharCode(...out);
  return { mem, con, dev, irq, rx, tx, text };
}

describe("virtio-console (virtio 1.2 §5.3)", () => {
  it("is device 3 and offers EMERG_WRITE", () => {
    const { dev } = consoleDevice();
    expect(r(dev, V.REG_DEVICE_ID)).toBe(V.DEVICE_ID_CONSOLE);
    expect(deviceFeatures(dev) & F_EMERG_WRITE).toBe(F_EMERG_WRITE);
  });

  it("prints what the driver transmits, chain by chain, and interrupts once for the batch", () => {
    const { mem, dev, irq, rx, tx, text } = consoleDevice();
    bringUp(dev, [rx, tx]);
    mem.copyIn(TX_BUF, new TextEncoder().encode("hello, "));
    mem.copyIn(TX_BUF + 0x100, new TextEncoder().encode("console\n"));
    tx.offer(tx.chain(0, [{ addr: TX_BUF, len: 7 }]));
    tx.offer(tx.chain(1, [{ addr: TX_BUF + 0x100, len: 4 }, { addr: TX_BUF + 0x104, len: 4 }]));
    w(dev, V.REG_QUEUE_NOTIFY, 1);
    expect(text()).toBe("hello, console\n");
    expect(tx.usedIdx()).toBe(2);
    expect(irq.level).toBe(true);
  });

  it("keeps host input until the driver posts a receive buffer, then fills it", () => {
    const { mem, con, dev, rx, tx } = consoleDevice();
    bringUp(dev, [rx, tx]);
    con.receive(new TextEncoder().encode("typed\n"));
    expect(rx.usedIdx()).toBe(0);
    rx.offer(rx.chain(0, [{ addr: RX_BUF, len: 4, write: true }]));
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    expect(rx.used(0)).toEqual({ id: 0, len: 4 });
    rx.offer(rx.chain(1, [{ addr: RX_BUF + 0x100, len: 64, write: true }]));
    w(dev, V.REG_QUEUE_NOTIFY, 0);
    expect(rx.used(1)).toEqual({ id: 1, len: 2 });
    const got = new Uint8Array(6);
    mem.copyOut(RX_BUF, got.subarray(0, 4));
    mem.copyOut(RX_BUF + 0x100, got.subarray(4));
    expect(new TextDecoder().decode(got)).toBe("typed\n");
    expect(con.stats.rxBytes).toBe(6);
  });

  it("drops host input past its 4 KiB backlog, and counts it", () => {
    const { con } = consoleDevice();
    con.receive(new Uint8Array(5000));
    expect(con.stats.rxDropped).toBe(5000 - 4096);
  });

  it("emerg_wr prints one byte with no queue set up (§5.3.6.1)", () => {
    const { dev, text } = consoleDevice();
    w(dev, V.REG_STATUS, V.STATUS_ACKNOWLEDGE | V.STATUS_DRIVER);
    for (const c of "early\n") dev.write(V.REG_CONFIG + 8, 4, c.charCodeAt(0));
    expect(text()).toBe("early\n");
  });

  it("a transmit chain of more than 64 KiB stops the device (DEVICE_NEEDS_RESET), nothing printed", () => {
    const { dev, rx, tx, text } = consoleDevice();
    bringUp(dev, [rx, tx]);
    tx.offer(tx.chain(0, [{ addr: TX_BUF, len: 0x10001 }]));
    w(dev, V.REG_QUEUE_NOTIFY, 1);
    expect(r(dev, V.REG_STATUS) & V.STATUS_DEVICE_NEEDS_RESET).not.toBe(0);
    expect(text()).toBe("");
  });
});
