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
import { AssignedNic } from "../../src/devices/assigned-nic/nic.ts";
import { DeviceContextWriter } from "../../src/devices/assigned-nic/iommu.ts";
import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import type { Vm, VmResult } from "../../src/hypervisor/vm.ts";
import { boardDevices } from "../../src/machine/board-devices.ts";
import { Board } from "../../src/machine/board.ts";
import { readImageFile } from "../../src/machine/image.ts";
import { runBoard } from "../../src/machine/runner.ts";
import { parseMac } from "../../src/net/ethernet.ts";
import { parseNetdev, VirtualNetwork } from "../../src/net/netdevs.ts";
import type { RemotePort } from "../../src/net/remote-port.ts";

const IMAGE = "guests/bin/assigned-test.elf";
const MEM = 16 * 2 ** 20;
const MAC_A = parseMac("52:54:00:12:34:1a");
const MAC_B = parseMac("52:54:00:12:34:1b");

interface TrapRun {
  readonly output: string;
  readonly result: VmResult;
  readonly nic: AssignedNic;
}

function nicOf(vm: Vm): AssignedNic {
  const nic = vm.devices.instances.map((i) => i.device).find((d): d is AssignedNic => d instanceof AssignedNic);
  if (nic === undefined) throw new Error("no assigned NIC");
  return nic;
}

/** One VM under trap with an assigned NIC on `port`, running the guest with `append`; `ready` runs once its driver is up. */
async function runTrap(hv: Hypervisor, port: RemotePort, mac: Uint8Array, append: string, ready?: () => void): Promise<TrapRun> {
  let output = "";
  let up = false;
  const vm = hv.createVm({
    name: `vm${hv.vms.length}`,
    vcpus: 1,
    memSize: MEM,
    images: { bios: { kind: "none" }, kernel: readImageFile(IMAGE, "kernel"), append },
    wait: "poll",
    exitHandler: "main",
    output: (b) => {
      output += String.fromCharCode(b);
      if (!up && output.includes("anic: mac") && b === 10) {
        up = true;
        ready?.();
      }
    },
    devices: boardDevices({ assigned: [{ port, mac }] }),
  });
  const nic = nicOf(vm);
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), 150_000);
  const result = await vm.result;
  clearTimeout(timer);
  return { output, result, nic };
}

function expectExchange(output: string, from: string): void {
  const m = /peer: got (\d+) frames from ([0-9a-f:]+), it got (\d+) of ours/.exec(output);
  expect(m, output).not.toBeNull();
  expect(m![2]).toBe(from);
  expect(Number(m![1])).toBeGreaterThanOrEqual(20);
  expect(Number(m![3])).toBeGreaterThanOrEqual(20);
}

