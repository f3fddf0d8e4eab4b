/*
 * The exit-latency floor: a bare worker -> main -> worker round trip over one
 * SharedArrayBuffer Int32 word, with nothing else in it. A VM exit through the
 * run page (src/hypervisor/runpage.ts) can never be cheaper than this, so
 * `bench exits` reports each exit's cost as a ratio to it (DESIGN.md, "Waiting
 * is a policy").
 *
 * One round trip, as the worker times it:
 *   worker: t0; store POSTED (1); [notify, only if main waits asynchronously]
 *   main:   sees POSTED; store RESUMED (0); [notify, if the worker may sleep]
 *   worker: sees RESUMED (how: the policy); t1; sample = t1 - t0
 *
 * What each policy measures (the worker's wait; the main thread's is `main`):
 *   spin   the worker spins on Atomics.load. With main = "spin" both threads
 *          spin on their own core: the cost is moving one cache line there and
 *          back plus the loops — the floor of the floor.
 *   block  the worker sleeps in Atomics.wait and is woken by Atomics.notify:
 *          the cost adds a futex wake-up and the scheduler putting the worker
 *          back on a core.
 *   poll   the worker spins up to `pollNs` and then blocks (KVM's halt
 *          polling). When the main thread answers within the budget, as it
 *          always does here, this measures the spin path plus the clock reads
 *          of the poll loop; `pollNs: 0` makes it block at once.
 * The main thread:
 *   spin   (default) spins on Atomics.load for the whole run, its event loop
 *          stalled: a clean floor where only the worker's policy varies. Fine
 *          for a benchmark; the hypervisor's main thread cannot do this for
 *          long, since devices and timers need its event loop.
 *   async  waits with Atomics.waitAsync (event loop free, the worker notifies):
 *          what a main thread that also serves an event loop pays per exit.
 *
 * On a 2-core machine with the main thread spinning, a spinning worker takes
 * the second core: anything else running (another vCPU, a test runner) makes
 * both numbers jump. That is the measurement, not noise to hide.
 *
 * Measured on these 2-core machines, Node 20, 100,000 round trips (median / p99):
 *   main spin:  spin 0.35-0.40 / 0.5 µs   block 18 / 45 µs (idle machine; 4-5 µs
 *               when the machine was busy: the sleeping side's core was not idle)
 *               poll(50 µs) 0.35 µs / 0.5-540 µs
 *   main async: 7-8 µs median for every worker policy, p99 70-100 µs
 * Under load (another process spinning) poll's median rose to 55 µs: a
 * descheduled poller overruns its budget in wall time and then blocks.
 *
 * Running TypeScript workers: on Node 20 a Worker spawned with execArgv
 * ["--import", "tsx"] fails with ERR_UNKNOWN_FILE_EXTENSION for its .ts entry
 * (checked under `npx tsx`, `node --import tsx` and vitest: the worker's
 * --import hooks are not in place for its own entry module), and so does a
 * worker that inherits the parent's execArgv. What works everywhere (npx tsx,
 * npx popek, vitest, any cwd) is an eval'd bootstrap that registers tsx's
 * ESM hooks through its API, resolved to an absolute URL here, and then
 * imports the .ts entry: see startWorkerModule. (tsx's CommonJS API does not work
 * from an eval'd worker: it looks for its ESM half at a wrong path.)
 */

import { Worker } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import * as hdr from "hdr-histogram-js";

export type HandoffPolicy = "spin" | "block" | "poll";
type HandoffMainWait = "spin" | "async";

export interface HandoffOptions {
  /** How the main thread waits for the worker's post (default "spin"). */
  readonly main?: HandoffMainWait;
  /** Poll policy: how long the worker spins before it blocks, ns (default 50 µs). */
  readonly pollNs?: number;
  /** Round trips run before measuring, so both loops are optimised (default min(2000, iterations)). */
  readonly warmup?: number;
}

export interface HandoffResult {
  readonly policy: HandoffPolicy;
  readonly main: HandoffMainWait;
  readonly iterations: number;
  readonly medianNs: number;
  readonly p99Ns: number;
  readonly meanNs: number;
  readonly maxNs: number;
}

/** The shared control buffer: one Int32 word. */
export const HANDOFF_WORD = 0;
const CONTROL_WORDS = 1;
/** Values of the handoff word. */
const RESUMED = 0;
export const POSTED = 1;

/** What the worker gets (structured-cloned; the SharedArrayBuffers are shared). */
export interface HandoffWorkerData {
  readonly control: SharedArrayBuffer;
  readonly samples: SharedArrayBuffer;
  readonly policy: HandoffPolicy;
  readonly iterations: number;
  readonly warmup: number;
  readonly pollNs: number;
  /** The main thread sleeps in waitAsync: the worker must notify after posting. */
  readonly notifyMain: boolean;
}

const DEFAULT_POLL_NS = 50_000;
const DEFAULT_WARMUP = 2000;
/** A worker that has not posted for this long is stuck (or died): give up. */
const STALL_MS = 10_000;
/** Spins between clock checks while the main thread spins. */
const SPINS_PER_STALL_CHECK = 1 << 16;
/** Compiled (dist/), this file is .js and so is its worker; from the sources both are .ts. */
const COMPILED = import.meta.url.endsWith(".js");
const WORKER_URL = new URL(COMPILED ? "./handoff-worker.js" : "./handoff-worker.ts", import.meta.url);

