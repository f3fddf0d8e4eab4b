/*
 * The one MMIO access rule (src/machine/mmio-access.ts), which the hart and
 * the hypervisor's MMIO exits share: QEMU's aligned pieces, the bytes a
 * store narrows to, and a fault (with nothing done) at the first piece no
 * device window holds.
 */

import { describe, expect, it } from "vitest";
import { Bus } from "../../src/machine/bus.ts";
import { MMIO_OK, mmioLoad, mmioStore } from "../../src/machine/mmio-access.ts";
import { FakeDevice } from "../helpers/hart-harness.ts";

const DEV = 0x1000_0000;
const SIZE = 0x100;

/** A device whose byte at offset o reads as 0x80 + o (whatever the access width), logging every access. */
class Bytes extends FakeDevice {
  override read(offset: number, width: 1 | 2 | 4): number {
    this.log.push(`r${width}@${offset}`);
    let v = 0;
    for (let i = 0; i < width; i++) v |= ((0x80 + offset + i) & 0xff) << (8 * i);
    return v >>> 0;
  }
}

function setup(): { bus: Bus; dev: Bytes } {
  const bus = new Bus();
  const dev = new Bytes(SIZE);
  bus.map(DEV, dev);
  return { bus, dev };
}

function load(bus: Bus, pa: number, width: number): { bad: number; value: bigint } {
  const out = new Int32Array(2);
  const bad = mmioLoad(bus, pa, width, out);
  return { bad, value: (BigInt(out[1] >>> 0) << 32n) | BigInt(out[0] >>> 0) };
}

describe("mmioLoad / mmioStore: QEMU's aligned pieces", () => {
  it.each([
    ["sw at +1: four bytes (a 16550's IER FCR LCR MCR)", 1, 4, ["w1@1=44", "w1@2=33", "w1@3=22", "w1@4=11"]],
    ["sw at +2: two halves", 2, 4, ["w2@2=3344", "w2@4=1122"]],
    ["sd at +4: two words", 4, 8, ["w4@4=11223344", "w4@8=55667788"]],
    ["sd at +0: two words, low first", 0, 8, ["w4@0=11223344", "w4@4=55667788"]],
    ["sd at +1: eight bytes (an odd count left is never more than a byte)", 1, 8,
      ["w1@1=44", "w1@2=33", "w1@3=22", "w1@4=11", "w1@5=88", "w1@6=77", "w1@7=66", "w1@8=55"]],
    ["sw at +6: two halves, across an 8-byte boundary", 6, 4, ["w2@6=3344", "w2@8=1122"]],
    ["sh at +3: two bytes", 3, 2, ["w1@3=44", "w1@4=33"]],
    ["sb: the low byte only", 5, 1, ["w1@5=44"]],
  ] as const)("%s", (_name, offset, width, log) => {
    const { bus, dev } = setup();
    expect(mmioStore(bus, DEV + offset, width, 0x1122_3344, 0x5566_7788)).toBe(MMIO_OK);
    expect(dev.log).toEqual(log);
  });

  it.each([
    ["lwu at +1", 1, 4, 0x8483_8281n, ["r1@1", "r1@2", "r1@3", "r1@4"]],
    ["lw at +2", 2, 4, 0x8584_8382n, ["r2@2", "r2@4"]],
    ["ld at +4 (4-aligned)", 4, 8, 0x8b8a_8988_8786_8584n, ["r4@4", "r4@8"]],
    ["ld at +2", 2, 8, 0x8988_8786_8584_8382n, ["r2@2", "r2@4", "r2@6", "r2@8"]],
  ] as const)("%s: the pieces, and their bytes in place", (_name, offset, width, value, log) => {
    const { bus, dev } = setup();
    expect(load(bus, DEV + offset, width)).toEqual({ bad: MMIO_OK, value });
    expect(dev.log).toEqual(log);
  });

  it("an access running past the window faults at its first piece outside, and touches nothing", () => {
    const { bus, dev } = setup();
    expect(load(bus, DEV + SIZE - 4, 8).bad, "ld: the second word").toBe(4);
    expect(mmioStore(bus, DEV + SIZE - 1, 4, 0, 0), "sw at the last byte: its second piece").toBe(1);
    expect(load(bus, DEV + SIZE, 1).bad, "nothing there at all: offset 0").toBe(0);
    expect(dev.log, "no piece was performed").toEqual([]);
  });

  it("a page-crossing access takes its bytes from both translated parts", () => {
    const { bus, dev } = setup();
    // Bytes [0, 2) at +0x7e (as if the end of one page), bytes [2, 4) at +0x10 (the next page's frame).
    expect(mmioStore(bus, DEV + 0x7e, 4, 0x1122_3344, 0, DEV + 0x10, 2)).toBe(MMIO_OK);
    expect(dev.log).toEqual(["w2@126=3344", "w2@16=1122"]);
  });
});
