import { describe, expect, it } from "vitest";
import { Clint } from "../../src/devices/clint.ts";
import type { Clock, InterruptSink } from "../../src/devices/device.ts";

const MSIP = 0x0000, MTIMECMP = 0x4000, MTIME = 0xbff8;
// Interrupt numbers (mip bit positions, priv spec 3.1.9), spelled as the spec gives them.
const IRQ_M_SOFT = 3, IRQ_M_TIMER = 7;
const ALL_ONES = 0xffff_ffff;
const TWO_32 = 2 ** 32;

class FakeClock implements Clock {
  now = 0;
  mtime(): number {
    return this.now;
  }
}

class FakeSink implements InterruptSink {
  readonly levels = new Map<string, boolean>();
  readonly log: string[] = [];
  setPending(hart: number, bit: number, level: boolean): void {
    this.levels.set(`${hart}:${bit}`, level);
    this.log.push(`${hart}:${bit}=${level ? 1 : 0}`);
  }
  get(hart: number, bit: number): boolean {
    return this.levels.get(`${hart}:${bit}`) ?? false;
  }
}

function makeClint(harts = 2) {
  const clock = new FakeClock();
  const sink = new FakeSink();
  const clint = new Clint({ harts, clock, sink });
  /** A hart's 8-byte store, as the bus splits it: low half first. */
  const write64 = (off: number, v: number) => {
    clint.write(off, 4, v % TWO_32);
    clint.write(off + 4, 4, Math.floor(v / TWO_32));
  };
  /** A hart's 8-byte load, split the same way. */
  const read64 = (off: number) => {
    const lo = clint.read(off, 4);
    return clint.read(off + 4, 4) * TWO_32 + lo;
  };
  /** Parks every hart's timer, like firmware does before enabling MTIE. */
  const park = () => {
    for (let h = 0; h < harts; h++) {
      clint.write(MTIMECMP + 8 * h, 4, ALL_ONES);
      clint.write(MTIMECMP + 8 * h + 4, 4, ALL_ONES);
    }
  };
  return { clint, clock, sink, write64, read64, park };
}

describe("CLINT msip", () => {
  it("writing 1 to msip[h] raises hart h's MSIP and writing 0 lowers it", () => {
    const { clint, sink } = makeClint();
    clint.write(MSIP + 4, 4, 1);
    expect(sink.get(1, IRQ_M_SOFT)).toBe(true);
    expect(sink.get(0, IRQ_M_SOFT)).toBe(false);
    expect(clint.read(MSIP + 4, 4)).toBe(1);
    clint.write(MSIP + 4, 4, 0);
    expect(sink.get(1, IRQ_M_SOFT)).toBe(false);
  });

  it("only bit 0 of msip is implemented", () => {
    const { clint, sink } = makeClint();
    clint.write(MSIP, 4, 0xfffffffe);
    expect(clint.read(MSIP, 4)).toBe(0);
    expect(sink.get(0, IRQ_M_SOFT)).toBe(false);
    clint.write(MSIP, 4, 0xffffffff);
    expect(clint.read(MSIP, 4)).toBe(1);
  });
});

