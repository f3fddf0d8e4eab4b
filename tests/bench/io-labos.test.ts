/*
 * `popek bench io --guest labos` (bench/io-labos.ts), shortened: labos's
 * netperf under --virt trap receives from a flooding source through the
 * NE2000 and sends through virtio-net; diskperf moves 4 KiB requests
 * through virtio-blk. Each row has a rate and exits per frame.
 */

import { describe, expect, it } from "vitest";
import { benchIoLabos, diskRows } from "../../bench/io-labos.ts";

describe("bench io --guest labos", () => {
  it("NE2000 rx from a flooding source, virtio-net tx and assigned-NIC rx each give a rate", async () => {
    const rows = [
      ...(await benchIoLabos({ count: 20, nics: ["ne2000"], dirs: ["rx"], frames: [64] })),
      ...(await benchIoLabos({ count: 20, nics: ["virtio-net"], dirs: ["tx"], frames: [64] })),
      ...(await benchIoLabos({ count: 20, nics: ["assigned"], dirs: ["rx"], frames: [64] })),
    ];
    expect(rows.map((r) => `${r.nic} ${r.dir} ${r.frame}`)).toEqual(["ne2000 rx 64", "virtio-net tx 64", "assigned rx 64"]);
    for (const r of rows) {
      expect(r.pps).toBeGreaterThan(0);
      expect(r.exitsPerPacket).toBeGreaterThan(0);
    }
    expect(rows[0].irqsPerPacket).toBeGreaterThan(0);
    expect(rows[1].irqsPerPacket).toBeNull();
    expect(rows[2].irqsPerPacket).toBeGreaterThan(0); // the posted interrupt, which the hypervisor's SBI delegates
  }, 240_000);

  it("diskperf gives every test a rate", async () => {
    const disk = await diskRows(8);
    expect(disk.map((d) => d.test)).toEqual(["seq_write", "seq_read", "rand_read", "rand_write", "verify"]);
    for (const d of disk) expect(d.mbps).toBeGreaterThan(0);
  }, 240_000);
});
