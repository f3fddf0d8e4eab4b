/*
 * End to end: the bare-metal assigned-NIC driver (guests/assigned-test) on
 * the virtual network. Under --virt trap its register page is mapped into
 * the guest, so sending thousands of frames costs a handful of exits (the
 * clock, read once per batch, and the console); two VMs exchange frames
 * through one switch, each NIC in its own worker thread; the IOMMU blocks
 * the DMA a hostile driver aims outside its RAM; a guest asleep in wfi is
 * woken by the posted interrupt. Natively the device is simply there.
 */

import { describe, expect, it } from "vitest";
import { DeviceContextWriter } from "../../src/devices/assigned-nic/iommu.ts";
import { VirtualNetwork } from "../../src/net/netdevs.ts";
import { expectPeered, runNic, runPeers } from "../helpers/nic.ts";

const MACS = ["52:54:00:12:34:1a", "52:54:00:12:34:1b"] as const;

describe("assigned NIC under --virt trap", () => {
  it("two VMs exchange frames through one switch, each NIC in its own thread", async () => {
    const [a, b] = await runPeers("assigned", "trap", MACS);
    expectPeered([a, b], MACS);
    expect(a.device.counters().rx_frames).toBeGreaterThanOrEqual(20);
  }, 180_000);

  it("sending to a sink costs no exit per frame: the driver's register accesses never leave the guest", async () => {
    const net = new VirtualNetwork();
    const frames = 20_000;
    const r = await runNic({ kind: "assigned", mode: "trap", net, netdev: "sink,id=s", mac: MACS[0], append: `tx ${frames} 64` });
    net.close();
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toContain(`tx: sent ${frames} frames of 64 bytes`);
    expect(net.sinks.get("s")?.frames).toBe(frames);
    const stats = r.result.reports[0].stats;
    // The exits left: the clock once per 1024 frames (or per 100000 polls of a full ring), the console, start-up;
    // on an idle machine about 0.01 per frame, far more frames than exits on a loaded one.
    expect(stats.exits / frames).toBeLessThan(0.1);
    expect(r.device.counters().tx_frames).toBe(frames);
    console.log(`assigned tx 64-byte frames under trap: ${r.output.trim()}\n  exits ${stats.exits} (mmio ${stats.mmio_exit_kernel}) for ${frames} frames`);
  }, 180_000);

  it("the IOMMU blocks and counts DMA outside the guest's RAM; the device goes on, then stops on a ring it cannot read", async () => {
    const net = new VirtualNetwork();
    const r = await runNic({ kind: "assigned", mode: "trap", net, netdev: "sink,id=s", mac: MACS[0], append: "hostile" });
    net.close();
    expect(r.output).toContain("hostile: 3 of 4 frames refused, device running");
    expect(r.output).toContain("hostile: ring outside RAM: status 2 error 5");
    expect(r.exitCode).toBe(0);
    // Only the good frame reached the network; the blocked ones did not, nor did the register page leak.
    expect(net.sinks.get("s")?.frames).toBe(1);
    expect(new DeviceContextWriter(r.device.direct.iommu).blocked).toBeGreaterThanOrEqual(4);
    expect(r.device.counters().ring_failures).toBe(1);
  }, 180_000);

  it("a guest asleep in wfi is woken by the posted interrupt and receives every frame", async () => {
    const net = new VirtualNetwork();
    // The source starts once the driver is up, so frames come one by one and the guest sleeps between them.
    const r = await runNic({ kind: "assigned", mode: "trap", net, netdev: "source,id=r,size=200,pps=50", mac: MACS[0], append: "rx 20 0 irq", startNet: "ready" });
    net.close();
    expect(r.output).toMatch(/rx: got 20 frames, 4000 bytes/);
    expect(r.exitCode).toBe(0);
    expect(Number(/slept in wfi (\d+) times/.exec(r.output)?.[1])).toBeGreaterThan(0);
    expect(r.device.counters().irqs).toBeGreaterThan(0);
    console.log(`assigned rx with posted interrupts: ${r.output.trim()}\n  posted ${r.device.counters().irqs} interrupts for 20 frames`);
  }, 180_000);
});

describe("assigned NIC natively", () => {
  it("a board sends frames to a sink, and all arrive", async () => {
    const net = new VirtualNetwork();
    // The run waits for the NIC's thread to finish sending (DeviceKind.quiesce) before it returns.
    const r = await runNic({ kind: "assigned", mode: "native", net, netdev: "sink,id=s", mac: MACS[0], append: "tx 500 1514" });
    net.close();
    expect(r.exitCode, r.output).toBe(0);
    expect(net.sinks.get("s")?.frames).toBe(500);
    expect(net.sinks.get("s")?.bytes).toBe(500 * 1514);
  }, 120_000);

  it("a board asleep in wfi is woken by the posted interrupt (no PLIC) and receives every frame", async () => {
    const net = new VirtualNetwork();
    // The source starts once the driver has printed its MAC (its buffers posted).
    const r = await runNic({ kind: "assigned", mode: "native", net, netdev: "source,id=r,size=100,pps=100", mac: MACS[0], append: "rx 20 0 irq", startNet: "ready" });
    net.close();
    expect(r.output).toContain("anic: mac 52:54:00:12:34:1a\n");
    expect(r.output).toMatch(/rx: got 20 frames, 2000 bytes/);
    expect(Number(/slept in wfi (\d+) times/.exec(r.output)?.[1])).toBeGreaterThan(0);
    expect(r.exitCode).toBe(0);
  }, 120_000);
});
