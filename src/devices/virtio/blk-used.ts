/*
 * A virtio-blk request queue's used ring (virtio 1.2 §2.7.8) as any thread
 * writes it: the I/O worker that finished a request returns it to the
 * driver itself — status byte, used element, used index — with no trip
 * through the main thread, as a vhost back-end's thread does. Under
 * --virt trap that trip cost each completion a scheduler slice on these
 * 2-core machines (vCPU, service loop and two I/O workers share them).
 *
 * Only the completion moves off the main thread. The main thread still
 * takes every chain off the available ring and checks it (descriptors,
 * lengths, buffers inside guest RAM) before a worker sees it; a worker is
 * handed machine offsets it cannot choose: the status byte's, from the
 * request's record, and the used ring's, from this table, which the main
 * thread fills (translating the ring's pages) when the queue is first used.
 *
 * One writer at a time: every push, the main thread's too, holds LOCK,
 * which names its holder (a ring server's name, or MAIN_HOLDER). A push
 * logs what it writes before writing it, so that if the holder's thread
 * dies under the lock the main thread redoes the push (every write is
 * idempotent) and frees the lock (recover()).
 *
 * A push writes guest RAM behind the vCPUs' backs, so it marks what it
 * wrote in the VM's code-write log (machine/code-writes.ts) when given one:
 * a ring or status byte sharing a page with code must not leave a vCPU
 * running stale decoded code after its fence.i. Cheaply: a page no thread
 * has code on is not marked (CodeWriteLog.writtenWhereCode; the push's
 * seq-cst stores are the barrier that rule needs).
 *
 * Interrupts stay on the main thread, which owns InterruptStatus and the
 * PLIC line: a push decides whether the driver wants one (§2.7.7.2:
 * EVENT_IDX's used_event, else NO_INTERRUPT), sets IRQ, and the pusher's
 * caller rings the service loop's doorbell; the main thread takes IRQ and
 * raises the line (takeInterrupt).

 *
 * Layout (Int32 words of one SharedArrayBuffer; both threads use these
 * offsets):
 *
 *   [0] LOCK         0 free, else the holder's name
 *   [1] GEN          the live link's generation (never 0), 0: none; a push
 *                    for another generation is dropped (a reset came between)
 *   [2] USED_IDX     the used index published next (mod 2^16)
 *   [3] IRQ          1: a push wants an interrupt not raised yet
 *   [4] SIZE         queue size
 *   [5] EVENT_IDX    1 if the driver accepted VIRTIO_F_RING_EVENT_IDX
 *   [6] USED_IDX_AT  machine offset of used.idx (u16)
 *   [7] FLAGS_AT     machine offset of avail.flags (u16)
 *   [8] EVENT_AT     machine offset of avail's used_event (u16)
 *   [9] LOG_ARMED    1 between a push's first write and its index store
 *   [10..16]         the push's log: slot, head, length, status, status offset,
 *                    done value, and the used index it writes at
 *   [20 .. 20+MAX)        machine offset of used.ring[i].id
 *   [20+MAX .. 20+2*MAX)  machine offset of used.ring[i].len (not id + 4 when a page ends between)
 *
 * Machine offsets are stored as Int32 bit patterns and read back with >>> 0.
 */

import type { CodeWriteLog } from "../../machine/code-writes.ts";
import type { GuestMemoryView } from "../../machine/guest-memory-view.ts";
import type { QueueLayout } from "./queue.ts";
import { QUEUE_NUM_MAX } from "./regs.ts";

const LOCK = 0;
const GEN = 1;
const USED_IDX = 2;
const IRQ = 3;
const SIZE = 4;
const EVENT_IDX = 5;
const USED_IDX_AT = 6;
const FLAGS_AT = 7;
const EVENT_AT = 8;
const LOG_ARMED = 9;
const LOG_SLOT = 10;
const LOG_HEAD = 11;
const LOG_LENGTH = 12;
const LOG_STATUS = 13;
const LOG_STATUS_AT = 14;
const LOG_DONE = 15;
const LOG_IDX = 16;
const ID_AT = 20;
const LEN_AT = ID_AT + QUEUE_NUM_MAX;
const WORDS = LEN_AT + QUEUE_NUM_MAX;

