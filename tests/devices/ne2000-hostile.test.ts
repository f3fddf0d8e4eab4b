/*
 * The attack classes behind QEMU's NE2000 CVEs, from the guest driver's
 * side: each test sets the card up the way the exploit did and checks that
 * the card ends (no endless loop), touches nothing outside its packet RAM,
 * and at worst stops receiving — with the refusal counted.
 *
 *   CVE-2015-5278  endless loop in ne2000_receive: PSTART/PSTOP that make the ring wrap forever
 *   CVE-2015-5279  heap overflow in ne2000_receive: ring pointers past the packet RAM
 *   CVE-2016-2841  endless loop in ne2000_receive: PSTART > PSTOP (an inverted ring)
 *   CVE-2018-10839 integer overflow -> buffer overflow: oversized frames
 *   CVE-2021-3416  DMA reentrancy: a NIC in loopback feeding itself
 * plus remote DMA running past the card's memory and zero-length frames.
 */

import { describe, expect, it } from "vitest";
import * as N from "./ne2000-driver.ts";

const { Driver, frameTo } = N;
const BCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const PMEM_START = 0x4000;
const PMEM_SIZE = 0x8000;

/** All of packet RAM, read through the data port (with PSTOP cleared meanwhile, so the read does not wrap at the ring's end). */
function ram(d: InstanceType<typeof Driver>): Uint8Array {
  d.out(N.CR, N.CR_STA | N.CR_NODMA | N.CR_PAGE2);
  const pstop = d.in(N.PSTOP);
  d.out(N.CR, N.CR_STA | N.CR_NODMA);
  d.out(N.PSTOP, 0);
  const bytes = d.readMem(PMEM_START, PMEM_SIZE, 4);
  d.out(N.PSTOP, pstop);
  return bytes;
}

/** A card initialised normally, then with its ring registers set as given (page 0 PSTART/PSTOP/BNRY, page 1 CURR). */
function withRing(ring: { pstart?: number; pstop?: number; bnry?: number; curr?: number }): InstanceType<typeof Driver> {
  const d = new Driver();
  d.init({ rcr: N.RCR_AB | N.RCR_PRO });
  if (ring.pstart !== undefined) d.out(N.PSTART, ring.pstart);
  if (ring.pstop !== undefined) d.out(N.PSTOP, ring.pstop);
  if (ring.bnry !== undefined) d.out(N.BNRY, ring.bnry);
  if (ring.curr !== undefined) {
    d.out(N.CR, N.CR_STA | N.CR_NODMA | N.CR_PAGE1);
    d.out(N.CURR, ring.curr);
    d.out(N.CR, N.CR_STA | N.CR_NODMA);
  }
  return d;
}

/** Delivers frames of every size class to a hostile ring and checks nothing in packet RAM changed. */
function floodAndCheckUntouched(d: InstanceType<typeof Driver>): void {
  const before = ram(d);
  for (const size of [60, 255, 256, 1514]) d.port.deliver(frameTo(BCAST, size, size));
  expect(ram(d)).toEqual(before);
  expect(d.card.stats.rxFrames).toBe(0);
  expect(d.card.stats.rxBadRing).toBe(4);
}

