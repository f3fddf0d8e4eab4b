/*
 * `popek bench io`'s assigned-NIC rows, shortened: the row has the issue's
 * JSON shape, frames moved, and almost no exit per frame (the driver's
 * register page is memory; the exits are the guest's clock and console).
 */

import { describe, expect, it } from "vitest";
import { benchAssigned } from "../../bench/io-assigned.ts";
import { ioRatios } from "../../bench/io-ratios.ts";
import type { IoResult } from "../../bench/io-nic.ts";

describe("bench io: assigned NIC", () => {
  it("a short tx run gives a row with every field, frames moved, and far less than one exit per frame", async () => {
    const r = await benchAssigned("tx", 64, 300);
    expect(Object.keys(r).sort()).toEqual(["dir", "exitsPerPacket", "frame", "irqsPerPacket", "mainBusyPct", "mbps", "mode", "nic", "pps"]);
    expect(r).toMatchObject({ nic: "assigned", mode: "trap", dir: "tx", frame: 64, irqsPerPacket: 0 });
    expect(r.pps).toBeGreaterThan(0);
    expect(r.mbps).toBeCloseTo((r.pps * 64 * 8) / 1e6, 6);
    // A fixed handful (start-up, console, the clock per 1024 frames or per long wait) over thousands of frames; the NE2000 pays 27 or more per frame.
    expect(r.exitsPerPacket).toBeLessThan(1);
  }, 120_000);

  it("each ratio is given only where both NICs were measured in the same mode, direction and frame size", () => {
    const row = (nic: IoResult["nic"], mode: IoResult["mode"], dir: IoResult["dir"], frame: number, mbps: number): IoResult => ({ nic, mode, dir, frame, pps: 0, mbps, exitsPerPacket: 0, irqsPerPacket: 0, mainBusyPct: 0 });
    expect(ioRatios([row("assigned", "trap", "tx", 64, 100), row("ne2000", "trap", "tx", 64, 10)])).toEqual([]);
    expect(ioRatios([row("assigned", "trap", "tx", 64, 300), row("virtio", "native", "tx", 64, 50), row("virtio", "trap", "tx", 64, 100), row("virtio", "trap", "rx", 64, 50), row("ne2000", "trap", "tx", 64, 1)])).toEqual([
      { of: "virtio/ne2000", mode: "trap", dir: "tx", frame: 64, ratio: 100 },
      { of: "assigned/virtio", mode: "trap", dir: "tx", frame: 64, ratio: 3 },
    ]);
  });
});