describe("CLINT mtimecmp and MTIP", () => {
  it("resets mtimecmp to 0, so MTIP is pending from power-on (QEMU 7.2)", () => {
    const { clint, sink, read64 } = makeClint();
    expect(read64(MTIMECMP)).toBe(0);
    expect(sink.get(0, IRQ_M_TIMER)).toBe(true);
    expect(sink.get(1, IRQ_M_TIMER)).toBe(true);
    expect(clint.mtimecmp(1)).toBe(0);
  });

  it("writing an mtimecmp in the future clears MTIP at once", () => {
    const { clock, sink, write64 } = makeClint();
    clock.now = 100;
    write64(MTIMECMP, 1000);
    expect(sink.get(0, IRQ_M_TIMER)).toBe(false);
    expect(sink.get(1, IRQ_M_TIMER)).toBe(true);
  });

  it("MTIP rises when mtime reaches mtimecmp (checked by update between slices)", () => {
    const { clint, clock, sink, park, write64 } = makeClint();
    park();
    write64(MTIMECMP + 8, 500);
    clock.now = 499;
    clint.update();
    expect(sink.get(1, IRQ_M_TIMER)).toBe(false);
    clock.now = 500;
    clint.update();
    expect(sink.get(1, IRQ_M_TIMER)).toBe(true);
    expect(sink.get(0, IRQ_M_TIMER)).toBe(false);
  });

  it("a guest read of mtime past mtimecmp raises MTIP itself, between the board's updates", () => {
    const clock = new FakeClock();
    const sink = new FakeSink();
    const readings: number[] = [];
    const clint = new Clint({ harts: 2, clock, sink, onTimeRead: (now) => readings.push(now) });
    clint.write(MTIMECMP, 4, 0xffff_ffff);
    clint.write(MTIMECMP + 4, 4, 0xffff_ffff);
    clint.write(MTIMECMP + 8, 4, 500);
    clint.write(MTIMECMP + 12, 4, 0);
    clock.now = 499;
    expect(clint.read(MTIME, 4)).toBe(499);
    expect(sink.get(1, IRQ_M_TIMER)).toBe(false);
    clock.now = 500;
    expect(sink.get(1, IRQ_M_TIMER), "time passing alone changes nothing").toBe(false);
    expect(clint.read(MTIME, 4)).toBe(500);
    expect(sink.get(1, IRQ_M_TIMER), "the read that sees the deadline raises the line").toBe(true);
    expect(sink.get(0, IRQ_M_TIMER)).toBe(false);
    expect(readings, "each read reports the value it read").toEqual([499, 500]);
    expect(clint.read(MTIME + 4, 4), "the high half comes from the latch, without another reading").toBe(0);
    expect(readings).toEqual([499, 500]);
  });

  it("update returns the mtime it compared against", () => {
    const { clint, clock } = makeClint();
    clock.now = 1234;
    expect(clint.update()).toBe(1234);
  });

  it("writing an mtimecmp in the past raises MTIP at once", () => {
    const { clock, sink, park, write64 } = makeClint();
    park();
    clock.now = 2000;
    write64(MTIMECMP, 1999);
    expect(sink.get(0, IRQ_M_TIMER)).toBe(true);
  });

  it("compares all 64 bits, so an mtimecmp of all ones never fires", () => {
    const { clint, clock, sink, park, read64 } = makeClint();
    park();
    expect(read64(MTIMECMP)).toBe(2 ** 64 - 1);
    clock.now = Number.MAX_SAFE_INTEGER;
    clint.update();
    expect(sink.get(0, IRQ_M_TIMER)).toBe(false);
  });

  it("drives MTIP only when it changes", () => {
    const { clint, clock, sink, park, write64 } = makeClint(1);
    park();
    write64(MTIMECMP, 10);
    sink.log.length = 0;
    clock.now = 20;
    clint.update();
    clint.update();
    expect(sink.log).toEqual(["0:7=1"]);
  });
});

