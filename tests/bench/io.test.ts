/*
 * `popek bench io`'s NIC rows, shortened: a row has the JSON shape the issue
 * names; the NE2000's exits per packet show the emulated card's cost (every
 * register and data-port access of the driver is an exit), virtio-net's how
 * far batching brings them down.
 */

import { describe, expect, it, vi } from "vitest";
import { benchIoCommand } from "../../bench/io.ts";
import { benchNe2000 } from "../../bench/io-ne2000.ts";
import { benchVirtioNet } from "../../bench/io-virtio.ts";

describe("bench io: NE2000", () => {
  it("a short tx run gives a row with every field, frames moved, and tens of exits per 64-byte frame", async () => {
    const r = await benchNe2000("tx", 64, 300);
    expect(Object.keys(r).sort()).toEqual(["dir", "exitsPerPacket", "frame", "irqsPerPacket", "mainBusyPct", "mbps", "mode", "nic", "pps"]);
    expect(r).toMatchObject({ nic: "ne2000", mode: "trap", dir: "tx", frame: 64, irqsPerPacket: 0 });
    expect(r.pps).toBeGreaterThan(0);
    expect(r.mbps).toBeCloseTo((r.pps * 64 * 8) / 1e6, 6);
    // At least 27 accesses per 64-byte frame, each an exit (guests/ne2000-test/ne2000.c ne_send): the
    // remote-DMA set-up (5), 16 data words, the RDC ack, TBCR0/1, TXP, at least one ISR poll and the
    // PTX ack. More polls come when the card is slow to answer, so a loaded machine sees more (~36).
    expect(r.exitsPerPacket).toBeGreaterThanOrEqual(27);
    expect(r.mainBusyPct).toBeGreaterThan(0);
  }, 120_000);
});

describe("bench io: virtio-net", () => {
  it("under trap a batching driver sends 1514-byte frames to the sink at under one exit per frame", async () => {
    const r = await benchVirtioNet("trap", "tx", 1514, 500);
    expect(r).toMatchObject({ nic: "virtio", mode: "trap", dir: "tx", frame: 1514 });
    expect(r.pps).toBeGreaterThan(1000);
    // One notify and one clock read per batch of up to 1024 frames; the rest of the run's exits are
    // the driver's set-up (~80) and the console (one per character, ~200). A full `bench io` run
    // spreads those over 10^5 frames (~0.003 exits each); a short one on a loaded machine over
    // a few thousand. An NE2000 takes ~390 per 1514-byte frame.
    expect(r.exitsPerPacket).toBeGreaterThan(0);
    expect(r.exitsPerPacket).toBeLessThan(1);
    // The transmit queue's used_event stays far ahead: the device never interrupts a sender.
    expect(r.irqsPerPacket).toBe(0);
  }, 120_000);

  it("natively a guest receives from the source; interrupts come only when it sleeps, far fewer than frames", async () => {
    const r = await benchVirtioNet("native", "rx", 64, 300);
    expect(r).toMatchObject({ nic: "virtio", mode: "native", dir: "rx", frame: 64, exitsPerPacket: 0 });
    expect(r.pps).toBeGreaterThan(1000);
    expect(r.irqsPerPacket).toBeLessThan(1);
  }, 120_000);
});

describe("bench io --only", () => {
  it("names nic or blk; anything else is one clear line and exit code 2, before any run", async () => {
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await benchIoCommand({ only: "disk" })).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join("")).toBe("popek: bench io: --only disk is not one of nic, blk\n");
    } finally {
      err.mockRestore();
    }
  });
});
