/*
 * A directly assigned NIC's "hardware": one worker thread per device
 * (src/devices/assigned-nic/). It runs until its owner stops it through
 * shared memory or ends the thread.
 */

import { workerData } from "node:worker_threads";
import { unpinInherited } from "../src/host/affinity.ts";
import { runNicWorker, type NicWorkerData } from "../src/devices/assigned-nic/worker-loop.ts";

// Started by a pinned main thread (--pin), this thread would share its one core: it takes the process's back.
unpinInherited();
runNicWorker(workerData as NicWorkerData);
