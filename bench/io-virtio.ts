/*
 * The virtio-net rows of `popek bench io`: guests/bin/virtio-net-test.elf
 * sends 64- and 1514-byte frames to a sink, and receives them from a source,
 * each for a fixed time (bench/io-nic.ts), on the native board and under
 * --virt trap.
 *
 * The driver batches (guests/virtio-net-test/virtio_net.c): it fills every
 * free transmit slot, then notifies once, and only if the device asked
 * (EVENT_IDX avail_event); it keeps used_event far ahead while it polls and
 * asks for an interrupt only before it sleeps in wfi. So exits per packet
 * are a few per batch of up to 1024 frames under trap (the notify, a clock
 * read, and per sleep the wfi, the PLIC claim and complete and the
 * InterruptACK), and natively there are none to count.
 */

import { benchNic, type IoDirection, type IoResult, type NicBench } from "./io-nic.ts";

/** The source's rate for receive runs, per frame size: above what the guest takes, so it is the bottleneck. */
const SOURCE_PPS: Record<number, number> = { 64: 500_000, 1514: 250_000 };

const VIRTIO: NicBench = {
  kind: "virtio",
  sourcePps: (frame) => SOURCE_PPS[frame] ?? SOURCE_PPS[1514],
  // The driver always sleeps on the interrupt when its ring runs empty.
  rxIrq: false,
  startNet: "boot",
};

/** One direction, frame size and mode for `ms` milliseconds of guest time. */
export function benchVirtioNet(mode: IoResult["mode"], dir: IoDirection, frame: number, ms: number): Promise<IoResult> {
  return benchNic(VIRTIO, mode, dir, frame, ms);
}
