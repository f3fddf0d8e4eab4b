/*
 * End to end: labos's network programs on its NE2000 driver (guests/labos/
 * ne2000.c), behind Debian's OpenSBI on the native board. Two labos boards on
 * one switch ping each other by MAC; one receives from a frame source
 * (receive-side netperf, through the card's interrupt); one sends to a sink,
 * which counts every frame; a VM under --virt trap pings a native one. The
 * NE2000 is popek's lab device, not on QEMU's virt board, so this part runs
 * on popek only (tests/e2e/labos.test.ts pings between two QEMU VMs over
 * virtio-net).
 *
 * Every run waits for the guest to power off: nothing depends on the host's speed.
 */

import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { boardDevicesFrom } from "../../src/cli/devices.ts";
import { AssignedNic } from "../../src/devices/assigned-nic/nic.ts";
import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import { netdevPorts } from "../../src/cli/netdev.ts";
import { boardDevices, type DeviceSpec } from "../../src/machine/board-devices.ts";
import { Board } from "../../src/machine/board.ts";
import { readImageFile } from "../../src/machine/image.ts";
import { runBoard } from "../../src/machine/runner.ts";
import { parseMac } from "../../src/net/ethernet.ts";
import { parseNetdev, VirtualNetwork } from "../../src/net/netdevs.ts";
import type { SwitchPort } from "../../src/net/port.ts";

const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const LABOS = "guests/bin/labos.elf";
const HAVE_OPENSBI = existsSync(OPENSBI) || process.env.CI === "true";
const MAC_A = "52:54:00:12:34:0a";
const MAC_B = "52:54:00:12:34:0b";
const TEST_TIMEOUT_MS = 200_000;

/** labos on a native board with one NE2000 on `port` (or the given devices), running `append`; resolves at power-off. */
async function labos(port: SwitchPort | DeviceSpec[], mac: string, append: string, harts = 1): Promise<{ output: string; exitCode: number }> {
  let output = "";
  const board = new Board({
    harts,
    memSize: 64 * 2 ** 20,
    clock: "real",
    output: (b) => (output += String.fromCharCode(b)),
    devices: Array.isArray(port) ? port : boardDevices({ ne2000: [{ port, mac: parseMac(mac) }] }),
  });
  board.boot({ firmware: readImageFile(OPENSBI, "bios"), kernel: readImageFile(LABOS, "kernel"), append });
  const r = await runBoard(board, { timeoutSeconds: 150 });
  return { output, exitCode: r.exitCode };
}

/** labos under --virt trap (the hypervisor's SBI, 2 vCPUs) with one NE2000 on `port` (or the given devices); resolves when the VM stops. */
async function labosTrap(port: SwitchPort | DeviceSpec[], mac: string, append: string): Promise<{ output: string; exitCode: number; stats: Record<string, number>; postedIrqs: number }> {
  let output = "";
  const hv = new Hypervisor({ machineMemory: 96 * 2 ** 20 });
  const vm = hv.createVm({
    name: "labos",
    vcpus: 2,
    memSize: 64 * 2 ** 20,
    images: { bios: { kind: "hv" }, kernel: readImageFile(LABOS, "kernel"), append },
    wait: "poll",
    exitHandler: "main",
    output: (b) => (output += String.fromCharCode(b)),
    devices: Array.isArray(port) ? port : boardDevices({ ne2000: [{ port, mac: parseMac(mac) }] }),
  });
  const anic = vm.devices.instances.map((i) => i.device).find((d): d is AssignedNic => d instanceof AssignedNic);
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), 150_000);
  const r = await vm.result;
  clearTimeout(timer);
  const stats: Record<string, number> = {};
  for (const rep of r.reports) for (const [k, v] of Object.entries(rep.stats)) if (typeof v === "number") stats[k] = (stats[k] ?? 0) + v;
  return { output, exitCode: r.exitCode, stats, postedIrqs: anic?.counters().irqs ?? 0 };
}

