import { describe, expect, it } from "vitest";
import { formatHandoff, measureHandoff, summarise } from "../../bench/handoff.ts";

describe("measureHandoff: the bare worker -> main -> worker round trip", () => {
  for (const policy of ["spin", "block", "poll"] as const) {
    it(`completes with the worker waiting by ${policy} and reports positive, ordered percentiles`, async () => {
      const r = await measureHandoff(policy, 200, { warmup: 50 });
      expect(r.iterations).toBe(200);
      expect(r.medianNs).toBeGreaterThan(0);
      expect(r.p99Ns).toBeGreaterThanOrEqual(r.medianNs);
      expect(r.maxNs).toBeGreaterThanOrEqual(r.p99Ns);
      expect(r.medianNs).toBeLessThan(1e9); // under a second per round trip: it really ran
      expect(formatHandoff(r)).toMatch(new RegExp(`^handoff ${policy}/main-spin: median `));
    });
  }

  it("also runs with the main thread waiting asynchronously (Atomics.waitAsync)", async () => {
    const r = await measureHandoff("block", 100, { main: "async", warmup: 10 });
    expect(r.main).toBe("async");
    expect(r.medianNs).toBeGreaterThan(0);
  });

  it("rejects a non-positive iteration count", async () => {
    await expect(measureHandoff("spin", 0)).rejects.toThrow(RangeError);
  });
});

describe("summarise: percentiles of the round trips", () => {
  it("never puts a percentile above the maximum, even when the tail shares the maximum's bucket", () => {
    // Values seen on a loaded host: p99 and max in one 3-digit bucket, whose top is above the max.
    const samples = Float64Array.from({ length: 100 }, (_, i) => (i < 50 ? 1_000 : 16_078_195));
    const r = summarise(samples);
    expect(r.maxNs).toBe(16_078_195);
    expect(r.p99Ns).toBeLessThanOrEqual(r.maxNs);
    expect(r.p99Ns).toBeGreaterThan(16_000_000);
    expect(r.medianNs).toBeLessThanOrEqual(r.p99Ns);
  });

  it("keeps percentiles below the maximum as the histogram reports them", () => {
    const samples = Float64Array.from({ length: 1000 }, (_, i) => 1_000 + i);
    const r = summarise(samples);
    expect(r.medianNs).toBeGreaterThanOrEqual(1_499);
    expect(r.medianNs).toBeLessThanOrEqual(1_501);
    expect(r.p99Ns).toBeGreaterThanOrEqual(1_989);
    expect(r.p99Ns).toBeLessThan(r.maxNs);
    expect(r.maxNs).toBe(1_999);
  });
});
