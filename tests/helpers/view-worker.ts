/*
 * Runs on a worker thread, as a vCPU or a device back-end would: builds a
 * VM's GuestMemoryView from the shared buffers alone and reports what it
 * sees. Its only channel to the main thread is the one message it posts at
 * the end, so whatever it translated, it translated without asking.
 */

import { parentPort, workerData } from "node:worker_threads";
import { GuestPhysView, type GuestPhysMap } from "../../src/machine/guest-phys-view.ts";

interface ViewProbe {
  readonly machine: SharedArrayBuffer;
  readonly map: GuestPhysMap;
  readonly gpas: readonly number[];
}

const probe = workerData as ViewProbe & { entry: string };
const view = new GuestPhysView(probe.machine, probe.map);
parentPort?.postMessage({
  translated: probe.gpas.map((gpa) => view.translate(gpa, 4)),
  read: probe.gpas.map((gpa) => view.readU32(gpa)),
  write: probe.gpas.map((gpa) => view.writeU32(gpa, 0x600d_f00d)),
});
