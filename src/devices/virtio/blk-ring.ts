/*
 * A virtio-blk device's submission ring: how requests reach its I/O
 * workers through shared memory instead of one piscina message each.
 *
 * piscina remains the pool: each worker thread serving a device runs one
 * long-lived piscina task (blk-io.ts serveRing) that claims requests from
 * this ring, sleeps on its head word with Atomics.wait when it is empty,
 * and returns after a slice of requests or an idle spell, so the pool's
 * threads pass between devices and a finished run holds none. A request
 * costs the main thread a few stores and an Atomics.notify, and a waiting
 * worker a futex wake — against a structured clone, a MessagePort post and
 * a result message per request on the message path.
 *
 * Layout (one SharedArrayBuffer, defined here once; both threads use these
 * offsets). Int32 words:
 *
 *   [0] HEAD   requests submitted, free-running      (main thread writes)
 *   [1] TAIL   requests claimed, free-running        (workers, compareExchange)
 *   [2] SLEEPERS  workers asleep on HEAD, or about to be  (workers)
 *   [3] -
 *   [4 .. 4+SLOTS)             the ring: slot numbers, in submission order
 *   [4+SLOTS .. 4+2*SLOTS)     claim words: the server that took slot i (0: none yet)
 *
 * then, 8-aligned, one Float64 record of RECORD_WORDS per slot:
 *
 *   [op, image offset, piece count, gen, head, used length, status offset,
 *    (machine offset, length) × piece count]
 *
 * gen is the device's link generation when the worker returns the request
 * to the driver itself (blk-used.ts), with head, used.len and the status
 * byte's machine offset to write; 0 when the main thread does.
 *
 * A slot is a device's completion slot (blk.ts doneWords) below SLOTS;
 * its ring entry is consumed when claimed, before it completes, so no more
 * than SLOTS entries are ever unclaimed and the ring cannot overrun.
 */

/** Slots that can go through the ring at once (a power of two: the ring index is a mask). */
export const RING_SLOTS = 256;
/**
 * Pieces one record holds; a request with more goes by message. Linux
 * sends requests of up to 128 pages through the ring (a 512 KiB request
 * of 4 KiB pages), at 4 KiB of record per slot, 1 MiB per device.
 */
export const RING_MAX_PIECES = 256;

export const RING_HEAD = 0;
const RING_TAIL = 1;
const RING_SLEEPERS = 2;
const RING_AT = 4;
const CLAIMS_AT = RING_AT + RING_SLOTS;
const INT_WORDS = CLAIMS_AT + RING_SLOTS;
const RECORD_HEADER = 7;
const RECORD_WORDS = RECORD_HEADER + 2 * RING_MAX_PIECES;
const RECORDS_AT_BYTES = Math.ceil((INT_WORDS * 4) / 8) * 8;
const RING_BYTES = RECORDS_AT_BYTES + RING_SLOTS * RECORD_WORDS * 8;

/** Operation codes of a record. */
export const OP_READ = 0;
export const OP_WRITE = 1;
export const OP_FLUSH = 2;
export type RingOp = typeof OP_READ | typeof OP_WRITE | typeof OP_FLUSH;

/** What a worker needs to return a request to the driver itself (blk-used.ts). */
export interface WorkerReturn {
  /** The link generation it was taken under (never 0). */
  readonly gen: number;
  readonly head: number;
  /** used.len on success: bytes written into the driver's buffers, status byte included. */
  readonly length: number;
  /** Machine offset of the status byte. */
  readonly statusAt: number;
}

