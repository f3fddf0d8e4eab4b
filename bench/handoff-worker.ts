/*
 * The vCPU side of the bare handoff (bench/handoff.ts): posts an "exit" by
 * storing 1 into the handoff word, waits until the main thread stores 0, and
 * records the round trip in nanoseconds. How it waits is the policy under
 * test, with the vCPUs' own wait loops (src/hypervisor/wait.ts).
 *
 * Layout of the shared buffer is defined in handoff.ts (HANDOFF_*); this file
 * only follows it.
 */

import { parentPort, workerData } from "node:worker_threads";
import { WAIT_BLOCK, WAIT_POLL, WAIT_SPIN, waitWhile } from "../src/hypervisor/wait.ts";
import { HANDOFF_WORD, POSTED, type HandoffWorkerData } from "./handoff.ts";

const data = workerData as HandoffWorkerData;
const word = new Int32Array(data.control);
const samples = new Float64Array(data.samples);
const policy = data.policy === "spin" ? WAIT_SPIN : data.policy === "block" ? WAIT_BLOCK : WAIT_POLL;
const pollMs = data.pollNs / 1e6;

function run(): void {
  const total = data.warmup + data.iterations;
  for (let i = 0; i < total; i++) {
    const start = performance.now();
    Atomics.store(word, HANDOFF_WORD, POSTED);
    if (data.notifyMain) Atomics.notify(word, HANDOFF_WORD);
    waitWhile(word, HANDOFF_WORD, POSTED, policy, pollMs);
    const ns = (performance.now() - start) * 1e6;
    if (i >= data.warmup) samples[i - data.warmup] = ns;
  }
}

parentPort!.postMessage("ready");
run();
parentPort!.postMessage("done");
