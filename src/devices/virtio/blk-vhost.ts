/*
 * virtio-blk's vhost mode under a hypervisor: one I/O worker takes the
 * request queue over from the main thread — it pops the available ring,
 * checks each chain (blk-request.ts, the same rules the main thread
 * applies), moves the bytes and returns the request (blk-used.ts), as
 * Linux's vhost-blk thread serves a queue for KVM. A notify only bumps
 * KICK and wakes the worker if it sleeps: from the main thread after a
 * QueueNotify exit, or from the vCPU's own thread without any exit
 * (ioeventfd, vcpu-runner.ts), so the main thread leaves the data path.
 *
 * Why: under --virt trap on these 2-core hosts the main thread was a hop
 * in every batch of requests (answer the notify's exit, check the chains,
 * hand them to a worker), and each hop waited for a scheduler slice when
 * the vCPU and the workers had the cores (bench io, blk rows).
 *
 * What stays on the main thread: the interrupt (blk-used.ts IRQ), stopping
 * the device when the worker finds a chain that breaks the rules (FAIL:
 * the worker stops at once, the main thread sets DEVICE_NEEDS_RESET), and
 * the requests a worker cannot serve alone (HANDBACK: a buffer in RAM the
 * guest never touched, which only the main thread may back with a frame;
 * GET_ID). The main thread launches the worker's spells (piscina tasks)
 * and owns GEN: a reset or failure sets it to 0 and the worker stops.
 *
 * Layout: Int32 words of one SharedArrayBuffer, defined here once (both
 * threads use these offsets; "W" the worker writes, "M" the main thread,
 * "V" a vCPU thread):
 *
 *   [0] GEN         generation served, 0: disarmed                     (M)
 *   [1] KICK        bumped by every notify                             (M, V)
 *   [2] SLEEPERS    a worker asleep on KICK, or about to be            (W)
 *   [3] ACTIVE      spells running (inside their loop)                 (W)
 *   [4] LAST_AVAIL  the next available-ring entry the worker takes     (W; M while disarmed)
 *   [5] FAIL        0, or 1 + VIRTQ_ERROR_KINDS index: the worker stopped the queue (W; M clears)
 *   [6] HANDBACK    0, or head + 1: a chain popped for the main thread to serve (W; M clears)
 *   [7] BUSY_HEAD   0; BUSY_POPPING while the worker pops; else head + 1 of the
 *                   request between pop and return (W). The worker sets it before it
 *                   looks at GEN, the main thread clears GEN before it waits for 0
 *                   (quiesce): so no guest memory is touched after the wait ends.
 *   [8] DONE        completion word of that request (blk-io.ts DONE_*; a push sets it under the used ring's lock)
 *   [9] NOTIFIES    notifies taken without an exit                     (V)
 *   [16..]          Float64 counters: requests, bytes read, bytes written, requests
 *                   served by a merged read (W)
 */

import { DONE_PENDING } from "./blk-status.ts";
import { VIRTQ_ERROR_KINDS, VirtqError } from "./errors.ts";

const GEN = 0;
const KICK = 1;
const SLEEPERS = 2;
const ACTIVE = 3;
const LAST_AVAIL = 4;
const FAIL = 5;
const HANDBACK = 6;
const BUSY_HEAD = 7;
/** The completion word's index, for SharedUsedRing.push (its `done` array is this table's words). */
export const VHOST_DONE = 8;
const NOTIFIES = 9;
/** BUSY_HEAD while the worker pops (above any head + 1: heads are below 2^15). */
const BUSY_POPPING = 0x1_0001;
const INT_WORDS = 16;
const C_REQUESTS = 0;
const C_READ = 1;
const C_WRITTEN = 2;
const C_MERGED = 3;
const COUNTERS = 4;
const TABLE_BYTES = INT_WORDS * 4 + COUNTERS * 8;

