/*
 * `popek bench io`'s assigned-NIC rows, shortened: the row has the issue's
 * JSON shape, frames moved, and almost no exit per frame (the driver's
 * register page is memory; the exits are the guest's clock and console).
 */

import { describe, expect, it } from "vitest";
import { assignedOverVirtio, benchAssigned } from "../../bench/io-assigned.ts";
import type { IoResult } from "../../bench/io-ne2000.ts";

describe("bench io: assigned NIC", () => {
  it("a short tx run gives a row with every field, frames moved, and far less than one exit per frame", async () => {
    const r = await benchAssigned("tx", 64, 300);
    expect(Object.keys(r).sort()).toEqual(["dir", "exitsPerPacket", "frame", "irqsPerPacket", "mainBusyPct", "mbps", "nic", "pps"]);
    expect(r).toMatchObject({ nic: "assigned", dir: "tx", frame: 64, irqsPerPacket: 0 });
    expect(r.pps).toBeGreaterThan(0);
    expect(r.mbps).toBeCloseTo((r.pps * 64 * 8) / 1e6, 6);
    // A fixed handful (start-up, console, the clock per 1024 frames or per long wait) over thousands of frames; the NE2000 pays 27 or more per frame.
    expect(r.exitsPerPacket).toBeLessThan(1);
  }, 120_000);

  it("the assigned/virtio ratio is given only where both were measured", () => {
    const row = (nic: IoResult["nic"], dir: IoResult["dir"], frame: number, pps: number): IoResult => ({ nic, dir, frame, pps, mbps: 0, exitsPerPacket: 0, irqsPerPacket: 0, mainBusyPct: 0 });
    expect(assignedOverVirtio([row("assigned", "tx", 64, 100), row("ne2000", "tx", 64, 10)])).toEqual([]);
    expect(assignedOverVirtio([row("assigned", "tx", 64, 300), row("virtio", "tx", 64, 100), row("virtio", "rx", 64, 50)])).toEqual([{ dir: "tx", frame: 64, assignedOverVirtio: 3 }]);
  });
});