describe("NE2000 under hostile drivers (QEMU CVE classes)", () => {
  it("CVE-2015-5278: PSTART == PSTOP (an empty ring) receives nothing and does not loop", () => {
    floodAndCheckUntouched(withRing({ pstart: 0x50, pstop: 0x50, bnry: 0x50, curr: 0x50 }));
  });

  it("CVE-2015-5278: a ring too small for one frame receives nothing", () => {
    floodAndCheckUntouched(withRing({ pstart: 0x50, pstop: 0x52, bnry: 0x50, curr: 0x51 }));
  });

  it("CVE-2016-2841: an inverted ring (PSTART > PSTOP) receives nothing and does not loop", () => {
    floodAndCheckUntouched(withRing({ pstart: 0x80, pstop: 0x46, bnry: 0x80, curr: 0x81 }));
  });

  it("CVE-2015-5279: PSTOP past the end of packet RAM receives nothing", () => {
    const d = withRing({ pstop: 0xff, curr: 0xfe, bnry: 0x46 });
    floodAndCheckUntouched(d);
  });

  it("CVE-2015-5279: PSTART below packet RAM (over the PROM hole) receives nothing", () => {
    const d = withRing({ pstart: 0x00, bnry: 0x00, curr: 0x01 });
    const prom = d.readMem(0, 32);
    floodAndCheckUntouched(d);
    expect(d.readMem(0, 32)).toEqual(prom);
  });

  it("CVE-2015-5279: CURR outside the ring receives nothing", () => {
    floodAndCheckUntouched(withRing({ curr: 0xbf }));
    floodAndCheckUntouched(withRing({ curr: 0x10 }));
  });

  it("CVE-2015-5279: BNRY outside the ring receives nothing", () => {
    floodAndCheckUntouched(withRing({ bnry: 0xf0 }));
  });

  it("a ring that is fine again after the driver fixes it receives again (the card only stopped)", () => {
    const d = withRing({ pstart: 0x80, pstop: 0x46 });
    d.port.deliver(frameTo(BCAST));
    expect(d.card.stats.rxBadRing).toBe(1);
    d.out(N.PSTART, N.RX_START);
    d.out(N.PSTOP, N.RX_STOP);
    const f = frameTo(BCAST, 100, 3);
    d.port.deliver(f);
    expect(d.receiveOne()?.frame).toEqual(f);
  });

  it("CVE-2018-10839: a frame longer than the largest Ethernet frame is refused on receive, whatever its size", () => {
    const d = withRing({});
    const before = ram(d);
    for (const size of [1519, 4096, 65535, 65536 + 60]) d.port.deliver(frameTo(BCAST, size));
    expect(d.card.stats.badLength).toBe(4);
    expect(ram(d)).toEqual(before);
  });

  it("CVE-2018-10839: the largest frame at the very end of the ring wraps inside it", () => {
    const d = withRing({});
    // Walk CURR to the ring's last page by receiving and consuming small frames.
    while (d.curr() !== N.RX_STOP - 1) {
      d.port.deliver(frameTo(BCAST, 60));
      d.receiveOne();
    }
    const big = frameTo(BCAST, 1518, 9);
    d.port.deliver(big);
    expect(d.receiveOne()?.frame).toEqual(big);
    // Nothing past PSTOP: the pages above the ring are still zero.
    expect(d.readMem(N.RX_STOP << 8, 0x1000).every((b) => b === 0)).toBe(true);
  });

  it("a transmit longer than the largest frame, or running past packet RAM, is refused with TXE", () => {
    const d = withRing({});
    d.out(N.TPSR, 0xbf);
    d.out(N.TBCR0, 0x00);
    d.out(N.TBCR1, 0x02); // 512 bytes from 0xbf00: past 0xc000
    d.out(N.CR, N.CR_STA | N.CR_NODMA | N.CR_TXP);
    expect(d.in(N.ISR) & N.ISR_TXE).toBe(N.ISR_TXE);
    d.out(N.TPSR, 0x40);
    d.out(N.TBCR0, 0xff);
    d.out(N.TBCR1, 0xff); // 65535 bytes
    d.out(N.CR, N.CR_STA | N.CR_NODMA | N.CR_TXP);
    d.out(N.TPSR, 0x00); // the PROM hole
    d.out(N.TBCR0, 60);
    d.out(N.TBCR1, 0);
    d.out(N.CR, N.CR_STA | N.CR_NODMA | N.CR_TXP);
    expect(d.port.sent).toHaveLength(0);
    expect(d.card.stats.badLength + d.card.stats.txBadBuffer).toBe(3);
  });

  it("zero-length frames: a transmit of 0 bytes sends nothing (TXE); an empty received frame is refused", () => {
    const d = withRing({});
    d.out(N.TBCR0, 0);
    d.out(N.TBCR1, 0);
    d.out(N.CR, N.CR_STA | N.CR_NODMA | N.CR_TXP);
    expect(d.port.sent).toHaveLength(0);
    expect(d.in(N.ISR) & N.ISR_TXE).toBe(N.ISR_TXE);
    const curr = d.curr();
    d.port.deliver(new Uint8Array(0));
    d.port.deliver(new Uint8Array(5));
    expect(d.curr()).toBe(curr);
    expect(d.card.stats.badLength).toBe(3);
  });

  it("remote DMA running past packet RAM: writes there vanish, reads give 0xff, the 16-bit address wraps, nothing else changes", () => {
    const d = withRing({});
    const before = ram(d);
    // 0xbff0 upward for 0x8000 bytes: 16 bytes of RAM, then nothing until the address wraps to the PROM.
    d.remote(0xbff0, 0x8000, N.CR_RWRITE);
    for (let i = 0; i < 0x8000; i++) d.card.write(N.DATA, 1, 0xaa);
    expect(d.in(N.ISR) & N.ISR_RDC).toBe(N.ISR_RDC);
    const after = ram(d);
    expect(after.subarray(0x7ff0)).toEqual(new Uint8Array(16).fill(0xaa));
    expect(after.subarray(0, 0x7ff0)).toEqual(before.subarray(0, 0x7ff0));
    expect(d.readMem(0, 2)).toEqual(new Uint8Array([d.mac[0], d.mac[0]])); // the PROM is read-only
    expect([...d.readMem(0xc000, 4)]).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect([...d.readMem(0xfffe, 4)]).toEqual([0xff, 0xff, d.mac[0], d.mac[0]]);
  });

  it("remote DMA with a 32-bit access on the last byte moves only the bytes left", () => {
    const d = withRing({});
    d.writeMem(0x5000, new Uint8Array([1, 2, 3]));
    d.remote(0x5000, 3, N.CR_RREAD);
    expect(d.card.read(N.DATA, 4)).toBe(0xff030201);
    expect(d.card.read(N.DATA, 4)).toBe(0xffffffff);
  });

  it("CVE-2021-3416: loopback hands the frame to the card's own receiver once; nothing reaches the wire, nothing recurses", () => {
    const d = withRing({});
    d.out(N.TCR, N.TCR_LOOPBACK);
    const f = frameTo(BCAST, 200, 4);
    for (let i = 0; i < 5; i++) d.transmit(f);
    expect(d.port.sent).toHaveLength(0);
    expect(d.card.stats.rxFrames).toBe(5);
    expect(d.card.stats.txFrames).toBe(5);
    for (let i = 0; i < 5; i++) expect(d.receiveOne()?.frame).toEqual(f);
    expect(d.receiveOne()).toBeUndefined();
  });

  it("CVE-2021-3416: loopback into a full ring misses the frame instead of looping", () => {
    const d = withRing({});
    d.out(N.TCR, N.TCR_LOOPBACK);
    for (let i = 0; i < 100; i++) d.transmit(frameTo(BCAST, 1514, i));
    expect(d.card.stats.rxFrames).toBeLessThan(100);
    expect(d.card.stats.rxRingFull).toBe(100 - d.card.stats.rxFrames);
  });

  it("random register and data-port writes never throw and never reach outside the card", () => {
    const d = withRing({});
    let seed = 12345;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const widths = [1, 2, 4] as const;
    for (let i = 0; i < 200_000; i++) {
      const off = rnd(0x20);
      const w = widths[rnd(3)];
      if (rnd(2) === 0) d.card.write(off, w, rnd(0x1_0000_0000));
      else d.card.read(off, w);
      if (rnd(64) === 0) d.port.deliver(frameTo(rnd(2) ? BCAST : d.mac, 14 + rnd(1600), i));
    }
    expect(d.card.stats.rxFrames + d.card.stats.rxBadRing + d.card.stats.rxRingFull + d.card.stats.rxStopped + d.card.stats.rxFiltered + d.card.stats.badLength).toBeGreaterThan(0);
  });
});
