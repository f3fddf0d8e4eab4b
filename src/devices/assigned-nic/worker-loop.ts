/*
 * The assigned NIC's thread: its engine (engine.ts) run in a loop of its
 * own, started by the device (nic.ts) with plain data and shared buffers.
 *
 * How it notices work is the lab's point: the guest's doorbells are plain
 * stores into the register page, which wake nobody, so the thread polls the
 * page. It never spins: on a host with fewer cores than busy threads a
 * spinning device thread takes the core the vCPU or the switch needs. After
 * a look that found work it looks again at once; after one that found
 * nothing it sleeps (Atomics.wait) for a nap of NAP_MIN_MS while traffic
 * flowed within BUSY_MS (a driver refilling its TX ring, or posting receive
 * buffers for frames that wait, never waits long), then for naps that double
 * with each idle look up to NAP_MAX_MS, as adaptive interrupt moderation
 * does, so an idle link costs a few thousand short wake-ups a second. The
 * switch's bell wakes it at once — frames for the NIC, or room again in the
 * switch's ring after the device found it full (remote-port.ts NEED_ROOM).
 *
 * Control from the owner's thread, in shared memory (never a message):
 *   [CTL_STOP]  non-zero: the loop ends
 *   [CTL_RESET] bumped: the engine goes back to power-on
 */

import { CodeWriteLog, type CodeWriteShare } from "../../machine/code-writes.ts";
import { WorkerPort, type RemotePortHandle } from "../../net/remote-port.ts";
import type { PostedInterruptLine } from "../device.ts";
import { NicEngine } from "./engine.ts";
import { Iommu } from "./iommu.ts";
import { PAGE_BYTES } from "./regs.ts";

export const CTL_STOP = 0;
export const CTL_RESET = 1;
export const CTL_WORDS = 2;

/** The first nap after work, in ms: a driver refilling its ring finds the device back within it. */
const NAP_MIN_MS = 0.05;
/** For this long after the last work, in ms, naps stay at NAP_MIN_MS; then they grow. */
const BUSY_MS = 2;
/** The longest nap, in ms: an idle device looks at its page this often. */
const NAP_MAX_MS = 0.5;

/** What the device's thread is started with (workerData). */
export interface NicWorkerData {
  /** The register page: PAGE_BYTES of `buffer` from `byteOffset`. */
  readonly pageBuffer: SharedArrayBuffer;
  readonly pageOffset: number;
  readonly machine: SharedArrayBuffer;
  /** The DMA-reachable part of `machine` (DirectAttachment.machineBytes). */
  readonly machineBytes: number;
  readonly iommu: SharedArrayBuffer;
  /** DirectAttachment.codeWrites. */
  readonly codeWrites?: CodeWriteShare;
  readonly harts: readonly PostedInterruptLine[];
  readonly port: RemotePortHandle;
  readonly stats: SharedArrayBuffer;
  readonly control: SharedArrayBuffer;
}

/** Runs the device until CTL_STOP. */
export function runNicWorker(d: NicWorkerData): void {
  const page = new Int32Array(d.pageBuffer, d.pageOffset, PAGE_BYTES / 4);
  const port = new WorkerPort(d.port);
  const codeWrites = d.codeWrites === undefined ? undefined : new CodeWriteLog(d.codeWrites, d.machine);
  const engine = new NicEngine(page, new Iommu(d.iommu, d.machine, d.machineBytes), d.machine, port, d.harts, d.stats, codeWrites);
  const control = new Int32Array(d.control);
  let resets = Atomics.load(control, CTL_RESET);
  let nap = NAP_MIN_MS;
  let lastWork = performance.now();
  while (Atomics.load(control, CTL_STOP) === 0) {
    const r = Atomics.load(control, CTL_RESET);
    if (r !== resets) {
      engine.reset();
      resets = r;
    }
    const seq = port.seq;
    if (engine.step() > 0) {
      nap = NAP_MIN_MS;
      lastWork = performance.now();
      continue;
    }
    port.sleep(seq, nap);
    // Traffic flowed a moment ago (the driver is refilling its ring, or posting receive buffers for frames that wait): keep looking often.
    nap = performance.now() - lastWork < BUSY_MS ? NAP_MIN_MS : Math.min(nap * 2, NAP_MAX_MS);
  }
}
