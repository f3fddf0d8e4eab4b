/*
 * The process's pool of block I/O workers (piscina), shared by every
 * virtio-blk device, as QEMU shares one AIO thread pool. Made on first use;
 * two threads by default (these machines have two cores), idle threads end
 * on their own so a finished run does not wait on them.
 */

import { Piscina } from "piscina";
import type { BlkIoTask } from "./blk-io.ts";

// Compiled (dist/, what bin/popek.js runs) the worker is blk-io.js beside this file; from the
// TypeScript sources (tests, development) a boot file registers tsx in the thread first.
const WORKER_ENTRY = import.meta.url.endsWith(".js")
  ? new URL("./blk-io.js", import.meta.url)
  : new URL("../../../workers/blk-io-boot.js", import.meta.url);
const MAX_THREADS = 2;
const IDLE_TIMEOUT_MS = 2_000;
/**
 * Tasks piscina hands one worker before it has taken that worker's earlier
 * results off the event loop. With its default of 1, a request that the
 * device already finished through its shared completion word (blk.ts) still
 * holds its worker until the main thread's event loop turns — up to a
 * millisecond in a busy service loop — and the next request waits for it.
 * The worker serves its messages in order either way.
 */
const TASKS_PER_WORKER = 64;

let pool: Piscina | undefined;

/** Runs one request on an I/O worker; resolves with the bytes moved. */
export async function runBlkIo(task: BlkIoTask): Promise<number> {
  pool ??= new Piscina({
    filename: WORKER_ENTRY.href,
    maxThreads: MAX_THREADS,
    minThreads: 0,
    idleTimeout: IDLE_TIMEOUT_MS,
    concurrentTasksPerWorker: TASKS_PER_WORKER,
  });
  const n: unknown = await pool.run(task);
  if (typeof n !== "number") throw new Error("blk-io: worker returned no byte count");
  return n;
}

/** Ends the pool's threads (tests, the end of a benchmark). */
export async function closeBlkIo(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.destroy();
}
