/*
 * One NIC row of `popek bench io`: a NIC test program (bench/nic-guest.ts)
 * sends frames of one size to a sink, or receives them from a source, for a
 * fixed time of guest time. The guest times itself (mtime) and says how many
 * frames moved; the run's exits and the NIC's interrupts are divided by
 * those frames, and the main thread's event-loop utilisation over the run is
 * how busy the device emulation, the switch and the endpoint kept it. Each
 * NIC's own facts (its source rate, when its source starts) are in
 * bench/io-ne2000.ts, io-virtio.ts and io-assigned.ts.
 */

import { performance } from "node:perf_hooks";
import { parseMac } from "../src/net/ethernet.ts";
import { VirtualNetwork } from "../src/net/netdevs.ts";
import { runNicGuest, type NicKind } from "./nic-guest.ts";

const GUEST_MAC = parseMac("52:54:00:12:34:56");
/** Frames the guest is asked for: more than any run moves, so the time limit ends it. */
const UNBOUNDED = 100_000_000;
/** A hang-catcher beyond the run's own time: start-up, and a loaded machine. */
const SLACK_S = 120;

export type IoDirection = "tx" | "rx";

/** One row of `bench io`, as the JSON results name it. */
export interface IoResult {
  readonly nic: NicKind;
  /** The native board (no exits exist) or a VM under --virt trap. */
  readonly mode: "native" | "trap";
  readonly dir: IoDirection;
  /** Frame size in bytes. */
  readonly frame: number;
  readonly mbps: number;
  readonly pps: number;
  /** Every VM exit of the run (initialisation included) per frame moved. */
  readonly exitsPerPacket: number;
  /** Rises of the NIC's interrupt per frame. */
  readonly irqsPerPacket: number;
  /** The main thread's event-loop utilisation during the run, in percent. */
  readonly mainBusyPct: number;
}

/** How one NIC kind is measured. */
export interface NicBench {
  readonly kind: NicKind;
  /** The source's rate for a receive run of `frame`-byte frames, frames per second: above what the guest takes, so it is the bottleneck. */
  sourcePps(frame: number): number;
  /** Whether a receive run is told `irq` to sleep on the NIC's interrupt (the NE2000's driver polls otherwise; virtio-net's always sleeps). */
  readonly rxIrq: boolean;
  /** When the source starts: as the machine boots, or once the driver is up (bench/nic-guest.ts startNet). */
  readonly startNet: "boot" | "ready";
}

/** One direction, frame size and mode for `ms` milliseconds of guest time. */
export async function benchNic(b: NicBench, mode: IoResult["mode"], dir: IoDirection, frame: number, ms: number): Promise<IoResult> {
  const net = new VirtualNetwork();
  const netdev = dir === "tx" ? "sink,id=io" : `source,id=io,size=${frame},pps=${b.sourcePps(frame)}`;
  const append = dir === "tx" ? `tx ${UNBOUNDED} ${frame} ${ms}` : `rx ${UNBOUNDED} ${ms}${b.rxIrq ? " irq" : ""}`;
  const elu = performance.eventLoopUtilization();
  try {
    const run = await runNicGuest({ kind: b.kind, mode, net, netdev, mac: GUEST_MAC, append, timeoutSeconds: SLACK_S + ms / 1000, startNet: b.startNet });
    const busy = performance.eventLoopUtilization(elu).utilization;
    if (run.exitCode !== 0) throw new Error(`bench io: the ${b.kind} guest "${append}"${mode === "trap" ? " under trap" : ""} ended with ${run.exitCode}: ${run.output.trim()}`);
    return parseNicRun(b.kind, mode, dir, frame, run, busy);
  } finally {
    net.close();
  }
}

/**
 * A row from a NIC guest's own report (the three print the same lines,
 * guests/common/nic-loop.c: `tx: sent N frames of S bytes in U us`, `rx: got
 * N frames, B bytes in U us`), the run's exits and interrupts, and the main
 * thread's event-loop utilisation (0..1).
 */
function parseNicRun(nic: NicKind, mode: IoResult["mode"], dir: IoDirection, frame: number, run: { readonly output: string; readonly exits: number; readonly irqs: number }, busy: number): IoResult {
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
