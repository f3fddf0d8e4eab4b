/*
 * A directly assigned NIC's "hardware": one worker thread per device
 * (src/devices/assigned-nic/). It runs until its owner stops it through
 * shared memory or ends the thread.
 */

import { workerData } from "node:worker_threads";
import { runNicWorker, type NicWorkerData } from "../src/devices/assigned-nic/worker-loop.ts";

runNicWorker(workerData as NicWorkerData);