/** avail.flags: the driver wants no interrupt (without EVENT_IDX). */
const AVAIL_F_NO_INTERRUPT = 1;

/** The main thread's name as a holder of LOCK (ring servers are named from 1 up). */
export const MAIN_HOLDER = -1;

/** Typed views of machine memory, made once per thread. */
export interface MachineViews {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
}

export function machineViews(machine: SharedArrayBuffer): MachineViews {
  return { u8: new Uint8Array(machine), u16: new Uint16Array(machine, 0, machine.byteLength >>> 1), i32: new Int32Array(machine, 0, machine.byteLength >>> 2) };
}

/** One request's return: what goes into its status byte and used element, and what its completion word becomes. */
export interface UsedReturn {
  /** The request's completion slot (blk.ts doneWords), or -1: it has none (the main thread's returns). */
  readonly slot: number;
  readonly head: number;
  /** used.len: bytes written into the driver's buffers, status byte included. */
  readonly length: number;
  readonly status: number;
  /** Machine offset of the status byte. */
  readonly statusAt: number;
  /** What the completion word becomes (blk-io.ts DONE_PUSHED_*). */
  readonly done: number;
}

export class SharedUsedRing {
  readonly words: Int32Array;

  /** `codeLog`: where this thread's pushes mark the pages they write (none: the VM keeps no log). */
  constructor(
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(WORDS * 4),
    private readonly codeLog?: CodeWriteLog,
  ) {
    if (buffer.byteLength !== WORDS * 4) throw new Error(`blk-used: the table is ${WORDS * 4} bytes, not ${buffer.byteLength}`);
    this.words = new Int32Array(buffer);
  }

  /**
   * Main thread: lays the table out for a live queue of generation `gen`
   * (its used index starts at 0: the queue was just set up), backing the
   * ring's pages; false if some piece cannot be reached (the caller then
   * returns requests itself, through the queue).
   */
  setUp(mem: GuestMemoryView, layout: QueueLayout, eventIdx: boolean, gen: number): boolean {
    const { size, avail, used } = layout;
    const at = (gpa: number, n: number): number => mem.translateForWrite(gpa, n);
    const fixed = [at(used + 2, 2), at(avail, 2), at(avail + 4 + 2 * size, 2)];
    if (fixed.some((o) => o < 0)) return false;
    const w = this.words;
    this.lock(MAIN_HOLDER);
    try {
      for (let i = 0; i < size; i++) {
        const id = at(used + 4 + 8 * i, 4);
        const len = at(used + 8 + 8 * i, 4);
        if (id < 0 || len < 0) return false;
        w[ID_AT + i] = id;
        w[LEN_AT + i] = len;
      }
      w[SIZE] = size;
      w[EVENT_IDX] = eventIdx ? 1 : 0;
      w[USED_IDX_AT] = fixed[0];
      w[FLAGS_AT] = fixed[1];
      w[EVENT_AT] = fixed[2];
      w[USED_IDX] = 0;
      w[LOG_ARMED] = 0;
      Atomics.store(w, IRQ, 0);
      Atomics.store(w, GEN, gen);
      return true;
    } finally {
      this.unlock();
    }
  }

  /** Main thread: the link is gone (reset, failure): every later push is dropped. */
  kill(): void {
    this.lock(MAIN_HOLDER);
    Atomics.store(this.words, GEN, 0);
    this.unlock();
  }

  /** The used index published next (mod 2^16): every return so far, whoever wrote it. */
  usedIndex(): number {
    return Atomics.load(this.words, USED_IDX);
  }

