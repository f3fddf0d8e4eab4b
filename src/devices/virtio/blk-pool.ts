/*
 * The process's pool of block I/O workers (piscina), shared by every
 * virtio-blk device, as QEMU shares one AIO thread pool. Made on first use;
 * two threads by default (these machines have two cores), idle threads end
 * on their own so a finished run does not wait on them.
 */

import type { Piscina } from "piscina";
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

/** Runs one request on an I/O worker; resolves with the bytes moved. */
export function runBlkIo(task: BlkIoTask): Promise<number> {
  const result = pool !== undefined ? pool.run(task) : preloadBlkIo().then((p) => p.run(task));
  return result.then((n: unknown) => {
    if (typeof n !== "number") throw new Error("blk-io: worker returned no byte count");
    return n;
  });
}

/** Ends the pool's threads (tests, the end of a benchmark). */
export async function closeBlkIo(): Promise<void> {
  const load = loading;
  pool = undefined;
  loading = undefined;
  await (await load)?.destroy();
}
