/*
 * End to end: the bare-metal virtio-net driver guest (guests/virtio-net-test)
 * on the virtual network. Two VMs under --virt trap, and two native boards,
 * exchange frames through one switch; a guest sends to a sink and every
 * frame arrives.
 */

import { describe, expect, it } from "vitest";
import { virtioNetKind } from "../../src/devices/virtio/kinds.ts";
import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import { boardDevices } from "../../src/machine/board-devices.ts";
import { Board } from "../../src/machine/board.ts";
import { readImageFile } from "../../src/machine/image.ts";
import { runBoard } from "../../src/machine/runner.ts";
import { parseMac } from "../../src/net/ethernet.ts";
import { parseNetdev, VirtualNetwork } from "../../src/net/netdevs.ts";
import type { SwitchPort } from "../../src/net/port.ts";

const IMAGE = "guests/bin/virtio-net-test.elf";
const MEM = 16 * 2 ** 20;
const MAC_A = parseMac("52:54:00:12:34:0a");
const MAC_B = parseMac("52:54:00:12:34:0b");

function devices(port: SwitchPort, mac: Uint8Array) {
  return boardDevices({ virtio: new Map([[7, virtioNetKind({ port, mac }, { legacy: false })]]) });
}

async function runNative(port: SwitchPort, mac: Uint8Array, append: string): Promise<{ code: number; output: string }> {
  let output = "";
  const board = new Board({ harts: 1, memSize: MEM, clock: "real", output: (b) => (output += String.fromCharCode(b)), devices: devices(port, mac) });
  board.boot({ kernel: readImageFile(IMAGE, "kernel"), append });
  const r = await runBoard(board, { timeoutSeconds: 100 });
  return { code: r.exitCode, output };
}

async function runTrap(hv: Hypervisor, port: SwitchPort, mac: Uint8Array, append: string): Promise<{ code: number; output: string }> {
  let output = "";
  const vm = hv.createVm({
    name: `vm${hv.vms.length}`,
    vcpus: 1,
    memSize: MEM,
    images: { bios: { kind: "none" }, kernel: readImageFile(IMAGE, "kernel"), append },
    wait: "poll",
    exitHandler: "main",
    output: (b) => (output += String.fromCharCode(b)),
    devices: devices(port, mac),
  });
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), 150_000);
  const result = await vm.result;
  clearTimeout(timer);
  return { code: result.exitCode, output };
}

/** Each side keeps resending until it has 20 frames from the other and has heard the other has 20 (main.c peer). */
function expectExchange(output: string, from: string): void {
  const m = /peer: got (\d+) frames from ([0-9a-f:]+), it got (\d+) of ours/.exec(output);
  expect(m, output).not.toBeNull();
  expect(m![2]).toBe(from);
  expect(Number(m![1])).toBeGreaterThanOrEqual(20);
  expect(Number(m![3])).toBeGreaterThanOrEqual(20);
}

describe("virtio-net guest on the virtual network", () => {
  it("two VMs under --virt trap exchange frames through one switch", async () => {
    const net = new VirtualNetwork();
    const hv = new Hypervisor({ machineMemory: 3 * MEM + 16 * 2 ** 20 });
    const [a, b] = await Promise.all([
      runTrap(hv, net.attach(parseNetdev("switch,id=a")), MAC_A, "peer"),
      runTrap(hv, net.attach(parseNetdev("switch,id=b")), MAC_B, "peer"),
    ]);
    expect(a.output).toContain("virtio-net: mac 52:54:00:12:34:0a");
    expectExchange(a.output, "52:54:00:12:34:0b");
    expectExchange(b.output, "52:54:00:12:34:0a");
    expect([a.code, b.code]).toEqual([0, 0]);
  }, 180_000);

  it("two native boards exchange frames through one switch", async () => {
    const net = new VirtualNetwork();
    const [a, b] = await Promise.all([
      runNative(net.attach(parseNetdev("switch,id=a")), MAC_A, "peer"),
      runNative(net.attach(parseNetdev("switch,id=b")), MAC_B, "peer"),
    ]);
    expectExchange(a.output, "52:54:00:12:34:0b");
    expectExchange(b.output, "52:54:00:12:34:0a");
    expect([a.code, b.code]).toEqual([0, 0]);
  }, 180_000);

  it("a VM sends 3000 frames in batches to a sink, and all arrive", async () => {
    const net = new VirtualNetwork();
    const hv = new Hypervisor({ machineMemory: MEM + 16 * 2 ** 20 });
    const r = await runTrap(hv, net.attach(parseNetdev("sink,id=s")), MAC_A, "tx 3000 1514");
    expect(r.code).toBe(0);
    expect(r.output).toContain("tx: sent 3000 frames of 1514 bytes");
    // The driver's warm-up batch (every slot sent once to fill the buffers, 1024 frames) arrives too.
    expect(net.sinks.get("s")?.frames).toBe(3000 + 1024);
    expect(net.sinks.get("s")?.bytes).toBe((3000 + 1024) * 1514);
  }, 180_000);
});