describe("assigned NIC under --virt trap", () => {
  it("two VMs exchange frames through one switch, each NIC in its own thread", async () => {
    const net = new VirtualNetwork();
    const hv = new Hypervisor({ machineMemory: 3 * MEM + 16 * 2 ** 20 });
    const [a, b] = await Promise.all([
      runTrap(hv, net.attachRemote(parseNetdev("switch,id=a")), MAC_A, "peer"),
      runTrap(hv, net.attachRemote(parseNetdev("switch,id=b")), MAC_B, "peer"),
    ]);
    net.close();
    expectExchange(a.output, "52:54:00:12:34:1b");
    expectExchange(b.output, "52:54:00:12:34:1a");
    expect([a.result.exitCode, b.result.exitCode]).toEqual([0, 0]);
    expect(a.nic.counters().rx_frames).toBeGreaterThanOrEqual(20);
  }, 180_000);

  it("sending to a sink costs no exit per frame: the driver's register accesses never leave the guest", async () => {
    const net = new VirtualNetwork();
    const hv = new Hypervisor({ machineMemory: MEM + 16 * 2 ** 20 });
    const frames = 20_000;
    const r = await runTrap(hv, net.attachRemote(parseNetdev("sink,id=s")), MAC_A, `tx ${frames} 64`);
    net.close();
    expect(r.result.exitCode, r.output).toBe(0);
    expect(r.output).toContain(`tx: sent ${frames} frames of 64 bytes`);
    expect(net.sinks.get("s")?.frames).toBe(frames);
    const stats = r.result.reports[0].stats;
    // The exits left: the clock once per 1024 frames (or per 100000 polls of a full ring), the console, start-up;
    // on an idle machine about 0.01 per frame, far more frames than exits on a loaded one.
    expect(stats.exits / frames).toBeLessThan(0.1);
    expect(r.nic.counters().tx_frames).toBe(frames);
    console.log(`assigned tx 64-byte frames under trap: ${r.output.trim()}\n  exits ${stats.exits} (mmio ${stats.mmio_exit_kernel}) for ${frames} frames`);
  }, 180_000);

  it("the IOMMU blocks and counts DMA outside the guest's RAM; the device goes on, then stops on a ring it cannot read", async () => {
    const net = new VirtualNetwork();
    const hv = new Hypervisor({ machineMemory: MEM + 16 * 2 ** 20 });
    const r = await runTrap(hv, net.attachRemote(parseNetdev("sink,id=s")), MAC_A, "hostile");
    net.close();
    expect(r.output).toContain("hostile: 3 of 4 frames refused, device running");
    expect(r.output).toContain("hostile: ring outside RAM: status 2 error 5");
    expect(r.result.exitCode).toBe(0);
    // Only the good frame reached the network; the blocked ones did not, nor did the register page leak.
    expect(net.sinks.get("s")?.frames).toBe(1);
    expect(new DeviceContextWriter(r.nic.direct.iommu).blocked).toBeGreaterThanOrEqual(4);
    expect(r.nic.counters().ring_failures).toBe(1);
  }, 180_000);

  it("a guest asleep in wfi is woken by the posted interrupt and receives every frame", async () => {
    const net = new VirtualNetwork();
    const hv = new Hypervisor({ machineMemory: MEM + 16 * 2 ** 20 });
    // The source starts once the driver is up, so frames come one by one and the guest sleeps between them.
    const port = net.attachRemote(parseNetdev("source,id=r,size=200,pps=50"));
    const r = await runTrap(hv, port, MAC_A, "rx 20 0 irq", () => net.start());
    net.close();
    expect(r.output).toMatch(/rx: got 20 frames, 4000 bytes/);
    expect(r.result.exitCode).toBe(0);
    expect(Number(/slept in wfi (\d+) times/.exec(r.output)?.[1])).toBeGreaterThan(0);
    expect(r.nic.counters().irqs).toBeGreaterThan(0);
    console.log(`assigned rx with posted interrupts: ${r.output.trim()}\n  posted ${r.nic.counters().irqs} interrupts for 20 frames`);
  }, 180_000);
});

describe("assigned NIC natively", () => {
  it("a board sends frames to a sink, and all arrive", async () => {
    const net = new VirtualNetwork();
    let output = "";
    const port = net.attachRemote(parseNetdev("sink,id=s"));
    const board = new Board({ harts: 1, memSize: MEM, clock: "real", output: (b) => (output += String.fromCharCode(b)), devices: boardDevices({ assigned: [{ port, mac: MAC_A }] }) });
    board.boot({ kernel: readImageFile(IMAGE, "kernel"), append: "tx 500 1514" });
    const r = await runBoard(board, { timeoutSeconds: 100 });
    await board.devices.quiesce();
    net.close();
    expect(r.exitCode, output).toBe(0);
    expect(net.sinks.get("s")?.frames).toBe(500);
    expect(net.sinks.get("s")?.bytes).toBe(500 * 1514);
  }, 120_000);

  it("a board asleep in wfi is woken by the posted interrupt (no PLIC) and receives every frame", async () => {
    const net = new VirtualNetwork();
    let output = "";
    const port = net.attachRemote(parseNetdev("source,id=r,size=100,pps=100"));
    const board = new Board({
      harts: 1,
      memSize: MEM,
      clock: "real",
      output: (b) => {
        output += String.fromCharCode(b);
        if (b === 10 && output.endsWith("anic: mac 52:54:00:12:34:1a\n")) net.start();
      },
      devices: boardDevices({ assigned: [{ port, mac: MAC_A }] }),
    });
    board.boot({ kernel: readImageFile(IMAGE, "kernel"), append: "rx 20 0 irq" });
    const r = await runBoard(board, { timeoutSeconds: 100 });
    await board.devices.quiesce();
    net.close();
    expect(output).toMatch(/rx: got 20 frames, 2000 bytes/);
    expect(Number(/slept in wfi (\d+) times/.exec(output)?.[1])).toBeGreaterThan(0);
    expect(r.exitCode).toBe(0);
  }, 120_000);
});
