import { describe, expect, it } from "vitest";
import { fastestPasses, parseBlkBench } from "../../bench/io-blk.ts";

describe("bench io: the block guest's lines", () => {
  it("become rows of requests and seconds (mtime at 10 MHz)", () => {
    const out = "vblk-bench op=read size=4096 pattern=seq depth=1 requests=512 ticks=10000000\n" +
      "vblk-bench op=write size=65536 pattern=random depth=16 requests=32 ticks=5000000\nvblk-bench done\n";
    expect(parseBlkBench(out)).toEqual([
      { op: "read", size: 4096, pattern: "seq", depth: 1, requests: 512, seconds: 1 },
      { op: "write", size: 65536, pattern: "random", depth: 16, requests: 32, seconds: 0.5 },
    ]);
  });

  it("refuses an output that did not finish (a failed guest)", () => {
    expect(() => parseBlkBench("virtio-blk: FAIL: request\n")).toThrow(/did not finish/);
  });

  it("keep each kind's fastest pass, in the guest's order", () => {
    const out = ["read 4096 seq 3", "read 4096 seq 1", "write 65536 random 2", "read 4096 seq 2"]
      .map((l) => l.split(" "))
      .map(([op, size, pattern, s]) => `vblk-bench op=${op} size=${size} pattern=${pattern} depth=16 requests=100 ticks=${Number(s) * 10_000_000}\n`)
      .join("");
    const best = fastestPasses(parseBlkBench(out + "vblk-bench done\n"));
    expect(best.map((r) => [r.op, r.pattern, r.seconds])).toEqual([["read", "seq", 1], ["write", "random", 2]]);
  });
});
