/*
 * End to end: the bare-metal virtio-net driver guest (guests/virtio-net-test)
 * on the virtual network. Two VMs under --virt trap, and two native boards,
 * exchange frames through one switch; a guest sends to a sink and every
 * frame arrives.
 */

import { describe, expect, it } from "vitest";
import { VirtualNetwork } from "../../src/net/netdevs.ts";
import { expectPeered, runNic, runPeers } from "../helpers/nic.ts";

const MACS = ["52:54:00:12:34:0a", "52:54:00:12:34:0b"] as const;

describe("virtio-net guest on the virtual network", () => {
  it("two VMs under --virt trap exchange frames through one switch", async () => {
    const [a, b] = await runPeers("virtio", "trap", MACS);
    expect(a.output).toContain("virtio-net: mac 52:54:00:12:34:0a");
    expectPeered([a, b], MACS);
  }, 180_000);

  it("two native boards exchange frames through one switch", async () => {
    expectPeered(await runPeers("virtio", "native", MACS), MACS);
  }, 180_000);

  it("a VM sends 3000 frames in batches to a sink, and all arrive", async () => {
    const net = new VirtualNetwork();
    const r = await runNic({ kind: "virtio", mode: "trap", net, netdev: "sink,id=s", mac: MACS[0], append: "tx 3000 1514" });
    expect(r.exitCode).toBe(0);
    expect(r.output).toContain("tx: sent 3000 frames of 1514 bytes");
    // The driver's warm-up batch (every slot sent once to fill the buffers, 1024 frames) arrives too.
    expect(net.sinks.get("s")?.frames).toBe(3000 + 1024);
    expect(net.sinks.get("s")?.bytes).toBe((3000 + 1024) * 1514);
  }, 180_000);
});
