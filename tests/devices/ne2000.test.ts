/*
 * The NE2000 (DP8390) at register level, driven as a guest driver drives it
 * (ne2000-driver.ts); the hostile classes behind QEMU's NE2000 CVEs are in
 * ne2000-hostile.test.ts.
 */

import { describe, expect, it } from "vitest";
import { multicastHashIndex } from "../../src/devices/ne2000.ts";
import { boardDevices } from "../../src/machine/board-devices.ts";
import { buildBoardDeviceTree } from "../../src/machine/board-dt.ts";
import { Board } from "../../src/machine/board.ts";
import { decodeCells, decodeString, findNode, getProp, parseFdt } from "../../src/machine/fdt.ts";
import { NE2000_BASE, NE2000_IRQ } from "../../src/machine/memlayout.ts";
import { ISA_STRING } from "../../src/machine/riscv.ts";
import { nicCard, parseNetdev, VirtualNetwork } from "../../src/net/netdevs.ts";
import * as N from "./ne2000-driver.ts";

const { Driver, frameTo } = N;
const BCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

describe("NE2000 registers", () => {
  it("comes out of reset stopped, with ISR.RST and the IRQ low", () => {
    const d = new Driver();
    expect(d.in(N.CR)).toBe(N.CR_STP | N.CR_NODMA);
    expect(d.in(N.ISR)).toBe(N.ISR_RST);
    expect(d.irq).toBe(false);
  });

  it("undefined reads return all ones: page 3, the FIFO, wide register accesses", () => {
    const d = new Driver();
    d.out(N.CR, N.CR_STP | N.CR_NODMA | 0xc0);
    expect(d.in(0x05)).toBe(0xff);
    d.out(N.CR, N.CR_STP | N.CR_NODMA);
    expect(d.in(0x06)).toBe(0xff);
    expect(d.card.read(N.ISR, 4)).toBe(0xffffffff);
    expect(d.card.read(N.ISR, 2)).toBe(0xffff);
  });

  it("page 1 holds PAR0-5, CURR and MAR0-7; page 2 reads back what page 0 wrote", () => {
    const d = new Driver();
    d.init({ imr: 0x15 });
    d.out(N.CR, N.CR_STA | N.CR_NODMA | N.CR_PAGE1);
    expect([1, 2, 3, 4, 5, 6].map((r) => d.in(r))).toEqual([...d.mac]);
    expect(d.in(N.CURR)).toBe(N.RX_START + 1);
    d.out(N.MAR0 + 3, 0xa5);
    expect(d.in(N.MAR0 + 3)).toBe(0xa5);
    d.out(N.CR, N.CR_STA | N.CR_NODMA | N.CR_PAGE2);
    expect(d.in(N.PSTART)).toBe(N.RX_START);
    expect(d.in(N.PSTOP)).toBe(N.RX_STOP);
    expect(d.in(N.TPSR)).toBe(N.TX_PAGE);
    expect(d.in(N.RCR)).toBe(N.RCR_AB);
    expect(d.in(N.IMR)).toBe(0x15);
    d.out(N.PSTART, 0x99); // page 2 is read-only
    expect(d.in(N.PSTART)).toBe(N.RX_START);
  });

  it("the PROM, read by remote DMA, holds the MAC (each byte twice) and the NE2000 'WW' signature", () => {
    const d = new Driver();
    const prom = d.readMem(0, 32);
    expect([...prom.subarray(0, 12)]).toEqual([...d.mac].flatMap((b) => [b, b]));
    expect([prom[28], prom[29]]).toEqual([0x57, 0x57]);
  });

  it("remote DMA: write then read back packet RAM through the data port, 8, 16 and 32 bits wide; RDC at the end", () => {
    const d = new Driver();
    d.init({ dcr: 0x49 });
    const bytes = Uint8Array.from({ length: 64 }, (_, i) => i * 3);
    d.writeMem(0x5000, bytes);
    expect(d.in(N.ISR) & N.ISR_RDC).toBe(N.ISR_RDC);
    d.out(N.ISR, N.ISR_RDC);
    expect([...d.readMem(0x5000, 64, 1)]).toEqual([...bytes]);
    expect([...d.readMem(0x5000, 64, 2)]).toEqual([...bytes]);
    expect([...d.readMem(0x5000, 64, 4)]).toEqual([...bytes]);
    expect(d.in(N.ISR) & N.ISR_RDC).toBe(N.ISR_RDC);
    expect(d.card.read(N.DATA, 1)).toBe(0xff); // no transfer running
  });

  it("a zero-byte remote DMA completes at once (RDC)", () => {
    const d = new Driver();
    d.init();
    d.out(N.ISR, 0xff);
    d.remote(0x4000, 0, N.CR_RREAD);
    expect(d.in(N.ISR) & N.ISR_RDC).toBe(N.ISR_RDC);
  });

  it("transmit: the frame at TPSR, TBCR bytes, leaves through the port; PTX in ISR and TSR, the IRQ rises", () => {
    const d = new Driver();
    d.init();
    const f = frameTo(BCAST, 100, 7);
    d.transmit(f);
    expect(d.port.sent).toHaveLength(1);
    expect([...d.port.sent[0]]).toEqual([...f]);
    expect(d.in(N.ISR) & N.ISR_PTX).toBe(N.ISR_PTX);
    expect(d.in(N.TSR) & 1).toBe(1);
    expect(d.in(N.CR) & N.CR_TXP).toBe(0);
    expect(d.irq).toBe(true);
    d.out(N.ISR, 0xff);
    expect(d.irq).toBe(false);
    expect(d.card.stats.txFrames).toBe(1);
  });

  it("IMR gates the IRQ line: a masked cause sets ISR but not the line", () => {
    const d = new Driver();
    d.init({ imr: N.ISR_PRX });
    d.transmit(frameTo(BCAST));
    expect(d.in(N.ISR) & N.ISR_PTX).toBe(N.ISR_PTX);
    expect(d.irq).toBe(false);
    d.out(N.IMR, N.ISR_PTX);
    expect(d.irq).toBe(true);
  });

  it("receive: the frame lands at CURR with its header; the driver reads it and moves BNRY", () => {
    const d = new Driver();
    d.init();
    const f = frameTo(d.mac, 300, 1);
    d.port.deliver(f);
    expect(d.in(N.ISR) & N.ISR_PRX).toBe(N.ISR_PRX);
    expect(d.irq).toBe(true);
    expect(d.curr()).toBe(N.RX_START + 1 + 2); // 304 bytes: two pages
    const got = d.receiveOne();
    expect(got?.status).toBe(1);
    expect([...(got?.frame ?? [])]).toEqual([...f]);
    expect(d.receiveOne()).toBeUndefined();
    expect(d.card.stats.rxFrames).toBe(1);
  });

  it("a frame shorter than 60 bytes is padded with zeros to 60", () => {
    const d = new Driver();
    d.init();
    d.port.deliver(frameTo(d.mac, 20, 5));
    const got = d.receiveOne();
    expect(got?.frame.length).toBe(60);
    expect([...(got?.frame.subarray(20) ?? [])].every((b) => b === 0)).toBe(true);
  });

  it("frames wrap around the end of the ring and come out whole, in order", () => {
    const d = new Driver();
    d.init();
    const seen: number[] = [];
    for (let i = 0; i < 100; i++) {
      const f = frameTo(d.mac, 1000 + i, i);
      d.port.deliver(f);
      const got = d.receiveOne();
      expect(got?.frame).toEqual(f);
      seen.push(i);
    }
    expect(seen).toHaveLength(100);
  });

  it("filters by RCR: unicast to another MAC only when promiscuous, broadcast only with AB, multicast by the MAR hash", () => {
    const d = new Driver();
    d.init({ rcr: 0 });
    d.port.deliver(frameTo(BCAST));
    d.port.deliver(frameTo(new Uint8Array([0x52, 0x54, 0, 0, 0, 1])));
    expect(d.card.stats.rxFiltered).toBe(2);
    d.out(N.RCR, N.RCR_PRO);
    d.port.deliver(frameTo(new Uint8Array([0x52, 0x54, 0, 0, 0, 1])));
    expect(d.card.stats.rxFrames).toBe(1);
    const group = new Uint8Array([0x01, 0x00, 0x5e, 0x00, 0x00, 0x01]);
    d.out(N.RCR, N.RCR_AM);
    d.port.deliver(frameTo(group));
    expect(d.card.stats.rxFrames).toBe(1);
    const bit = multicastHashIndex(group);
    d.out(N.CR, N.CR_STA | N.CR_NODMA | N.CR_PAGE1);
    d.out(N.MAR0 + (bit >> 3), 1 << (bit & 7));
    d.out(N.CR, N.CR_STA | N.CR_NODMA);
    d.port.deliver(frameTo(group));
    expect(d.card.stats.rxFrames).toBe(2);
  });

  it("the multicast hash is the DP8390's (values from Linux's ether_crc(6, addr) >> 26)", () => {
    expect(multicastHashIndex(new Uint8Array([0x01, 0x00, 0x5e, 0x00, 0x00, 0x01]))).toBe(31);
    expect(multicastHashIndex(new Uint8Array([0x33, 0x33, 0x00, 0x00, 0x00, 0x01]))).toBe(62);
  });

  it("a full ring misses frames: CNTR2 counts them (cleared by reading), OVW is raised, nothing is overwritten", () => {
    const d = new Driver();
    d.init();
    const first = frameTo(d.mac, 1514, 1);
    let delivered = 0;
    for (let i = 0; i < 20; i++) d.port.deliver(i === 0 ? first : frameTo(d.mac, 1514, 100 + i));
    delivered = d.card.stats.rxFrames;
    expect(delivered).toBeGreaterThan(0);
    expect(d.card.stats.rxRingFull).toBe(20 - delivered);
    expect(d.in(N.ISR) & N.ISR_OVW).toBe(N.ISR_OVW);
    expect(d.in(N.CNTR2)).toBe(20 - delivered);
    expect(d.in(N.CNTR2)).toBe(0);
    expect(d.receiveOne()?.frame).toEqual(first);
  });

  it("a stopped card receives nothing", () => {
    const d = new Driver();
    d.port.deliver(frameTo(d.mac));
    expect(d.card.stats.rxStopped).toBe(1);
  });

  it("a read of the reset port resets the card: stopped, ISR.RST, interrupts masked", () => {
    const d = new Driver();
    d.init();
    d.transmit(frameTo(BCAST));
    expect(d.irq).toBe(true);
    d.card.read(N.RESET, 1);
    expect(d.in(N.ISR)).toBe(N.ISR_RST);
    expect(d.in(N.CR) & N.CR_STP).toBe(N.CR_STP);
    expect(d.irq).toBe(false);
  });

  it("CR.STP sets ISR.RST; CR.STA clears it", () => {
    const d = new Driver();
    d.init();
    expect(d.in(N.ISR) & N.ISR_RST).toBe(0);
    d.out(N.CR, N.CR_STP | N.CR_NODMA);
    expect(d.in(N.ISR) & N.ISR_RST).toBe(N.ISR_RST);
  });
});

