/*
 * The NE2000 rows of `popek bench io`: guests/bin/ne2000-test.elf under
 * --virt trap sends 64- and 1514-byte frames to a sink, and receives them
 * from a source, each for a fixed time (bench/io-nic.ts). The VM's counters
 * give the exits, the card's the interrupts. The transmitting guest polls ISR
 * for PTX; the receiving one sleeps in wfi until the card's PLIC interrupt
 * when its ring is empty, as an interrupt-driven driver does.
 */

import { benchNic, type IoDirection, type IoResult, type NicBench } from "./io-nic.ts";

const NE2000: NicBench = {
  kind: "ne2000",
  // Above what the emulated card takes, so the guest is the bottleneck.
  sourcePps: () => 20_000,
  rxIrq: true,
  startNet: "boot",
};

/** One direction and frame size for `ms` milliseconds of guest time. */
export function benchNe2000(dir: IoDirection, frame: number, ms: number): Promise<IoResult> {
  return benchNic(NE2000, "trap", dir, frame, ms);
}
