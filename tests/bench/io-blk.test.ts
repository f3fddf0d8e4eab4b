import { describe, expect, it } from "vitest";
import { parseBlkBench } from "../../bench/io-blk.ts";

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
});