describe("NE2000 on the board", () => {
  it("sits in lab slot 0 with PLIC source 11, in the device tree with its MAC; its IRQ reaches the PLIC", () => {
    const net = new VirtualNetwork();
    const card = nicCard(net, parseNetdev("switch,id=a"), "52:54:00:aa:bb:cc");
    const b = new Board({ harts: 1, memSize: 4 * 2 ** 20, clock: "icount", output: () => {}, devices: boardDevices({ ne2000: [card] }) });
    const dt = parseFdt(buildBoardDeviceTree({ harts: 1, ramBase: 0x8000_0000, ramSize: 4 * 2 ** 20, isa: ISA_STRING, devices: b.devices.specs }));
    const node = findNode(dt, `/soc/ethernet@${NE2000_BASE.toString(16)}`);
    expect(node).toBeDefined();
    expect(decodeCells(getProp(node!, "interrupts")!)).toEqual([NE2000_IRQ]);
    expect(decodeString(getProp(node!, "compatible")!)).toBe("popek,ne2000");
    expect([...getProp(node!, "local-mac-address")!]).toEqual([0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc]);
    // Through the bus, as the guest sees it: PROM, then a transmit with PTX unmasked raises source 11.
    const w = (off: number, v: number) => b.bus.write(NE2000_BASE + off, 1, v);
    w(N.RBCR0, 2);
    w(N.RBCR1, 0);
    w(N.RSAR0, 6);
    w(N.RSAR1, 0);
    w(N.CR, N.CR_STA | N.CR_RREAD);
    expect(b.bus.read(NE2000_BASE + N.DATA, 1)).toBe(0xaa); // PROM byte 6: MAC byte 3 (each byte twice)
    w(N.TPSR, 0x40);
    w(N.TBCR0, 60);
    w(N.TBCR1, 0);
    w(N.IMR, N.ISR_PTX);
    w(N.CR, N.CR_STA | N.CR_NODMA | N.CR_TXP);
    expect((b.bus.read(0x0c00_1000, 4) >>> NE2000_IRQ) & 1).toBe(1);
    // The frame went out to the switch.
    expect(net.switchNamed("lan").stats.forwarded).toBe(1);
  });

  it("the lab region takes four cards; a fifth is refused in one line", () => {
    const port = new N.TestPort();
    expect(boardDevices({ ne2000: [{ port }, { port }, { port }, { port }] }).filter((s) => s.kind.name === "ne2000").map((s) => s.irq)).toEqual([11, 12, 13, 14]);
    expect(() => boardDevices({ ne2000: Array.from({ length: 5 }, () => ({ port })) })).toThrow(/5 NE2000 cards/);
  });
});

describe("NE2000 tally counters", () => {
  it("CNTR2 raises ISR.CNT when its top bit sets and stops at 192", () => {
    const d = new Driver();
    d.init();
    d.out(N.PSTOP, 0); // no ring: every frame is missed
    for (let i = 0; i < 127; i++) d.port.deliver(frameTo(BCAST));
    expect(d.in(N.ISR) & 0x20).toBe(0);
    d.port.deliver(frameTo(BCAST));
    expect(d.in(N.ISR) & 0x20).toBe(0x20);
    for (let i = 0; i < 100; i++) d.port.deliver(frameTo(BCAST));
    expect(d.in(N.CNTR2)).toBe(192);
    expect(d.in(N.CNTR2)).toBe(0);
  });
});
