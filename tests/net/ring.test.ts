import { describe, expect, it } from "vitest";
import { FrameRing, MAX_FRAME } from "../../src/net/ring.ts";

describe("FrameRing (shared-memory SPSC ring)", () => {
  it("lives in a SharedArrayBuffer and carries frames in order", () => {
    const r = FrameRing.create(4);
    expect(r.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(r.push(new Uint8Array([1, 2, 3]))).toBe(true);
    expect(r.push(new Uint8Array([4]))).toBe(true);
    const got: number[][] = [];
    expect(r.drain((f) => got.push([...f]))).toBe(2);
    expect(got).toEqual([[1, 2, 3], [4]]);
    expect(r.length).toBe(0);
  });

  it("is bounded: a full ring refuses and counts the drop", () => {
    const r = FrameRing.create(2);
    expect(r.push(new Uint8Array(60))).toBe(true);
    expect(r.push(new Uint8Array(60))).toBe(true);
    expect(r.push(new Uint8Array(60))).toBe(false);
    expect(r.dropsFull).toBe(1);
    expect(r.length).toBe(2);
  });

  it("refuses empty and oversized frames, counted apart", () => {
    const r = FrameRing.create(2);
    expect(r.push(new Uint8Array(0))).toBe(false);
    expect(r.push(new Uint8Array(MAX_FRAME + 1))).toBe(false);
    expect(r.push(new Uint8Array(MAX_FRAME))).toBe(true);
    expect(r.dropsSize).toBe(2);
  });

  it("wraps around many times and drains at most max frames", () => {
    const r = FrameRing.create(3);
    let next = 0;
    const seen: number[] = [];
    for (let round = 0; round < 100; round++) {
      r.push(new Uint8Array([next++ & 0xff]));
      r.push(new Uint8Array([next++ & 0xff]));
      expect(r.drain((f) => seen.push(f[0]), 1)).toBe(1);
      r.drain((f) => seen.push(f[0]));
    }
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i & 0xff));
  });

  it("a second FrameRing over the same buffer (another thread's view) sees the same frames", () => {
    const producer = FrameRing.create(4);
    const consumer = new FrameRing(producer.buffer);
    producer.push(new Uint8Array([9, 9]));
    const got: number[][] = [];
    consumer.drain((f) => got.push([...f]));
    expect(got).toEqual([[9, 9]]);
    expect(producer.length).toBe(0);
  });

  it("refuses a buffer that is not a ring, and silly slot counts", () => {
    expect(() => new FrameRing(new SharedArrayBuffer(10))).toThrow(/not a frame ring/);
    expect(() => FrameRing.create(0)).toThrow(RangeError);
  });

  it("a bulk producer fills reserved slots in place and publishes them with one commit, wrapping around", () => {
    const r = FrameRing.create(3);
    const got: number[][] = [];
    for (let round = 0; round < 10; round++) {
      expect(r.reserve(5)).toBe(3); // at most what is free
      for (let k = 0; k < 2; k++) {
        r.bytes.set([round, k, 7], r.dataAt(k));
        r.setLength(k, 3);
      }
      expect(r.length).toBe(0); // nothing visible before the commit
      r.commit(2);
      expect(r.length).toBe(2);
      expect(r.reserve(5)).toBe(1);
      expect(r.drain((f) => got.push([...f]))).toBe(2);
    }
    expect(got).toHaveLength(20);
    expect(got[19]).toEqual([9, 1, 7]);
  });

  it("a full ring reserves nothing, and frees slots as the consumer takes frames", () => {
    const r = FrameRing.create(2);
    r.push(new Uint8Array(60));
    r.push(new Uint8Array(60));
    expect(r.reserve(4)).toBe(0);
    r.drain(() => {}, 1);
    expect(r.reserve(4)).toBe(1);
  });
});
