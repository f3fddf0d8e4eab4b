import { describe, expect, it } from "vitest";
import type { PowerEvent } from "../../src/devices/device.ts";
import { SifiveTest } from "../../src/devices/sifive-test.ts";

const FINISHER = 0x0;

function makeTest() {
  const events: PowerEvent[] = [];
  const dev = new SifiveTest((e) => events.push(e));
  return { dev, events };
}

describe("SiFive test finisher", () => {
  it("0x5555 reports pass", () => {
    const { dev, events } = makeTest();
    dev.write(FINISHER, 4, 0x5555);
    expect(events).toEqual([{ kind: "pass" }]);
  });

  it("(code << 16) | 0x3333 reports fail with that code", () => {
    const { dev, events } = makeTest();
    dev.write(FINISHER, 4, (42 << 16) | 0x3333);
    expect(events).toEqual([{ kind: "fail", code: 42 }]);
  });

  it("a bare 0x3333 is a fail with code 0 (QEMU then exits with status 0)", () => {
    const { dev, events } = makeTest();
    dev.write(FINISHER, 4, 0x3333);
    expect(events).toEqual([{ kind: "fail", code: 0 }]);
  });

  it("the code is the whole upper half of the word", () => {
    const { dev, events } = makeTest();
    dev.write(FINISHER, 4, 0xffff_3333);
    expect(events).toEqual([{ kind: "fail", code: 0xffff }]);
  });

  it("0x7777 requests a reset", () => {
    const { dev, events } = makeTest();
    dev.write(FINISHER, 4, 0x7777);
    expect(events).toEqual([{ kind: "reset" }]);
  });

  it("a 2-byte store works too, as in QEMU", () => {
    const { dev, events } = makeTest();
    dev.write(FINISHER, 2, 0x5555);
    expect(events).toEqual([{ kind: "pass" }]);
  });

  it("other values, other offsets and 1-byte stores are ignored", () => {
    const { dev, events } = makeTest();
    dev.write(FINISHER, 4, 0x1234);
    dev.write(FINISHER, 4, 0x5556);
    dev.write(4, 4, 0x5555); // the high half of an 8-byte store
    dev.write(FINISHER, 1, 0x55);
    expect(events).toEqual([]);
  });

  it("reads return 0, as QEMU's", () => {
    const { dev } = makeTest();
    expect(dev.read(FINISHER, 4)).toBe(0);
    expect(dev.read(0x800, 2)).toBe(0);
    expect(dev.read(FINISHER, 1)).toBe(0xff); // width QEMU does not accept
  });
});