describe("CLINT mtime", () => {
  it("reads the board clock", () => {
    const { clint, clock, read64 } = makeClint();
    clock.now = 0x1_2345_6789;
    expect(read64(MTIME)).toBe(0x1_2345_6789);
    expect(clint.mtime()).toBe(0x1_2345_6789);
  });

  it("mtime keeps counting from a written value", () => {
    const { clint, clock, write64, read64 } = makeClint();
    clock.now = 1000;
    write64(MTIME, 50);
    expect(read64(MTIME)).toBe(50);
    clock.now = 1010;
    expect(read64(MTIME)).toBe(60);
    expect(clint.mtime()).toBe(60);
  });

  it("writing one half of mtime keeps the other half", () => {
    const { clint, clock } = makeClint();
    clock.now = 3 * TWO_32 + 7;
    clint.write(MTIME, 4, 100);
    expect(clint.mtime()).toBe(3 * TWO_32 + 100);
    clint.write(MTIME + 4, 4, 9);
    expect(clint.mtime()).toBe(9 * TWO_32 + 100);
  });

  it("writing mtime re-evaluates every hart's MTIP at once", () => {
    const { clint, clock, sink, park, write64 } = makeClint();
    park();
    write64(MTIMECMP, 5000);
    clock.now = 10;
    write64(MTIME, 6000);
    expect(sink.get(0, IRQ_M_TIMER)).toBe(true);
    write64(MTIME, 0);
    expect(sink.get(0, IRQ_M_TIMER)).toBe(false);
    expect(clint.mtime()).toBe(0);
  });

  it("a low-half read latches the high half, so a low-then-high read never tears", () => {
    const { clint, clock } = makeClint();
    clock.now = TWO_32 - 1; // about to carry into the high half
    const lo = clint.read(MTIME, 4);
    clock.now = TWO_32 + 5;
    const hi = clint.read(MTIME + 4, 4);
    expect(hi * TWO_32 + lo).toBe(TWO_32 - 1);
    // Without a preceding low read, the high half is live.
    expect(clint.read(MTIME + 4, 4)).toBe(1);
  });

  it("wraps modulo 2^64 like the hardware counter", () => {
    const { clint, clock } = makeClint();
    clint.write(MTIME + 4, 4, ALL_ONES);
    clint.write(MTIME, 4, ALL_ONES - 1);
    clock.now += 3;
    expect(clint.read(MTIME, 4)).toBe(1);
    expect(clint.read(MTIME + 4, 4)).toBe(0);
  });
});

describe("CLINT nextDeadline", () => {
  it("is the earliest mtimecmp among harts whose MTIP is low", () => {
    const { clint, park, write64, clock } = makeClint(3);
    park();
    write64(MTIMECMP + 8, 700);
    write64(MTIMECMP + 16, 300);
    expect(clint.nextDeadline()).toBe(300);
    clock.now = 300;
    clint.update();
    expect(clint.nextDeadline()).toBe(700);
  });

  it("is Infinity when every timer is parked or already fired", () => {
    const { clint, park } = makeClint();
    expect(clint.nextDeadline()).toBe(Infinity); // both fired at reset (mtimecmp 0)
    park();
    expect(clint.nextDeadline()).toBe(Infinity);
  });

  it("is in guest mtime units after mtime was written", () => {
    const { clint, clock, park, write64 } = makeClint(1);
    park();
    clock.now = 1_000_000;
    write64(MTIME, 0);
    write64(MTIMECMP, 250);
    expect(clint.nextDeadline()).toBe(250);
    expect(clint.nextDeadline() - clint.mtime()).toBe(250);
  });
});

describe("CLINT bus behaviour", () => {
  it("undefined offsets read 0 (as QEMU) and ignore writes", () => {
    const { clint, sink } = makeClint(2);
    expect(clint.read(MSIP + 8, 4)).toBe(0); // msip of a hart that does not exist
    expect(clint.read(0x8000, 4)).toBe(0);
    sink.log.length = 0;
    clint.write(MSIP + 8, 4, 1);
    clint.write(0x8000, 4, 1);
    expect(sink.log).toEqual([]);
  });

  it("accesses that are not 4 bytes wide read all ones and are ignored", () => {
    const { clint, sink } = makeClint();
    expect(clint.read(MSIP, 1)).toBe(0xff);
    expect(clint.read(MTIME, 2)).toBe(0xffff);
    clint.write(MSIP, 1, 1);
    expect(sink.get(0, IRQ_M_SOFT)).toBe(false);
  });

  it("never throws on odd offsets", () => {
    const { clint } = makeClint();
    expect(clint.read(MTIMECMP + 2, 4)).toBe(0);
    expect(clint.read(-4, 4)).toBe(0);
    expect(() => clint.write(0.5, 4, 1)).not.toThrow();
  });
});