describe.runIf(HAVE_OPENSBI)("labos's NE2000 driver on the virtual network", () => {
  it("two labos VMs on one switch ping each other by MAC (one of them with 2 harts)", async () => {
    const net = new VirtualNetwork();
    const [a, b] = await Promise.all([
      labos(net.attach(parseNetdev("switch,id=a")), MAC_A, "ping:ne2000,5", 2),
      labos(net.attach(parseNetdev("switch,id=b")), MAC_B, `ping:ne2000,${MAC_A},5`),
    ]);
    expect(a.output).toContain(`labos: ne2000 at 0x10009000 irq 11, mac 52:54:0:12:34:a`);
    expect(a.output).toContain(`ping: 5 replies from ${MAC_B}`);
    expect(b.output).toContain(`ping: 5 replies from ${MAC_A}`);
    for (const r of [a, b]) {
      expect(r.output).toMatch(/^result ping\.rtt n=5 ns=\d+ ns_per_op=\d+ instret_per_op=\d+$/m);
      expect(r.output).toMatch(/^pass ping$/m);
      expect(r.exitCode).toBe(0);
    }
  }, TEST_TIMEOUT_MS);

  it("netperf receives frames from a source through the card's interrupt, and sends every frame to a sink", async () => {
    const net = new VirtualNetwork();
    const source = net.attach(parseNetdev("source,id=r,size=300,pps=500"));
    net.start();
    const rx = await labos(source, MAC_A, "netperf:rx,ne2000,40");
    net.close();
    expect(rx.output).toMatch(/^netperf: received 40 frames, 12000 bytes, dropped \d+$/m);
    expect(rx.output).toMatch(/^result netperf\.recv n=39 /m);
    expect(rx.exitCode).toBe(0);

    const sinkNet = new VirtualNetwork();
    const tx = await labos(sinkNet.attach(parseNetdev("sink,id=s")), MAC_A, "netperf:ne2000,tx,30,1514 netperf:ne2000,30,60");
    expect(tx.output).toContain("netperf: sent 30 frames, 45420 bytes");
    expect(tx.output).toContain("netperf: sent 30 frames, 1800 bytes");
    expect(sinkNet.sinks.get("s")?.frames).toBe(60);
    expect(sinkNet.sinks.get("s")?.bytes).toBe(30 * 1514 + 30 * 60);
    expect(tx.exitCode).toBe(0);
  }, TEST_TIMEOUT_MS);

  it("the same ping through labos's virtio-net driver", async () => {
    const net = new VirtualNetwork();
    const vm = (id: string, mac: string) =>
      boardDevicesFrom({ netdev: [`switch,id=${id}`], device: [`virtio-net-device,netdev=${id},mac=${mac}`] }, netdevPorts(net));
    const [a, b] = await Promise.all([labos(vm("a", MAC_A), MAC_A, "ping:virtio-net,3"), labos(vm("b", MAC_B), MAC_B, "ping:virtio-net,3")]);
    expect(a.output).toContain(`ping: 3 replies from ${MAC_B}`);
    expect(b.output).toContain(`ping: 3 replies from ${MAC_A}`);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
  }, TEST_TIMEOUT_MS);

  it("a labos VM under --virt trap (2 vCPUs) and a native one ping each other through their NE2000s", async () => {
    const net = new VirtualNetwork();
    const [t, n] = await Promise.all([
      labosTrap(net.attach(parseNetdev("switch,id=t")), MAC_A, "ping:ne2000,3"),
      labos(net.attach(parseNetdev("switch,id=n")), MAC_B, "ping:ne2000,3"),
    ]);
    expect(t.output).toContain(`ping: 3 replies from ${MAC_B}`);
    expect(n.output).toContain(`ping: 3 replies from ${MAC_A}`);
    expect([t.exitCode, n.exitCode]).toEqual([0, 0]);
  }, TEST_TIMEOUT_MS);
});

