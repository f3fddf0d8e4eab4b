import { describe, expect, it } from "vitest";
import { Plic } from "../../src/devices/plic.ts";
import type { InterruptSink } from "../../src/devices/device.ts";
import { ConfigError } from "../../src/errors.ts";

const PRIORITY = 0x0, PENDING = 0x1000, ENABLE = 0x2000, ENABLE_STRIDE = 0x80;
const CONTEXT = 0x200000, CONTEXT_STRIDE = 0x1000, THRESHOLD = 0x0, CLAIM = 0x4;
// Interrupt numbers (mip bit positions, priv spec 3.1.9), spelled as the spec gives them.
const IRQ_S_EXT = 9, IRQ_M_EXT = 11;
const SOURCES = 96;

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

/** Context of hart h: 2h for M-mode, 2h+1 for S-mode. */
const mctx = (h: number) => 2 * h;
const sctx = (h: number) => 2 * h + 1;

function makePlic(harts = 2) {
  const sink = new FakeSink();
  const plic = new Plic({ harts, sources: SOURCES, sink });
  const rd = (off: number) => plic.read(off, 4);
  const wr = (off: number, v: number) => plic.write(off, 4, v);
  const setPriority = (src: number, p: number) => wr(PRIORITY + 4 * src, p);
  const enable = (ctx: number, src: number) => {
    const off = ENABLE + ENABLE_STRIDE * ctx + 4 * (src >> 5);
    wr(off, rd(off) | (1 << (src & 31)));
  };
  const setThreshold = (ctx: number, t: number) => wr(CONTEXT + CONTEXT_STRIDE * ctx + THRESHOLD, t);
  const claim = (ctx: number) => rd(CONTEXT + CONTEXT_STRIDE * ctx + CLAIM);
  const complete = (ctx: number, src: number) => wr(CONTEXT + CONTEXT_STRIDE * ctx + CLAIM, src);
  const pendingBit = (src: number) => (rd(PENDING + 4 * (src >> 5)) >>> (src & 31)) & 1;
  return { plic, sink, rd, wr, setPriority, enable, setThreshold, claim, complete, pendingBit };
}

describe("PLIC gateways and pending bits", () => {
  it("a high line makes its source pending; a low line withdraws an unclaimed request", () => {
    const { plic, pendingBit } = makePlic();
    const line = plic.irqLine(10);
    line.set(true);
    expect(pendingBit(10)).toBe(1);
    line.set(false);
    expect(pendingBit(10)).toBe(0);
  });

  it("the pending array is read-only", () => {
    const { wr, rd } = makePlic();
    wr(PENDING, 0xffff_ffff);
    expect(rd(PENDING)).toBe(0);
  });

  it("irqLine gives the same wire for a source and refuses sources that do not exist", () => {
    const { plic } = makePlic();
    expect(plic.irqLine(5)).toBe(plic.irqLine(5));
    expect(() => plic.irqLine(0)).toThrow(ConfigError);
    expect(() => plic.irqLine(SOURCES)).toThrow(ConfigError);
  });
});

describe("PLIC priorities, enables and thresholds", () => {
  it("priorities have 3 bits; higher bits are dropped (WARL)", () => {
    const { rd, setPriority } = makePlic();
    setPriority(10, 0xff);
    expect(rd(PRIORITY + 4 * 10)).toBe(7);
  });

  it("source 0 does not exist: its priority and enable bit read 0", () => {
    const { rd, wr, setPriority } = makePlic();
    setPriority(0, 5);
    expect(rd(PRIORITY)).toBe(0);
    wr(ENABLE, 0xffff_ffff);
    expect(rd(ENABLE)).toBe(0xffff_fffe);
  });

  it("enable words past the last source are not there", () => {
    const { rd, wr } = makePlic();
    wr(ENABLE + 4 * 3, 0xffff_ffff); // sources 96..127 do not exist
    expect(rd(ENABLE + 4 * 3)).toBe(0);
  });

  it("an enabled pending source with priority above threshold raises the context's external interrupt", () => {
    const { plic, sink, setPriority, enable } = makePlic();
    setPriority(10, 1);
    enable(sctx(1), 10);
    plic.irqLine(10).set(true);
    expect(sink.get(1, IRQ_S_EXT)).toBe(true);
    expect(sink.get(1, IRQ_M_EXT)).toBe(false);
    expect(sink.get(0, IRQ_S_EXT)).toBe(false);
  });

  it("M-mode context 2h drives MEIP of hart h", () => {
    const { plic, sink, setPriority, enable } = makePlic();
    setPriority(3, 2);
    enable(mctx(0), 3);
    plic.irqLine(3).set(true);
    expect(sink.get(0, IRQ_M_EXT)).toBe(true);
  });

  it("priority 0 never interrupts", () => {
    const { plic, sink, enable, claim } = makePlic();
    enable(mctx(0), 4);
    plic.irqLine(4).set(true);
    expect(sink.get(0, IRQ_M_EXT)).toBe(false);
    expect(claim(mctx(0))).toBe(0);
  });

  it("a source interrupts only with priority strictly above the threshold", () => {
    const { plic, sink, setPriority, enable, setThreshold } = makePlic();
    setPriority(7, 3);
    enable(mctx(0), 7);
    setThreshold(mctx(0), 3);
    plic.irqLine(7).set(true);
    expect(sink.get(0, IRQ_M_EXT)).toBe(false);
    setThreshold(mctx(0), 2);
    expect(sink.get(0, IRQ_M_EXT)).toBe(true);
  });

  it("thresholds have 3 bits", () => {
    const { rd, setThreshold } = makePlic();
    setThreshold(sctx(0), 0x1f);
    expect(rd(CONTEXT + CONTEXT_STRIDE * sctx(0) + THRESHOLD)).toBe(7);
  });
});

