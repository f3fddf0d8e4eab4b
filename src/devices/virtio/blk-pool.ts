/*
 * The process's pool of block I/O workers (piscina), shared by every
 * virtio-blk device, as QEMU shares one AIO thread pool. Made on first use;
 * two threads by default (these machines have two cores), idle threads end
 * on their own so a finished run does not wait on them.
 */

import type { Piscina } from "piscina";
import type { BlkIoTask, BlkServeTask } from "./blk-io.ts";
import type { BlkVhostTask } from "./blk-vhost-worker.ts";

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

// piscina is imported when a disk is made (preloadBlkIo), not with this module: a run without a
// disk does not pay its ~10 ms of loading at start-up (issue 17). Once loaded, a request reaches
// its worker synchronously, so a main thread that never yields still gets its completions.
let pool: Piscina | undefined;
let loading: Promise<Piscina> | undefined;

/** Starts loading the pool (a virtio-blk device does when it is made), so the first request finds it ready. */
export function preloadBlkIo(): Promise<Piscina> {
  if (loading !== undefined) return loading;
  const load: Promise<Piscina> = import("piscina").then(({ Piscina }) => {
    const made = new Piscina({
      filename: WORKER_ENTRY.href,
      maxThreads: MAX_THREADS,
      minThreads: 0,
      idleTimeout: IDLE_TIMEOUT_MS,
      concurrentTasksPerWorker: TASKS_PER_WORKER,
    });
    // A closeBlkIo while piscina was loading has dropped this load: closeBlkIo destroys `made`.
    if (loading === load) pool = made;
    return made;
  });
  loading = load;
  // Nobody may be waiting on a preload; a failure to load is reported by the request that needs it.
  load.catch(() => {});
  return load;
}

/** Runs one task on the pool, loading it first if a device has not yet (then the task waits for the load). */
function runOnPool(task: BlkIoTask | BlkServeTask | BlkVhostTask): Promise<unknown> {
  return pool !== undefined ? pool.run(task) : preloadBlkIo().then((p) => p.run(task));
}

/** Runs one request on an I/O worker; resolves with the bytes moved. */
export function runBlkIo(task: BlkIoTask): Promise<number> {
  return runOnPool(task).then((n: unknown) => {
    if (typeof n !== "number") throw new Error("blk-io: worker returned no byte count");
    return n;
  });
}

/** Runs a spell of serving a device's submission ring on an I/O worker; resolves with the requests served. */
export function runBlkServe(task: BlkServeTask): Promise<number> {
  return runOnPool(task).then((n: unknown) => {
    if (typeof n !== "number") throw new Error("blk-io: ring server returned no count");
    return n;
  });
}

/** Runs a spell of serving a device's queue in vhost mode (blk-vhost-worker.ts); resolves with the requests served. */
export function runBlkVhost(task: BlkVhostTask): Promise<number> {
  return runOnPool(task).then((n: unknown) => {
    if (typeof n !== "number") throw new Error("blk-io: vhost spell returned no count");
    return n;
  });
}

/** The I/O workers' threads. */
export const BLK_IO_THREADS = MAX_THREADS;

/** Ends the pool's threads (tests, the end of a benchmark). */
export async function closeBlkIo(): Promise<void> {
  const load = loading;
  pool = undefined;
  loading = undefined;
  await (await load)?.destroy();
}
