/*
 * The assigned-NIC rows of `popek bench io`: guests/bin/assigned-test.elf
 * under --virt trap sends 64- and 1514-byte frames to a sink, and receives
 * them from a source, each for a fixed time (bench/io-nic.ts). The driver's
 * register page is mapped into the guest and its doorbells are stores the
 * NIC's own thread polls for, so the exits left are the guest's clock reads
 * (one per 1024 frames) and its console; it polls its rings rather than
 * sleeping, so it takes no interrupt. Main-thread busy time is the switch
 * and the endpoint (the sink counting, the source sending), which run there.
 */

import { benchNic, type IoDirection, type IoResult, type NicBench } from "./io-nic.ts";

const ASSIGNED: NicBench = {
  kind: "assigned",
  // The most the source's 1-ms timer sends (1024 a tick), so the guest or the path is the bottleneck.
  sourcePps: () => 1_000_000,
  rxIrq: false,
  // Once the driver is up (its buffers posted), not while the VM boots.
  startNet: "ready",
};

/** One direction and frame size for `ms` milliseconds of guest time. */
export function benchAssigned(dir: IoDirection, frame: number, ms: number): Promise<IoResult> {
  return benchNic(ASSIGNED, "trap", dir, frame, ms);
}
