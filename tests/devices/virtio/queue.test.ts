import { describe, expect, it } from "vitest";
import { VirtqError, type VirtqErrorKind } from "../../../src/devices/virtio/errors.ts";
import { DescChain, SplitQueue } from "../../../src/devices/virtio/queue.ts";
import { FAULT_OUTSIDE, rangeInside } from "../../../src/machine/guest-memory-view.ts";
import { PagedGuestView } from "../../../src/machine/paged-view.ts";
import { DESC_F_INDIRECT, DESC_F_NEXT, DESC_F_WRITE, DriverRing, guestRam, RAM_BASE } from "./driver-ring.ts";

const ALL = { indirect: true, eventIdx: true };
const RING = RAM_BASE + 0x1000;
const DATA = RAM_BASE + 0x8000;

function setup(size = 8, features = ALL) {
  const mem = guestRam();
  const ring = new DriverRing(mem, RING, size);
  const q = new SplitQueue(mem, ring.layout, features);
  return { mem, ring, q, chain: new DescChain() };
}

function expectKind(f: () => unknown, kind: VirtqErrorKind): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(VirtqError);
    expect((e as VirtqError).kind).toBe(kind);
    return;
  }
  throw new Error(`expected a ${kind} VirtqError`);
}

describe("split virtqueue (virtio 1.2 §2.7), from the driver's side", () => {
  it("hands out an offered chain: readable buffers, then writable ones", () => {
    const { ring, q, chain } = setup();
    ring.offer(ring.chain(2, [{ addr: DATA, len: 16 }, { addr: DATA + 16, len: 512, write: true }, { addr: DATA + 528, len: 1, write: true }]));
    expect(q.pop(chain)).toBe(true);
    expect(chain.head).toBe(2);
    expect(chain.count).toBe(3);
    expect(chain.firstWritable).toBe(1);
    expect(chain.readableBytes).toBe(16);
    expect(chain.writableBytes).toBe(513);
    expect(q.pop(chain)).toBe(false);
  });

  it("returns a chain through the used ring, entry before index", () => {
    const { ring, q, chain } = setup();
    ring.offer(ring.chain(0, [{ addr: DATA, len: 4, write: true }]));
    q.pop(chain);
    q.push(chain.head, 4);
    expect(ring.usedIdx()).toBe(1);
    expect(ring.used(0)).toEqual({ id: 0, len: 4 });
  });

  it("follows an indirect table (RING_INDIRECT_DESC)", () => {
    const { ring, q, chain } = setup();
    const table = RAM_BASE + 0x4000;
    ring.chain(0, [{ addr: DATA, len: 16 }, { addr: DATA + 16, len: 1, write: true }], table);
    ring.desc(5, table, 32, DESC_F_INDIRECT);
    ring.offer(5);
    expect(q.pop(chain)).toBe(true);
    expect(chain.head).toBe(5);
    expect(chain.count).toBe(2);
    expect(chain.writableBytes).toBe(1);
  });

  it("with EVENT_IDX tells the driver where to notify next and interrupts only past used_event", () => {
    const { ring, q, chain } = setup();
    for (let i = 0; i < 3; i++) ring.offer(ring.chain(i, [{ addr: DATA, len: 1, write: true }]));
    ring.setUsedEvent(1); // interrupt me when the second buffer is used
    q.pop(chain);
    expect(ring.availEvent()).toBe(1);
    q.push(chain.head, 1);
    expect(q.needsInterrupt()).toBe(false);
    q.pop(chain);
    q.push(chain.head, 1);
    expect(q.needsInterrupt()).toBe(true);
    expect(q.needsInterrupt()).toBe(false); // nothing new since
  });

  it("without EVENT_IDX interrupts unless the driver set NO_INTERRUPT", () => {
    const { ring, q, chain } = setup(8, { indirect: false, eventIdx: false });
    ring.offer(ring.chain(0, [{ addr: DATA, len: 1, write: true }]));
    ring.offer(ring.chain(1, [{ addr: DATA, len: 1, write: true }]));
    q.pop(chain);
    q.push(chain.head, 1);
    expect(q.needsInterrupt()).toBe(true);
    ring.setAvailFlags(1);
    q.pop(chain);
    q.push(chain.head, 1);
    expect(q.needsInterrupt()).toBe(false);
  });

  it("takes a zero-length buffer as carrying nothing", () => {
    const { ring, q, chain } = setup();
    ring.offer(ring.chain(0, [{ addr: DATA, len: 0 }, { addr: DATA, len: 0, write: true }]));
    expect(q.pop(chain)).toBe(true);
    expect(chain.readableBytes + chain.writableBytes).toBe(0);
  });
});