describe("PLIC claim and complete", () => {
  it("claim returns the highest priority source and complete re-arms it", () => {
    const { plic, sink, setPriority, enable, claim, complete, pendingBit } = makePlic();
    for (const [src, prio] of [[5, 1], [9, 4], [40, 2]] as const) {
      setPriority(src, prio);
      enable(mctx(0), src);
      plic.irqLine(src).set(true);
    }
    expect(claim(mctx(0))).toBe(9);
    expect(pendingBit(9)).toBe(0);
    expect(claim(mctx(0))).toBe(40);
    expect(claim(mctx(0))).toBe(5);
    expect(claim(mctx(0))).toBe(0);
    expect(sink.get(0, IRQ_M_EXT)).toBe(false);
    complete(mctx(0), 9); // line 9 is still high: pending again
    expect(pendingBit(9)).toBe(1);
    expect(sink.get(0, IRQ_M_EXT)).toBe(true);
    expect(claim(mctx(0))).toBe(9);
  });

  it("the lowest source id wins a tie in priority", () => {
    const { plic, setPriority, enable, claim } = makePlic();
    for (const src of [33, 12, 70]) {
      setPriority(src, 2);
      enable(mctx(0), src);
      plic.irqLine(src).set(true);
    }
    expect(claim(mctx(0))).toBe(12);
    expect(claim(mctx(0))).toBe(33);
    expect(claim(mctx(0))).toBe(70);
  });

  it("a claimed source is not delivered again until it is completed, even if its line stays high", () => {
    const { plic, sink, setPriority, enable, claim, complete } = makePlic();
    setPriority(10, 1);
    enable(sctx(0), 10);
    const line = plic.irqLine(10);
    line.set(true);
    expect(claim(sctx(0))).toBe(10);
    line.set(true);
    expect(sink.get(0, IRQ_S_EXT)).toBe(false);
    expect(claim(sctx(0))).toBe(0);
    line.set(false);
    complete(sctx(0), 10); // line low now: nothing pending
    expect(sink.get(0, IRQ_S_EXT)).toBe(false);
    line.set(true);
    expect(sink.get(0, IRQ_S_EXT)).toBe(true);
  });

  it("a source enabled in two contexts is claimed by only one of them", () => {
    const { plic, sink, setPriority, enable, claim } = makePlic();
    setPriority(8, 1);
    enable(sctx(0), 8);
    enable(sctx(1), 8);
    plic.irqLine(8).set(true);
    expect(sink.get(0, IRQ_S_EXT)).toBe(true);
    expect(sink.get(1, IRQ_S_EXT)).toBe(true);
    expect(claim(sctx(1))).toBe(8);
    expect(sink.get(0, IRQ_S_EXT)).toBe(false);
    expect(claim(sctx(0))).toBe(0);
  });

  it("completing a source that does not exist or is not in service is ignored", () => {
    const { plic, setPriority, enable, claim, complete, pendingBit } = makePlic();
    setPriority(10, 1);
    enable(mctx(0), 10);
    plic.irqLine(10).set(true);
    complete(mctx(0), 0);
    complete(mctx(0), 5000);
    complete(mctx(0), 10); // not claimed yet
    expect(pendingBit(10)).toBe(1);
    expect(claim(mctx(0))).toBe(10);
  });

  it("drives each external interrupt bit only when it changes", () => {
    const { plic, sink, setPriority, enable } = makePlic(1);
    setPriority(1, 1);
    setPriority(2, 1);
    enable(mctx(0), 1);
    enable(mctx(0), 2);
    plic.irqLine(1).set(true);
    plic.irqLine(2).set(true);
    expect(sink.log).toEqual(["0:11=1"]);
  });
});

describe("PLIC bus behaviour", () => {
  it("undefined registers read 0 (as QEMU) and ignore writes", () => {
    const { rd, wr } = makePlic(1);
    expect(rd(0x1f0000)).toBe(0);
    expect(rd(CONTEXT + CONTEXT_STRIDE * 2)).toBe(0); // context 2 belongs to a hart that does not exist
    expect(rd(CONTEXT + 8)).toBe(0);
    expect(() => wr(0x1f0000, 1)).not.toThrow();
  });

  it("accesses that are not 4 bytes wide read all ones and are ignored", () => {
    const { plic, rd } = makePlic();
    expect(plic.read(PRIORITY + 4, 1)).toBe(0xff);
    expect(plic.read(PRIORITY + 4, 2)).toBe(0xffff);
    plic.write(PRIORITY + 4, 2, 3);
    expect(rd(PRIORITY + 4)).toBe(0);
    expect(rd(PRIORITY + 2)).toBe(0xffff_ffff); // misaligned
  });
});
