/*
 * The process's pool of block I/O workers (piscina), shared by every
 * virtio-blk device, as QEMU shares one AIO thread pool. Made on first use;
 * two threads by default (these machines have two cores), idle threads end
 * on their own so a finished run does not wait on them.
 */

import { Piscina } from "piscina";
import type { BlkIoTask, BlkServeTask } from "./blk-io.ts";

// Compiled (dist/, what bin/popek.js runs) the worker is blk-io.js beside this file; from the
// TypeScript sources (tests, development) a boot file registers tsx in the thread first.
const WORKER_ENTRY = import.meta.url.endsWith(".js")
  ? new URL("./blk-io.js", import.meta.url)
  : new URL("../../../workers/blk-io-boot.js", import.meta.url);
const MAX_THREADS = 2;
const IDLE_TIMEOUT_MS = 2_000;
/**
 * One task per worker at a time: a ring server (BlkServeTask) keeps its
 * thread busy for a whole spell, and piscina, allowed more, would queue a
 * second server on that busy thread instead of starting the idle one.
 */
const TASKS_PER_WORKER = 1;

let pool: Piscina | undefined;

/** Runs one request on an I/O worker; resolves with the bytes moved. */
export async function runBlkIo(task: BlkIoTask): Promise<number> {
  const n: unknown = await blkPool().run(task);
  if (typeof n !== "number") throw new Error("blk-io: worker returned no byte count");
  return n;
}

/** Runs a spell of serving a device's submission ring on an I/O worker; resolves with the requests served. */
export async function runBlkServe(task: BlkServeTask): Promise<number> {
  const n: unknown = await blkPool().run(task);
  if (typeof n !== "number") throw new Error("blk-io: ring server returned no count");
  return n;
}

/** The I/O workers' threads. */
export const BLK_IO_THREADS = MAX_THREADS;

function blkPool(): Piscina {
  return (pool ??= new Piscina({
    filename: WORKER_ENTRY.href,
    maxThreads: MAX_THREADS,
    minThreads: 0,
    idleTimeout: IDLE_TIMEOUT_MS,
    concurrentTasksPerWorker: TASKS_PER_WORKER,
  }));
}

/** Ends the pool's threads (tests, the end of a benchmark). */
export async function closeBlkIo(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.destroy();
}
