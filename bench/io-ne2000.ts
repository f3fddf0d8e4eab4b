/*
 * The NE2000 rows of `popek bench io`: guests/bin/ne2000-test.elf under
 * --virt trap sends 64- and 1514-byte frames to a sink, and receives them
 * from a source, each for a fixed time. The guest times itself (mtime) and
 * says how many frames moved; the VM's counters give the exits, the card's
 * the interrupts, and the main thread's event-loop utilisation how busy the
 * device emulation kept it. The transmitting guest polls ISR for PTX; the
 * receiving one sleeps in wfi until the card's PLIC interrupt when its ring is
 * empty, as an interrupt-driven driver does.
 */

import { performance } from "node:perf_hooks";
import { Ne2000 } from "../src/devices/ne2000.ts";
import { Hypervisor } from "../src/hypervisor/hypervisor.ts";
import { boardDevices } from "../src/machine/board-devices.ts";
import { readImageFile } from "../src/machine/image.ts";
import { parseMac } from "../src/net/ethernet.ts";
import { parseNetdev, VirtualNetwork } from "../src/net/netdevs.ts";

const IMAGE = "guests/bin/ne2000-test.elf";
const MEM = 16 * 2 ** 20;
const GUEST_MAC = parseMac("52:54:00:12:34:56");
/** Frames the guest is asked for: more than any run moves, so the time limit ends it. */
const UNBOUNDED = 100_000_000;
/** The source's rate for receive runs: above what the emulated card takes, so the guest is the bottleneck. */
const SOURCE_PPS = 20_000;

export type IoDirection = "tx" | "rx";

/** One row of `bench io`, as the JSON results name it. */
export interface IoResult {
  readonly nic: "ne2000" | "virtio" | "assigned";
  /** The native board (no exits exist) or a VM under --virt trap. */
  readonly mode: "native" | "trap";
  readonly dir: IoDirection;
  /** Frame size in bytes. */
  readonly frame: number;
  readonly mbps: number;
  readonly pps: number;
  /** Every VM exit of the run (initialisation included) per frame moved. */
  readonly exitsPerPacket: number;
  /** Rises of the card's interrupt line per frame (tx polls for PTX with interrupts masked: 0; rx sleeps in wfi until PRX). */
  readonly irqsPerPacket: number;
  /** The main thread's event-loop utilisation during the run, in percent. */
  readonly mainBusyPct: number;
}

/** What a NIC guest's run left: its console output, the VM's exits (0 natively) and the device's interrupts. */
export interface GuestRun {
  readonly output: string;
  readonly exits: number;
  readonly irqs: number;
}

async function runGuest(net: VirtualNetwork, netdev: string, append: string): Promise<GuestRun> {
  const hv = new Hypervisor({ machineMemory: MEM + 16 * 2 ** 20 });
  let output = "";
  const vm = hv.createVm({
    name: "ne2000-bench",
    vcpus: 1,
    memSize: MEM,
    images: { bios: { kind: "none" }, kernel: readImageFile(IMAGE, "kernel"), append },
    wait: "poll",
    exitHandler: "main",
    output: (b) => (output += String.fromCharCode(b)),
    devices: boardDevices({ ne2000: [{ port: net.attach(parseNetdev(netdev)), mac: GUEST_MAC }] }),
  });
  const card = vm.devices.instances.map((i) => i.device).find((d): d is Ne2000 => d instanceof Ne2000);
  net.start();
  hv.start(vm);
  const result = await vm.result;
  net.close();
  if (result.exitCode !== 0) throw new Error(`bench io: ne2000-test "${append}" ended with ${result.exitCode}: ${output.trim()}`);
  const exits = result.reports.reduce((s, r) => s + r.stats.exits, 0);
  return { output, exits, irqs: card?.stats.irqs ?? 0 };
}

/** One direction and frame size for `ms` milliseconds of guest time. */
export async function benchNe2000(dir: IoDirection, frame: number, ms: number): Promise<IoResult> {
  const net = new VirtualNetwork();
  const elu = performance.eventLoopUtilization();
  const run =
    dir === "tx"
      ? await runGuest(net, "sink,id=io", `tx ${UNBOUNDED} ${frame} ${ms}`)
      : await runGuest(net, `source,id=io,size=${frame},pps=${SOURCE_PPS}`, `rx ${UNBOUNDED} ${ms} irq`);
  const busy = performance.eventLoopUtilization(elu).utilization;
  return parseNicRun("ne2000", "trap", dir, frame, run, busy);
}

/**
 * A row from a NIC guest's own report (ne2000-test and virtio-net-test print
 * the same lines: `tx: sent N frames of S bytes in U us`, `rx: got N frames,
 * B bytes in U us`), the run's exits and interrupts, and the main thread's
 * event-loop utilisation (0..1).
 */
export function parseNicRun(nic: IoResult["nic"], mode: IoResult["mode"], dir: IoDirection, frame: number, run: GuestRun, busy: number): IoResult {
  const m = dir === "tx" ? /tx: sent (\d+) frames of \d+ bytes in (\d+) us/.exec(run.output) : /rx: got (\d+) frames, \d+ bytes in (\d+) us/.exec(run.output);
  if (m === null) throw new Error(`bench io: the ${nic} guest said nothing measurable: ${run.output.trim()}`);
  const frames = Number(m[1]);
  const seconds = Number(m[2]) / 1e6;
  const pps = seconds > 0 ? frames / seconds : 0;
  return {
    nic,
    mode,
    dir,
    frame,
    mbps: (pps * frame * 8) / 1e6,
    pps,
    exitsPerPacket: frames > 0 ? run.exits / frames : 0,
    irqsPerPacket: frames > 0 ? run.irqs / frames : 0,
    mainBusyPct: busy * 100,
  };
}
