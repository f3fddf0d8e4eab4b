import { describe, expect, it } from "vitest";
import { BlkRingView, OP_FLUSH, OP_READ, OP_WRITE, RING_SLOTS } from "../../../src/devices/virtio/blk-ring.ts";

describe("virtio-blk's submission ring (shared memory between the device and its I/O workers)", () => {
  it("hands requests out in submission order, each to one claimer, with its record intact", () => {
    const ring = new BlkRingView();
    ring.submit(5, OP_READ, 4096, [0x1000, 512, 0x3000, 1024]);
    ring.submit(2, OP_FLUSH, 0, []);
    expect(ring.unclaimed()).toBe(2);
    // A second view over the same buffer: what a worker thread sees.
    const worker = new BlkRingView(ring.buffer);
    expect(worker.claim(7)).toBe(5);
    expect([worker.op(5), worker.offset(5), worker.pieceCount(5)]).toEqual([OP_READ, 4096, 2]);
    expect([worker.piece(5, 1, 0), worker.piece(5, 1, 1)]).toEqual([0x3000, 1024]);
    expect(ring.claimedBy(5)).toBe(7);
    expect(ring.claim(8)).toBe(2);
    expect(ring.claim(8)).toBe(-1);
    expect(ring.unclaimed()).toBe(0);
  });

  it("wraps around its end: more requests over time than it has slots", () => {
    const ring = new BlkRingView();
    for (let i = 0; i < 3 * RING_SLOTS + 5; i++) {
      ring.submit(i % RING_SLOTS, OP_WRITE, i * 512, [0, 512]);
      expect(ring.claim(1)).toBe(i % RING_SLOTS);
      expect(ring.offset(i % RING_SLOTS)).toBe(i * 512);
    }
    expect(ring.unclaimed()).toBe(0);
  });

  it("a resubmitted slot is unclaimed again until a worker takes it", () => {
    const ring = new BlkRingView();
    ring.submit(1, OP_READ, 0, [0, 512]);
    ring.claim(3);
    ring.submit(1, OP_READ, 512, [0, 512]);
    expect(ring.claimedBy(1)).toBe(0);
  });

  it("refuses a buffer of the wrong size", () => {
    expect(() => new BlkRingView(new SharedArrayBuffer(64))).toThrow(/a ring is \d+ bytes/);
  });

  it("a worker's sleep on an unchanged head times out; on a moved head it returns at once", () => {
    const ring = new BlkRingView();
    const head = ring.unclaimed();
    expect(ring.sleep(head, 1)).toBe(true);
    ring.submit(0, OP_READ, 0, [0, 512]);
    expect(ring.sleep(head, 1000)).toBe(false);
  });
});