describe("hostile rings: every guest mistake is a VirtqError, every walk ends", () => {
  it("a descriptor loop ends at the queue size", () => {
    const { ring, q, chain } = setup();
    ring.desc(0, DATA, 8, DESC_F_NEXT, 1);
    ring.desc(1, DATA, 8, DESC_F_NEXT, 0);
    ring.offer(0);
    expectKind(() => q.pop(chain), "chain-too-long");
  });

  it("a loop inside an indirect table ends at the table's size", () => {
    const { ring, q, chain } = setup();
    const table = RAM_BASE + 0x4000;
    ring.desc(0, DATA, 8, DESC_F_NEXT, 0, table); // points at itself
    ring.desc(0, table, 16, DESC_F_INDIRECT);
    ring.offer(0);
    expectKind(() => q.pop(chain), "chain-too-long");
  });

  it("a self-referencing single descriptor is a loop too", () => {
    const { ring, q, chain } = setup(1);
    ring.desc(0, DATA, 8, DESC_F_NEXT, 0);
    ring.offer(0);
    expectKind(() => q.pop(chain), "chain-too-long");
  });

  it("heads and next indices beyond the queue", () => {
    const a = setup();
    a.ring.offer(8);
    expectKind(() => a.q.pop(a.chain), "head-out-of-range");
    const b = setup();
    b.ring.desc(0, DATA, 8, DESC_F_NEXT, 0xffff);
    b.ring.offer(0);
    expectKind(() => b.q.pop(b.chain), "next-out-of-range");
  });

  it("indirect tables of zero length, odd length, too large, nested, with NEXT, or not negotiated", () => {
    const table = RAM_BASE + 0x4000;
    const cases: [number, number, VirtqErrorKind][] = [
      [0, DESC_F_INDIRECT, "indirect-bad-size"],
      [17, DESC_F_INDIRECT, "indirect-bad-size"],
      [16 * 1025, DESC_F_INDIRECT, "indirect-bad-size"],
      [16, DESC_F_INDIRECT | DESC_F_NEXT, "indirect-with-next"],
    ];
    for (const [len, flags, kind] of cases) {
      const { ring, q, chain } = setup();
      ring.desc(0, table, len, flags, 1);
      ring.offer(0);
      expectKind(() => q.pop(chain), kind);
    }
    const nested = setup();
    nested.ring.desc(0, table + 0x100, 16, DESC_F_INDIRECT, 0, table);
    nested.ring.desc(0, table, 16, DESC_F_INDIRECT);
    nested.ring.offer(0);
    expectKind(() => nested.q.pop(nested.chain), "indirect-nested");
    const plain = setup(8, { indirect: false, eventIdx: false });
    plain.ring.desc(0, table, 16, DESC_F_INDIRECT);
    plain.ring.offer(0);
    expectKind(() => plain.q.pop(plain.chain), "indirect-not-negotiated");
  });

  it("buffers outside guest RAM: in an MMIO hole, across RAM's end, an indirect table outside, lengths near 2^32", () => {
    const end = RAM_BASE + 0x10_0000;
    const bad: [number, number, number][] = [
      [0x1000_0000, 8, 0],
      [end - 4, 8, 0],
      [DATA, 0xffff_fff0, DESC_F_WRITE],
      [2 ** 63, 8, 0],
      [0x1000_0000, 32, DESC_F_INDIRECT],
    ];
    for (const [addr, len, flags] of bad) {
      const { ring, q, chain } = setup();
      ring.desc(0, addr, len, flags);
      ring.offer(0);
      expectKind(() => q.pop(chain), "buffer-outside-ram");
    }
  });

  it("a chain whose lengths add past 2^32 - 1", () => {
    // RAM that claims 8 GiB, aliased onto 1 MiB: each buffer is inside it, their sum is not a u32.
    class AliasedRam extends PagedGuestView {
      translate(gpa: number, length: number): number {
        if (!rangeInside(gpa, Math.max(length, 1), this.ramBase, this.ramSize)) return FAULT_OUTSIDE;
        const off = (gpa - this.ramBase) % 0x10_0000;
        return off + Math.max(length, 1) <= 0x10_0000 ? off : FAULT_OUTSIDE;
      }
    }
    const mem = new AliasedRam(new SharedArrayBuffer(0x10_0000), RAM_BASE, 2 ** 33);
    const ring = new DriverRing(mem, RING, 8);
    const q = new SplitQueue(mem, ring.layout, ALL);
    ring.chain(0, [
      { addr: RAM_BASE + 2 ** 32, len: 0xc000_0000 },
      { addr: RAM_BASE + 2 ** 32, len: 0xc000_0000 },
    ]);
    ring.offer(0);
    expectKind(() => q.pop(new DescChain()), "chain-too-big");
  });

  it("a readable buffer after a writable one", () => {
    const { ring, q, chain } = setup();
    ring.offer(ring.chain(0, [{ addr: DATA, len: 1, write: true }, { addr: DATA, len: 1 }]));
    expectKind(() => q.pop(chain), "descriptor-order");
  });

  it("more buffers offered than the queue holds, counting those in flight", () => {
    const a = setup();
    a.ring.setAvailIdx(9);
    expectKind(() => a.q.pop(a.chain), "too-many-in-flight");
    const b = setup(2);
    b.ring.offer(b.ring.chain(0, [{ addr: DATA, len: 1 }]));
    b.q.pop(b.chain); // one in flight
    b.ring.offer(0);
    b.ring.offer(0); // two more: three for a queue of two
    expectKind(() => b.q.pop(b.chain), "too-many-in-flight");
  });

  it("refuses rings outside RAM, misaligned, or of a size that is no power of two", () => {
    const mem = guestRam();
    const at = (desc: number, avail: number, used: number, size = 8) => () => new SplitQueue(mem, { size, desc, avail, used }, ALL);
    expectKind(at(0x1000_0000, RING + 0x100, RING + 0x200), "ring-outside-ram");
    expectKind(at(RING, RING + 0x100, RAM_BASE + 0x10_0000 - 8), "ring-outside-ram");
    expectKind(at(RING + 8, RING + 0x100, RING + 0x200), "ring-misaligned");
    expectKind(at(RING, RING + 0x101, RING + 0x200), "ring-misaligned");
    expectKind(at(RING, RING + 0x100, RING + 0x202), "ring-misaligned");
    expectKind(at(RING, RING + 0x100, RING + 0x200, 0), "bad-queue-size");
    expectKind(at(RING, RING + 0x100, RING + 0x200, 6), "bad-queue-size");
    expectKind(at(RING, RING + 0x100, RING + 0x200, 2048), "bad-queue-size");
  });
});
