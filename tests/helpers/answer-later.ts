/*
 * A thread that answers a waiter later, as the hypervisor resumes a vCPU:
 * the wait-policy tests block on a word and need someone else to store the
 * answer into it after a delay.
 */

import { Worker } from "node:worker_threads";

export const WAITING = 1;
export const ANSWERED = 0;

/** Starts a thread that, after `delayMs`, stores ANSWERED into word 0 and notifies it; resolves with its exit code. */
export function answerLater(word: Int32Array, delayMs: number): Promise<number> {
  const source = `
    const { workerData } = require("node:worker_threads");
    const word = new Int32Array(workerData.buffer);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.delayMs);
    Atomics.store(word, 0, ${ANSWERED});
    Atomics.notify(word, 0);
  `;
  const worker = new Worker(source, { eval: true, workerData: { buffer: word.buffer, delayMs } });
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.once("exit", resolve);
  });
}
