/*
 * `popek bench io`'s NE2000 rows, shortened: the row has the JSON shape the
 * issue names, and the exits per packet show the emulated card's cost (every
 * register and data-port access of the driver is an exit).
 */

import { describe, expect, it } from "vitest";
import { benchNe2000 } from "../../bench/io-ne2000.ts";

describe("bench io: NE2000", () => {
  it("a short tx run gives a row with every field, frames moved, and tens of exits per 64-byte frame", async () => {
    const r = await benchNe2000("tx", 64, 300);
    expect(Object.keys(r).sort()).toEqual(["dir", "exitsPerPacket", "frame", "irqsPerPacket", "mainBusyPct", "mbps", "nic", "pps"]);
    expect(r).toMatchObject({ nic: "ne2000", dir: "tx", frame: 64, irqsPerPacket: 0 });
    expect(r.pps).toBeGreaterThan(0);
    expect(r.mbps).toBeCloseTo((r.pps * 64 * 8) / 1e6, 6);
    // The driver's own count is 36 accesses per 64-byte frame (set-up, 16 data words, TXP, the PTX poll and ack).
    expect(r.exitsPerPacket).toBeGreaterThan(30);
    expect(r.mainBusyPct).toBeGreaterThan(0);
  }, 120_000);
});
