/*
 * The vCPU side of the bare handoff (bench/handoff.ts): posts an "exit" by
 * storing 1 into the handoff word, waits until the main thread stores 0, and
 * records the round trip in nanoseconds. How it waits is the policy under test.
 *
 * Layout of the shared buffer is defined in handoff.ts (HANDOFF_*); this file
 * only follows it.
 */

import { parentPort, workerData } from "node:worker_threads";
import { HANDOFF_WORD, POSTED, RESUMED, type HandoffWorkerData } from "./handoff.ts";

/** Spins between two clock reads while polling: a clock read costs ~30 ns, a load a few. */
const POLL_SPINS_PER_CLOCK_CHECK = 64;

const data = workerData as HandoffWorkerData;
const word = new Int32Array(data.control);
const samples = new Float64Array(data.samples);

/** Waits for RESUMED by spinning on the word. */
function waitSpin(): void {
  while (Atomics.load(word, HANDOFF_WORD) !== RESUMED);
}

/** Waits for RESUMED asleep in the kernel (a futex wait); wakes by the main thread's notify. */
function waitBlock(): void {
  while (Atomics.load(word, HANDOFF_WORD) !== RESUMED) Atomics.wait(word, HANDOFF_WORD, POSTED);
}

/** Spins up to pollNs (like KVM's halt polling), then blocks. */
function waitPoll(): void {
  const deadline = performance.now() + data.pollNs / 1e6;
  for (;;) {
    for (let i = 0; i < POLL_SPINS_PER_CLOCK_CHECK; i++) {
      if (Atomics.load(word, HANDOFF_WORD) === RESUMED) return;
    }
    if (performance.now() >= deadline) break;
  }
  waitBlock();
}

const wait = data.policy === "spin" ? waitSpin : data.policy === "block" ? waitBlock : waitPoll;

function run(): void {
  const total = data.warmup + data.iterations;
  for (let i = 0; i < total; i++) {
    const start = performance.now();
    Atomics.store(word, HANDOFF_WORD, POSTED);
    if (data.notifyMain) Atomics.notify(word, HANDOFF_WORD);
    wait();
    const ns = (performance.now() - start) * 1e6;
    if (i >= data.warmup) samples[i - data.warmup] = ns;
  }
}

parentPort!.postMessage("ready");
run();
parentPort!.postMessage("done");