/** Until sink "s" has `frames` frames (they cross from the NIC's thread on its own schedule), or 20 s. */
async function sinkFrames(net: VirtualNetwork, frames: number): Promise<void> {
  for (let i = 0; i < 200 && (net.sinks.get("s")?.frames ?? 0) < frames; i++) await new Promise((r) => setTimeout(r, 100));
}

/*
 * labos's driver for the directly assigned NIC (guests/labos/anic.c). Under
 * --virt trap the hypervisor's SBI delegates mip bit 16, so the driver takes
 * the posted interrupt; natively OpenSBI keeps it, and the driver polls.
 */
describe.runIf(HAVE_OPENSBI)("labos's assigned-NIC driver", () => {
  it("two labos VMs under --virt trap ping each other over assigned NICs on one switch", async () => {
    const net = new VirtualNetwork();
    const card = (id: string, mac: string) => boardDevices({ assigned: [{ port: net.attachRemote(parseNetdev(`switch,id=${id}`)), mac: parseMac(mac) }] });
    const [a, b] = await Promise.all([labosTrap(card("a", MAC_A), MAC_A, "ping:assigned,3"), labosTrap(card("b", MAC_B), MAC_B, "ping:assigned,3")]).finally(() => net.close());
    expect(a.output).toContain("labos: assigned-nic at 0x1000a000 irq 16 (posted), mac 52:54:0:12:34:a");
    expect(a.output).toContain(`ping: 3 replies from ${MAC_B}`);
    expect(b.output).toContain(`ping: 3 replies from ${MAC_A}`);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
  }, TEST_TIMEOUT_MS);

  it("netperf sends every frame to a sink under --virt trap, the driver adding no exit per frame (and natively, polled)", async () => {
    const run = async (frames: number) => {
      const net = new VirtualNetwork();
      const devices = boardDevices({ assigned: [{ port: net.attachRemote(parseNetdev("sink,id=s")), mac: parseMac(MAC_A) }] });
      const r = await labosTrap(devices, MAC_A, `netperf:assigned,tx,${frames},64`);
      await sinkFrames(net, frames).finally(() => net.close());
      expect(r.output).toContain(`netperf: sent ${frames} frames, ${frames * 64} bytes`);
      expect(net.sinks.get("s")?.frames).toBe(frames);
      expect(r.exitCode).toBe(0);
      return { mmio: r.stats.mmio_exit_kernel ?? 0, exits: r.stats.exits ?? 0, postedIrqs: r.postedIrqs };
    };
    const [few, many] = [await run(10), await run(110)];
    // The register page is mapped into the guest: the 100 frames more touch it with no MMIO exit
    // (the few more there are the console's: longer numbers, a PLIC claim or two); one per frame
    // would be 100, and an NE2000 takes hundreds a frame.
    expect(many.mmio - few.mmio).toBeLessThan(30);
    // Nor an interrupt: the TX ring never filled, so the driver never asked for one. What the frames
    // do cost is the system call per frame (ecall, the trap path's CSRs, sret), not the card.
    expect(many.postedIrqs).toBe(0);
    console.log(`labos assigned tx under trap: ${(many.exits - few.exits) / 100} exits per frame (mmio ${(many.mmio - few.mmio) / 100})`);

    const sinkNet = new VirtualNetwork();
    const native = await labos(boardDevices({ assigned: [{ port: sinkNet.attachRemote(parseNetdev("sink,id=s")), mac: parseMac(MAC_A) }] }), MAC_A, "netperf:assigned,tx,600,1514");
    await sinkFrames(sinkNet, 600).finally(() => sinkNet.close());
    expect(native.output).toContain("labos: assigned-nic at 0x1000a000 polled (mip bit 16 not delegated)");
    expect(native.output).toContain("netperf: sent 600 frames, 908400 bytes");
    expect(sinkNet.sinks.get("s")?.frames).toBe(600);
    expect(native.exitCode).toBe(0);
  }, TEST_TIMEOUT_MS);
});