/** A worker running `entry`: from the sources, registers tsx in the worker first. */
function startWorkerModule(entry: URL, workerData: unknown): Worker {
  if (COMPILED) return new Worker(entry, { workerData });
  // tsx's ESM API, resolved from this file so the bootstrap does not depend on the cwd.
  const TSX_API = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

function startWorker(data: HandoffWorkerData): Promise<Worker> {
  const worker = startWorkerModule(WORKER_URL, data);
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`handoff: worker exited with ${code} before starting`)));
    worker.once("message", () => {
      worker.removeAllListeners("exit");
      worker.removeAllListeners("error");
      resolve(worker);
    });
  });
}

/** Serves `total` posts by spinning; throws if the worker stalls. */
function serveSpinning(word: Int32Array, total: number, notifyWorker: boolean): void {
  for (let served = 0; served < total; served++) {
    let spins = 0;
    let lastPost = performance.now();
    while (Atomics.load(word, HANDOFF_WORD) !== POSTED) {
      if (++spins === SPINS_PER_STALL_CHECK) {
        spins = 0;
        const now = performance.now();
        if (now - lastPost > STALL_MS) throw new Error(`handoff: worker stalled after ${served} round trips`);
      }
    }
    lastPost = performance.now();
    Atomics.store(word, HANDOFF_WORD, RESUMED);
    if (notifyWorker) Atomics.notify(word, HANDOFF_WORD);
  }
}

/** Serves `total` posts with Atomics.waitAsync, leaving the event loop free between them. */
async function serveAsync(word: Int32Array, total: number, notifyWorker: boolean): Promise<void> {
  for (let served = 0; served < total; served++) {
    const w = Atomics.waitAsync(word, HANDOFF_WORD, RESUMED, STALL_MS);
    if (w.async && (await w.value) === "timed-out") throw new Error(`handoff: worker stalled after ${served} round trips`);
    Atomics.store(word, HANDOFF_WORD, RESUMED);
    if (notifyWorker) Atomics.notify(word, HANDOFF_WORD);
  }
}

/**
 * Median and tail of the samples, through an HDR histogram (3 significant
 * digits). A percentile comes back as the top of its bucket, up to 0.1 %
 * above the samples in it, while the maximum is exact: when the tail shares
 * the maximum's bucket (a loaded host makes the slowest round trips alike),
 * the percentile is capped at the maximum, which no percentile exceeds.
 */
export function summarise(samples: Float64Array): { medianNs: number; p99Ns: number; meanNs: number; maxNs: number } {
  const h = hdr.build({ useWebAssembly: false, numberOfSignificantValueDigits: 3 });
  try {
    for (const ns of samples) h.recordValue(Math.max(1, Math.round(ns)));
    const maxNs = h.maxValue;
    const at = (percentile: number): number => Math.min(h.getValueAtPercentile(percentile), maxNs);
    return { medianNs: at(50), p99Ns: at(99), meanNs: h.mean, maxNs };
  } finally {
    h.destroy();
  }
}

/** Runs `iterations` measured round trips with the worker waiting by `policy`. */
export async function measureHandoff(policy: HandoffPolicy, iterations: number, options: HandoffOptions = {}): Promise<HandoffResult> {
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError(`handoff: iterations ${iterations} is not a positive integer`);
  const main = options.main ?? "spin";
  const data: HandoffWorkerData = {
    control: new SharedArrayBuffer(CONTROL_WORDS * Int32Array.BYTES_PER_ELEMENT),
    samples: new SharedArrayBuffer(iterations * Float64Array.BYTES_PER_ELEMENT),
    policy,
    iterations,
    warmup: options.warmup ?? Math.min(DEFAULT_WARMUP, iterations),
    pollNs: options.pollNs ?? DEFAULT_POLL_NS,
    notifyMain: main === "async",
  };
  const word = new Int32Array(data.control);
  const notifyWorker = policy !== "spin";
  const worker = await startWorker(data);
  const finished = new Promise<void>((resolve, reject) => {
    worker.once("error", reject);
    worker.once("exit", () => resolve());
  });
  try {
    const total = data.warmup + iterations;
    if (main === "spin") serveSpinning(word, total, notifyWorker);
    else await serveAsync(word, total, notifyWorker);
    await finished;
  } finally {
    await worker.terminate();
  }
  return { policy, main, iterations, ...summarise(new Float64Array(data.samples)) };
}

/** One line per result, e.g. `handoff spin/main-spin: median 312 ns  p99 1.20 µs  (100000 round trips)`. */
export function formatHandoff(r: HandoffResult): string {
  const ns = (v: number): string => (v < 1000 ? `${v.toFixed(0)} ns` : `${(v / 1000).toFixed(2)} µs`);
  return `handoff ${r.policy}/main-${r.main}: median ${ns(r.medianNs)}  p99 ${ns(r.p99Ns)}  mean ${ns(r.meanNs)}  (${r.iterations} round trips)`;
}

// `npx tsx bench/handoff.ts [iterations]`: every policy, both main-thread waits.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const iterations = Number(process.argv[2] ?? 100_000);
  for (const main of ["spin", "async"] as const) {
    for (const policy of ["spin", "block", "poll"] as const) {
      process.stdout.write(formatHandoff(await measureHandoff(policy, iterations, { main })) + "\n");
    }
  }
}