/** One device's table; both threads make one over the same buffer. */
export class VhostTable {
  readonly words: Int32Array;
  private readonly counters: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(TABLE_BYTES)) {
    if (buffer.byteLength !== TABLE_BYTES) throw new Error(`blk-vhost: a table is ${TABLE_BYTES} bytes, not ${buffer.byteLength}`);
    this.words = new Int32Array(buffer, 0, INT_WORDS);
    this.counters = new Float64Array(buffer, INT_WORDS * 4, COUNTERS);
  }

  // ---- main thread ----

  /** Hands the queue to the worker from available entry `lastAvail` on, for generation `gen` (never 0). */
  arm(gen: number, lastAvail: number): void {
    const w = this.words;
    w[LAST_AVAIL] = lastAvail;
    w[FAIL] = 0;
    w[HANDBACK] = 0;
    w[BUSY_HEAD] = 0;
    w[VHOST_DONE] = DONE_PENDING;
    Atomics.store(w, GEN, gen);
  }

  /** Takes the queue back (reset, failure): the worker stops before its next pop, woken if it sleeps. */
  disarm(): void {
    Atomics.store(this.words, GEN, 0);
    this.clearHandback();
    this.kick();
  }

  generation(): number {
    return Atomics.load(this.words, GEN);
  }

  /** The worker stopped the queue: the error it found, taken once. */
  takeFailure(): VirtqError | undefined {
    const f = Atomics.exchange(this.words, FAIL, 0);
    if (f === 0) return undefined;
    return new VirtqError(VIRTQ_ERROR_KINDS[f - 1] ?? "request-malformed", "found by the vhost worker");
  }

  /** A chain the worker handed back (its head), or -1. */
  handedBack(): number {
    return Atomics.load(this.words, HANDBACK) - 1;
  }

  /** The main thread took the handed-back chain: the worker may hand back another. */
  clearHandback(): void {
    Atomics.store(this.words, HANDBACK, 0);
    Atomics.notify(this.words, HANDBACK);
  }

  /** The head of the request a worker is serving and has not returned (its completion word still pending), or -1. */
  unreturned(): number {
    const busy = Atomics.load(this.words, BUSY_HEAD);
    if (busy === 0 || busy === BUSY_POPPING) return -1;
    return Atomics.load(this.words, VHOST_DONE) === DONE_PENDING ? busy - 1 : -1;
  }

  /** The worker holding BUSY_HEAD died (the main thread has dealt with its request). */
  forgetBusy(): void {
    Atomics.store(this.words, BUSY_HEAD, 0);
  }

  /** The worker's position in the available ring. */
  lastAvail(): number {
    return Atomics.load(this.words, LAST_AVAIL);
  }

  /** Work in the worker's hands: a request between pop and return, or one handed back. */
  busy(): boolean {
    return Atomics.load(this.words, BUSY_HEAD) !== 0 || Atomics.load(this.words, HANDBACK) !== 0;
  }

  /** Requests, bytes read and bytes written by the worker so far. */
  served(): readonly [number, number, number] {
    const c = this.counters;
    return [c[C_REQUESTS], c[C_READ], c[C_WRITTEN]];
  }

  /** Requests the worker served by a read merged with their neighbours' (blk-vhost-worker.ts serveHeld). */
  merged(): number {
    return this.counters[C_MERGED];
  }

  /** Notifies a vCPU thread took without an exit. */
  notifiesWithoutExit(): number {
    return Atomics.load(this.words, NOTIFIES);
  }

  // ---- any thread ----

  /** A notify: the worker looks at the available ring again (woken if it sleeps). */
  kick(): void {
    Atomics.add(this.words, KICK, 1);
    if (Atomics.load(this.words, SLEEPERS) > 0) Atomics.notify(this.words, KICK, 1);
  }

  // ---- worker ----

  kickSeen(): number {
    return Atomics.load(this.words, KICK);
  }

  /** Sleeps while KICK still reads `seen`, up to `ms`; whether it timed out. */
  sleep(seen: number, ms: number): boolean {
    Atomics.add(this.words, SLEEPERS, 1);
    const r = Atomics.wait(this.words, KICK, seen, ms);
    Atomics.sub(this.words, SLEEPERS, 1);
    return r === "timed-out";
  }

  enter(): void {
    Atomics.add(this.words, ACTIVE, 1);
  }

  leave(): void {
    Atomics.sub(this.words, ACTIVE, 1);
  }

  setLastAvail(n: number): void {
    Atomics.store(this.words, LAST_AVAIL, n);
  }

  /** About to pop (guest memory is read, and with EVENT_IDX written): whether the queue is still this worker's (generation `gen`); if not it must stop. */
  claim(gen: number): boolean {
    Atomics.store(this.words, BUSY_HEAD, BUSY_POPPING);
    if (this.serving(gen)) return true;
    this.end();
    return false;
  }

  /** A request popped (head) is being served: its completion word is pending until its push. */
  begin(head: number): void {
    Atomics.store(this.words, VHOST_DONE, DONE_PENDING);
    Atomics.store(this.words, BUSY_HEAD, head + 1);
  }

  end(): void {
    Atomics.store(this.words, BUSY_HEAD, 0);
  }

  count(read: number, written: number): void {
    const c = this.counters;
    c[C_REQUESTS]++;
    c[C_READ] += read;
    c[C_WRITTEN] += written;
  }

  countMerged(requests: number): void {
    this.counters[C_MERGED] += requests;
  }

  /**
   * The chain at `head` is the main thread's to serve: waits until it has
   * taken the last one handed back (HANDBACK holds one); false if the queue
   * was taken back meanwhile (a reset: nobody waits for the chain any more).
   */
  handBack(head: number, gen: number, ms: number): boolean {
    const w = this.words;
    while (Atomics.compareExchange(w, HANDBACK, 0, head + 1) !== 0) {
      if (!this.serving(gen)) return false;
      Atomics.wait(w, HANDBACK, Atomics.load(w, HANDBACK), ms);
    }
    return true;
  }

  fail(e: VirtqError): void {
    Atomics.store(this.words, FAIL, VIRTQ_ERROR_KINDS.indexOf(e.kind) + 1);
  }

  /** Whether this table is still armed for generation `gen`. */
  serving(gen: number): boolean {
    return Atomics.load(this.words, GEN) === gen;
  }

  // ---- vCPU thread (ioeventfd) ----

  /**
   * A QueueNotify the vCPU's thread may take without an exit: armed and a
   * spell inside its loop (which sees KICK before it leaves); false means
   * the notify goes to the main thread as an exit, which starts a spell.
   */
  kickFromVcpu(): boolean {
    const w = this.words;
    if (Atomics.load(w, GEN) === 0) return false;
    Atomics.add(w, KICK, 1);
    // KICK before ACTIVE: a spell leaving decrements ACTIVE, then looks at KICK (blk-vhost-worker.ts).
    if (Atomics.load(w, ACTIVE) === 0) return false;
    if (Atomics.load(w, SLEEPERS) > 0) Atomics.notify(w, KICK, 1);
    Atomics.add(w, NOTIFIES, 1);
    return true;
  }
}
