/*
 * The virtio-net rows of `popek bench io`: guests/bin/virtio-net-test.elf
 * sends 64- and 1514-byte frames to a sink, and receives them from a source,
 * each for a fixed time, on the native board and under --virt trap.
 *
 * The driver batches (guests/virtio-net-test/virtio_net.c): it fills every
 * free transmit slot, then notifies once, and only if the device asked
 * (EVENT_IDX avail_event); it keeps used_event far ahead while it polls and
 * asks for an interrupt only before it sleeps in wfi. So exits per packet
 * are a few per batch of up to 1024 frames under trap (the notify, a clock
 * read, and per sleep the wfi, the PLIC claim and complete and the
 * InterruptACK), and natively there are none to count.
 */

import { performance } from "node:perf_hooks";
import { virtioNetKind } from "../src/devices/virtio/kinds.ts";
import { VirtioMmio } from "../src/devices/virtio/mmio.ts";
import type { DeviceInstance } from "../src/machine/device-set.ts";
import { Hypervisor } from "../src/hypervisor/hypervisor.ts";
import { Board } from "../src/machine/board.ts";
import { boardDevices } from "../src/machine/board-devices.ts";
import { readImageFile } from "../src/machine/image.ts";
import { runBoard } from "../src/machine/runner.ts";
import { parseMac } from "../src/net/ethernet.ts";
import type { SwitchPort } from "../src/net/port.ts";
import { parseNetdev, VirtualNetwork } from "../src/net/netdevs.ts";
import { parseNicRun, type GuestRun, type IoDirection, type IoResult } from "./io-ne2000.ts";

const IMAGE = "guests/bin/virtio-net-test.elf";
const MEM = 16 * 2 ** 20;
const GUEST_MAC = parseMac("52:54:00:12:34:56");
/** Frames the guest is asked for: more than any run moves, so the time limit ends it. */
const UNBOUNDED = 100_000_000;
/** The source's rate for receive runs, per frame size: above what the guest takes, so it is the bottleneck. */
const SOURCE_PPS: Record<number, number> = { 64: 500_000, 1514: 250_000 };
const TIMEOUT_S = 120;

type IoMode = IoResult["mode"];

function devicesFor(port: SwitchPort) {
  return boardDevices({ virtio: new Map([[7, virtioNetKind({ port, mac: GUEST_MAC }, { legacy: false })]]) });
}

function irqsOf(instances: readonly DeviceInstance[]): number {
  return instances.map((i) => i.device).find((d): d is VirtioMmio => d instanceof VirtioMmio)?.stats.irqs ?? 0;
}

async function runNative(port: SwitchPort, append: string): Promise<GuestRun> {
  let output = "";
  const board = new Board({ harts: 1, memSize: MEM, clock: "real", output: (b) => (output += String.fromCharCode(b)), devices: devicesFor(port) });
  board.boot({ kernel: readImageFile(IMAGE, "kernel"), append });
  const r = await runBoard(board, { timeoutSeconds: TIMEOUT_S });
  if (r.exitCode !== 0) throw new Error(`bench io: virtio-net-test "${append}" ended with ${r.exitCode}: ${output.trim()}`);
  return { output, exits: 0, irqs: irqsOf(board.devices.instances) };
}

async function runTrap(port: SwitchPort, append: string): Promise<GuestRun> {
  const hv = new Hypervisor({ machineMemory: MEM + 16 * 2 ** 20 });
  let output = "";
  const vm = hv.createVm({
    name: "virtio-net-bench",
    vcpus: 1,
    memSize: MEM,
    images: { bios: { kind: "none" }, kernel: readImageFile(IMAGE, "kernel"), append },
    wait: "poll",
    exitHandler: "main",
    output: (b) => (output += String.fromCharCode(b)),
    devices: devicesFor(port),
  });
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), TIMEOUT_S * 1000);
  const result = await vm.result;
  clearTimeout(timer);
  if (result.exitCode !== 0) throw new Error(`bench io: virtio-net-test "${append}" under trap ended with ${result.exitCode}: ${output.trim()}`);
  const exits = result.reports.reduce((s, r) => s + r.stats.exits, 0);
  return { output, exits, irqs: irqsOf(vm.devices.instances) };
}

/** One direction, frame size and mode for `ms` milliseconds of guest time. */
export async function benchVirtioNet(mode: IoMode, dir: IoDirection, frame: number, ms: number): Promise<IoResult> {
  const net = new VirtualNetwork();
  const port = net.attach(parseNetdev(dir === "tx" ? "sink,id=io" : `source,id=io,size=${frame},pps=${SOURCE_PPS[frame] ?? SOURCE_PPS[1514]}`));
  const append = dir === "tx" ? `tx ${UNBOUNDED} ${frame} ${ms}` : `rx ${UNBOUNDED} ${ms}`;
  const elu = performance.eventLoopUtilization();
  net.start();
  try {
    const run = mode === "native" ? await runNative(port, append) : await runTrap(port, append);
    const busy = performance.eventLoopUtilization(elu).utilization;
    return parseNicRun("virtio", mode, dir, frame, run, busy);
  } finally {
    net.close();
  }
}