/** Views of one ring; both threads make one over the same buffer. */
export class BlkRingView {
  readonly words: Int32Array;
  readonly records: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(RING_BYTES)) {
    if (buffer.byteLength !== RING_BYTES) throw new Error(`blk-ring: a ring is ${RING_BYTES} bytes, not ${buffer.byteLength}`);
    this.words = new Int32Array(buffer, 0, INT_WORDS);
    this.records = new Float64Array(buffer, RECORDS_AT_BYTES, RING_SLOTS * RECORD_WORDS);
  }

  /**
   * Main thread: a request's record, then its ring entry, then HEAD (which
   * publishes both), then a sleeping worker woken — only if one sleeps:
   * Atomics.notify takes a lock and, with a waiter, a system call, which
   * would cost every request microseconds while the workers are awake.
   * (A worker counts itself in SLEEPERS before it waits on HEAD, and the
   * wait compares HEAD atomically; both orders of the two sides end with
   * the worker awake or seeing the new HEAD.)
   */
  submit(slot: number, op: RingOp, offset: number, pieces: readonly number[], ret?: WorkerReturn): void {
    const r = this.records;
    const at = slot * RECORD_WORDS;
    r[at] = op;
    r[at + 1] = offset;
    r[at + 2] = pieces.length / 2;
    r[at + 3] = ret?.gen ?? 0;
    r[at + 4] = ret?.head ?? 0;
    r[at + 5] = ret?.length ?? 0;
    r[at + 6] = ret?.statusAt ?? 0;
    for (let i = 0; i < pieces.length; i++) r[at + RECORD_HEADER + i] = pieces[i];
    Atomics.store(this.words, CLAIMS_AT + slot, 0);
    const head = Atomics.load(this.words, RING_HEAD);
    Atomics.store(this.words, RING_AT + (head & (RING_SLOTS - 1)), slot);
    Atomics.store(this.words, RING_HEAD, (head + 1) | 0);
    if (Atomics.load(this.words, RING_SLEEPERS) > 0) Atomics.notify(this.words, RING_HEAD, 1);
  }

  /** Worker: sleeps on HEAD while it still reads `head`, up to `ms`; whether it timed out. */
  sleep(head: number, ms: number): boolean {
    Atomics.add(this.words, RING_SLEEPERS, 1);
    const r = Atomics.wait(this.words, RING_HEAD, head, ms);
    Atomics.sub(this.words, RING_SLEEPERS, 1);
    return r === "timed-out";
  }

  /** Requests submitted and not yet claimed by any worker. */
  unclaimed(): number {
    return (Atomics.load(this.words, RING_HEAD) - Atomics.load(this.words, RING_TAIL)) | 0;
  }

  /** Worker: takes the oldest unclaimed request for `server`; its slot, or -1 when there is none. */
  claim(server: number): number {
    for (;;) {
      const tail = Atomics.load(this.words, RING_TAIL);
      if (tail === Atomics.load(this.words, RING_HEAD)) return -1;
      // The entry is read before the claim: once TAIL moves past it, a later submit may reuse its ring position.
      const slot = Atomics.load(this.words, RING_AT + (tail & (RING_SLOTS - 1)));
      if (Atomics.compareExchange(this.words, RING_TAIL, tail, (tail + 1) | 0) !== tail) continue;
      Atomics.store(this.words, CLAIMS_AT + slot, server);
      return slot;
    }
  }

  /** The server that claimed `slot` (0: not claimed since it was submitted). */
  claimedBy(slot: number): number {
    return Atomics.load(this.words, CLAIMS_AT + slot);
  }

  op(slot: number): RingOp {
    return this.records[slot * RECORD_WORDS] as RingOp;
  }

  offset(slot: number): number {
    return this.records[slot * RECORD_WORDS + 1];
  }

  pieceCount(slot: number): number {
    return this.records[slot * RECORD_WORDS + 2];
  }

  /** Machine offset (k = 0) or length (k = 1) of piece i. */
  piece(slot: number, i: number, k: 0 | 1): number {
    return this.records[slot * RECORD_WORDS + RECORD_HEADER + 2 * i + k];
  }

  /** The link generation the worker returns the request for (blk-used.ts), or 0: the main thread returns it. */
  gen(slot: number): number {
    return this.records[slot * RECORD_WORDS + 3];
  }

  /** The descriptor head, used.len and status byte's machine offset the worker returns it with. */
  head(slot: number): number {
    return this.records[slot * RECORD_WORDS + 4];
  }

  usedLength(slot: number): number {
    return this.records[slot * RECORD_WORDS + 5];
  }

  statusAt(slot: number): number {
    return this.records[slot * RECORD_WORDS + 6];
  }
}
