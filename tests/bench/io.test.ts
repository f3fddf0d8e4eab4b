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
    // At least 27 accesses per 64-byte frame, each an exit (guests/ne2000-test/ne2000.c ne_send): the
    // remote-DMA set-up (5), 16 data words, the RDC ack, TBCR0/1, TXP, at least one ISR poll and the
    // PTX ack. More polls come when the card is slow to answer, so a loaded machine sees more (~36).
    expect(r.exitsPerPacket).toBeGreaterThanOrEqual(27);
    expect(r.mainBusyPct).toBeGreaterThan(0);
  }, 120_000);
});
