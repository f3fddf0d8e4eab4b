/*
 * The trace ring (src/trace/ring.ts): records come out in the order they
 * went in, across the wrap of the slot index; a full ring refuses and
 * counts, and never overwrites what the reader has not taken.
 */

import { describe, expect, it } from "vitest";
import { createVcpuTraceBuffer, RING_MAIN, RING_VCPU, ringsOf } from "../../src/trace/buffers.ts";
import { movedMask, reasonOf, RecordBatch, WHERE_MAIN, WHERE_VCPU } from "../../src/trace/record.ts";
import type { TraceRing } from "../../src/trace/ring.ts";
import { STAT } from "../../src/hypervisor/stats.ts";

function drainPcs(ring: TraceRing): number[] {
  const batch = new RecordBatch(ring.take());
  return Array.from({ length: batch.count }, (_, i) => batch.f(i, "pc"));
}

describe("a trace ring", () => {
  it("gives records back in order, across many wraps of its slots", () => {
    const ring = ringsOf(createVcpuTraceBuffer(16))[RING_VCPU];
    const seen: number[] = [];
    for (let i = 0; i < 100; i++) {
      ring.write(i, 0x8000_0000 + i, 0, 10, WHERE_VCPU, STAT.csr_exit, 2, 0, 0);
      if (i % 7 === 6) seen.push(...drainPcs(ring));
    }
    seen.push(...drainPcs(ring));
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => 0x8000_0000 + i));
    expect(ring.dropped()).toBe(0);
  });

  it("counts what it cannot hold, and keeps what it holds intact", () => {
    const ring = ringsOf(createVcpuTraceBuffer(16))[RING_MAIN];
    for (let i = 0; i < 20; i++) ring.write(i, i, 0, 0, WHERE_MAIN, -1, 8, 0, 0);
    expect(ring.dropped()).toBe(4);
    expect(drainPcs(ring)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    // Room again after the drain: nothing more is dropped.
    ring.write(99, 99, 0, 0, WHERE_MAIN, -1, 8, 0, 0);
    expect(drainPcs(ring)).toEqual([99]);
    expect(ring.dropped()).toBe(4);
  });

  it("keeps its two writers apart: one ring per thread in a vCPU's buffer", () => {
    const [vcpu, main] = ringsOf(createVcpuTraceBuffer(16));
    vcpu.write(1, 1, 0, 0, WHERE_VCPU, -1, 2, 0, 0);
    main.write(2, 2, 0, 0, WHERE_MAIN, -1, 8, 0, 0);
    expect(drainPcs(vcpu)).toEqual([1]);
    expect(drainPcs(main)).toEqual([2]);
  });

  it("hands over a batch whose fields read back as written, from any byte offset", () => {
    const ring = ringsOf(createVcpuTraceBuffer(16))[RING_VCPU];
    ring.write(1.5, -0x1000, 0x30200073, 250, WHERE_VCPU, STAT.xret_exit, 2, 1 << STAT.xret_exit, 0);
    const bytes = ring.take();
    const unaligned = new Uint8Array(bytes.length + 3).subarray(3); // as a batch read back from a file may lie
    unaligned.set(bytes);
    const b = new RecordBatch(unaligned);
    expect([b.count, b.f(0, "t"), b.f(0, "pc"), b.f(0, "tval"), b.f(0, "durNs")]).toEqual([1, 1.5, -0x1000, 0x30200073, 250]);
    expect([b.w(0, "where"), b.w(0, "reason"), b.w(0, "cause"), b.w(0, "effLo"), b.w(0, "effHi")]).toEqual([WHERE_VCPU, STAT.xret_exit, 2, 1 << STAT.xret_exit, 0]);
  });

  it("refuses a ring size that is not a power of two", () => {
    expect(() => createVcpuTraceBuffer(100)).toThrow(/power of two/);
  });
});

describe("an exit's reason", () => {
  it("is the most specific counter that moved: an swtlb TLB write is not just a CSR exit", () => {
    const before = new Float64Array(64);
    const after = new Float64Array(64);
    after[STAT.exits] = 1;
    after[STAT.csr_exit] = 1;
    after[STAT.swtlb_write_exit] = 1;
    after[STAT.swtlb_install] = 1;
    const mask = new Int32Array(2);
    movedMask(before, after, mask);
    expect(reasonOf(mask[0], mask[1])).toBe(STAT.swtlb_write_exit);
    // The bookkeeping counters are no effect of their own.
    expect(mask[0] & (1 << STAT.exits)).toBe(0);
    expect(mask[0] & (1 << STAT.swtlb_install)).not.toBe(0);
  });
});
