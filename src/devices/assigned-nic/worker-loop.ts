/*
 * The assigned NIC's thread: its engine (engine.ts) run in a loop of its
 * own, started by the device (nic.ts) with plain data and shared buffers.
 *
 * How it notices work is the lab's point: the guest's doorbells are plain
 * stores into the register page, which wake nobody, so the thread polls the
 * page — continuously while traffic flows (SPIN_MS after the last work),
 * then in naps of NAP_MS, from which the switch's bell (frames for the NIC)
 * wakes it at once. A guest that batches (many descriptors per doorbell)
 * loses nothing to the naps; one that waits for each frame waits a nap.
 *
 * Control from the owner's thread, in shared memory (never a message):
 *   [CTL_STOP]  non-zero: the loop ends
 *   [CTL_RESET] bumped: the engine goes back to power-on
 */

import { WorkerPort, type RemotePortHandle } from "../../net/remote-port.ts";
import type { PostedInterruptLine } from "../device.ts";
import { NicEngine } from "./engine.ts";
import { Iommu } from "./iommu.ts";
import { PAGE_BYTES } from "./regs.ts";

export const CTL_STOP = 0;
export const CTL_RESET = 1;
export const CTL_WORDS = 2;

/** How long the loop keeps polling after the last descriptor or frame moved, in ms. */
const SPIN_MS = 0.5;
/** Longest sleep between looks at the register page once idle, in ms. */
const NAP_MS = 0.25;

/** What the device's thread is started with (workerData). */
export interface NicWorkerData {
  /** The register page: PAGE_BYTES of `buffer` from `byteOffset`. */
  readonly pageBuffer: SharedArrayBuffer;
  readonly pageOffset: number;
  readonly machine: SharedArrayBuffer;
  readonly iommu: SharedArrayBuffer;
  readonly harts: readonly PostedInterruptLine[];
  readonly port: RemotePortHandle;
  readonly stats: SharedArrayBuffer;
  readonly control: SharedArrayBuffer;
}

/** Runs the device until CTL_STOP. */
export function runNicWorker(d: NicWorkerData): void {
  const page = new Int32Array(d.pageBuffer, d.pageOffset, PAGE_BYTES / 4);
  const port = new WorkerPort(d.port);
  const engine = new NicEngine(page, new Iommu(d.iommu, d.machine), d.machine, port, d.harts, d.stats);
  const control = new Int32Array(d.control);
  let resets = Atomics.load(control, CTL_RESET);
  let lastWork = performance.now();
  while (Atomics.load(control, CTL_STOP) === 0) {
    const r = Atomics.load(control, CTL_RESET);
    if (r !== resets) {
      engine.reset();
      resets = r;
    }
    const seq = port.seq;
    if (engine.step() > 0) {
      lastWork = performance.now();
      continue;
    }
    if (performance.now() - lastWork < SPIN_MS) continue;
    port.sleep(seq, NAP_MS);
  }
}
