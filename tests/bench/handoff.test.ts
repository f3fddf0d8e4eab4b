import { describe, expect, it } from "vitest";
import { formatHandoff, measureHandoff } from "../../bench/handoff.ts";

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