  /**
   * Returns one request to the driver if generation `gen` is still live:
   * the status byte, then (log armed) the completion word and the used
   * element, then the index the driver reads. Whether the driver wants an
   * interrupt for it (then IRQ is set; the caller rings the doorbell).
   *
   * The completion word is set before the index is published: by the time
   * the driver can re-offer the descriptors, the main thread can see the
   * request is back (blk.ts poll), so the queue's in-flight count is right.
   */
  push(holder: number, m: MachineViews, done: Int32Array | undefined, gen: number, r: UsedReturn): boolean {
    const w = this.words;
    this.lock(holder);
    try {
      if (Atomics.load(w, GEN) !== gen) {
        // The link went away meanwhile: the driver no longer waits for this request; the main thread only frees its slot.
        if (done !== undefined && r.slot >= 0) Atomics.store(done, r.slot, r.done);
        return false;
      }
      w[LOG_SLOT] = r.slot;
      w[LOG_HEAD] = r.head;
      w[LOG_LENGTH] = r.length;
      w[LOG_STATUS] = r.status;
      w[LOG_STATUS_AT] = r.statusAt;
      w[LOG_DONE] = r.done;
      w[LOG_IDX] = w[USED_IDX];
      Atomics.store(w, LOG_ARMED, 1);
      return this.write(m, done);
    } finally {
      this.unlock();
    }
  }

  /** The logged push, from its first write to the decision on an interrupt; idempotent (it writes at the logged index). */
  private write(m: MachineViews, done: Int32Array | undefined): boolean {
    const w = this.words;
    const idx = w[LOG_IDX];
    const i = idx % w[SIZE];
    Atomics.store(m.u8, w[LOG_STATUS_AT] >>> 0, w[LOG_STATUS]);
    Atomics.store(m.i32, (w[ID_AT + i] >>> 0) >>> 2, w[LOG_HEAD]);
    Atomics.store(m.i32, (w[LEN_AT + i] >>> 0) >>> 2, w[LOG_LENGTH]);
    if (done !== undefined && w[LOG_SLOT] >= 0) Atomics.store(done, w[LOG_SLOT], w[LOG_DONE]);
    const next = (idx + 1) & 0xffff;
    // Counted before the driver can see it: the main thread's in-flight count (SplitQueue.returnedBy) never runs behind the driver's.
    Atomics.store(w, USED_IDX, next);
    // The element before the index: the driver reads the index, then the element (§2.7.8.2).
    Atomics.store(m.u16, (w[USED_IDX_AT] >>> 0) >>> 1, next);
    Atomics.store(w, LOG_ARMED, 0);
    if (this.codeLog !== undefined) {
      // Before the interrupt (and the caller's doorbell): the driver may run the page's code once it sees the request done.
      this.codeLog.writtenWhereCode(w[LOG_STATUS_AT] >>> 0, 1);
      this.codeLog.writtenWhereCode(w[ID_AT + i] >>> 0, 1);
      this.codeLog.writtenWhereCode(w[LEN_AT + i] >>> 0, 1);
      this.codeLog.writtenWhereCode(w[USED_IDX_AT] >>> 0, 1);
    }
    const wants = w[EVENT_IDX] !== 0 ? Atomics.load(m.u16, (w[EVENT_AT] >>> 0) >>> 1) === idx : (Atomics.load(m.u16, (w[FLAGS_AT] >>> 0) >>> 1) & AVAIL_F_NO_INTERRUPT) === 0;
    if (wants) Atomics.store(w, IRQ, 1);
    return wants;
  }

  /** Main thread: whether some push wanted an interrupt since the last call. */
  takeInterrupt(): boolean {
    return Atomics.exchange(this.words, IRQ, 0) !== 0;
  }

  /**
   * Main thread: the thread named `holder` died. If it held the lock, its
   * logged push, if armed, is done again to its end (each write lands
   * where it did the first time) and the lock freed; whether it held it.
   */
  recover(holder: number, m: MachineViews, done: Int32Array): boolean {
    const w = this.words;
    if (Atomics.load(w, LOCK) !== holder) return false;
    if (Atomics.load(w, LOG_ARMED) !== 0) this.write(m, done);
    this.unlock();
    return true;
  }

  /**
   * A spin lock: a push holds it for a dozen stores. A holder preempted
   * under it makes the others spin until it runs again (rare: the window
   * is ~100 ns of a ~1 ms slice); a holder that dies is recovered from.
   */
  private lock(holder: number): void {
    while (Atomics.compareExchange(this.words, LOCK, 0, holder) !== 0);
  }

  private unlock(): void {
    Atomics.store(this.words, LOCK, 0);
  }
}

