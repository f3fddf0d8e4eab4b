/*
 * The assigned-NIC rows of `popek bench io`: guests/bin/assigned-test.elf
 * under --virt trap sends 64- and 1514-byte frames to a sink, and receives
 * them from a source, each for a fixed time. The driver's register page is
 * mapped into the guest and its doorbells are stores the NIC's own thread
 * polls for, so the exits left are the guest's clock reads (one per 1024
 * frames) and its console; it polls its rings rather than sleeping, so it
 * takes no interrupt. Main-thread busy time is the switch and the endpoint
 * (the sink counting, the source sending), which run there.
 */

import { performance } from "node:perf_hooks";
import { AssignedNic } from "../src/devices/assigned-nic/nic.ts";
import { Hypervisor } from "../src/hypervisor/hypervisor.ts";
import { boardDevices } from "../src/machine/board-devices.ts";
import { readImageFile } from "../src/machine/image.ts";
import { parseMac } from "../src/net/ethernet.ts";
import { parseNetdev, VirtualNetwork } from "../src/net/netdevs.ts";
import type { IoDirection, IoResult } from "./io-ne2000.ts";

const IMAGE = "guests/bin/assigned-test.elf";
const MEM = 16 * 2 ** 20;
const GUEST_MAC = parseMac("52:54:00:12:34:56");
/** Frames the guest is asked for: more than any run moves, so the time limit ends it. */
const UNBOUNDED = 100_000_000;
/** The source's rate for receive runs: the most its 1-ms timer sends (1024 a tick), so the guest or the path is the bottleneck. */
const SOURCE_PPS = 1_000_000;

interface GuestRun {
  readonly output: string;
  readonly exits: number;
  readonly irqs: number;
}

async function runGuest(net: VirtualNetwork, netdev: string, append: string): Promise<GuestRun> {
  const hv = new Hypervisor({ machineMemory: MEM + 16 * 2 ** 20 });
  let output = "";
  let started = false;
  const vm = hv.createVm({
    name: "assigned-bench",
    vcpus: 1,
    memSize: MEM,
    images: { bios: { kind: "none" }, kernel: readImageFile(IMAGE, "kernel"), append },
    wait: "poll",
    exitHandler: "main",
    output: (b) => {
      output += String.fromCharCode(b);
      // The source starts once the driver is up (its buffers posted), not while the VM boots.
      if (!started && b === 10 && output.includes("anic: mac")) {
        started = true;
        net.start();
      }
    },
    devices: boardDevices({ assigned: [{ port: net.attachRemote(parseNetdev(netdev)), mac: GUEST_MAC }] }),
  });
  const nic = vm.devices.instances.map((i) => i.device).find((d): d is AssignedNic => d instanceof AssignedNic);
  hv.start(vm);
  const result = await vm.result;
  net.close();
  if (result.exitCode !== 0) throw new Error(`bench io: assigned-test "${append}" ended with ${result.exitCode}: ${output.trim()}`);
  const exits = result.reports.reduce((s, r) => s + r.stats.exits, 0);
  return { output, exits, irqs: nic?.counters().irqs ?? 0 };
}

/** One direction and frame size for `ms` milliseconds of guest time. */
export async function benchAssigned(dir: IoDirection, frame: number, ms: number): Promise<IoResult> {
  const net = new VirtualNetwork();
  const elu = performance.eventLoopUtilization();
  const run =
    dir === "tx"
      ? await runGuest(net, "sink,id=io", `tx ${UNBOUNDED} ${frame} ${ms}`)
      : await runGuest(net, `source,id=io,size=${frame},pps=${SOURCE_PPS}`, `rx ${UNBOUNDED} ${ms}`);
  const busy = performance.eventLoopUtilization(elu).utilization;
  const m = dir === "tx" ? /tx: sent (\d+) frames of \d+ bytes in (\d+) us/.exec(run.output) : /rx: got (\d+) frames, \d+ bytes in (\d+) us/.exec(run.output);
  if (m === null) throw new Error(`bench io: assigned-test said nothing measurable: ${run.output.trim()}`);
  const frames = Number(m[1]);
  const seconds = Number(m[2]) / 1e6;
  const pps = seconds > 0 ? frames / seconds : 0;
  return {
    nic: "assigned",
    mode: "trap",
    dir,
    frame,
    mbps: (pps * frame * 8) / 1e6,
    pps,
    exitsPerPacket: frames > 0 ? run.exits / frames : 0,
    irqsPerPacket: frames > 0 ? run.irqs / frames : 0,
    mainBusyPct: busy * 100,
  };
}
