/*
 * A trace ring: a single-producer, single-consumer queue of fixed-size
 * records (record.ts) in shared memory. The producer is one thread (a vCPU
 * thread, or the main thread for the exits it handles), the consumer is the
 * main thread's drain (trace-file.ts); neither ever waits for the other.
 *
 *   byte 0    written  i32  records ever written (producer; Atomics.store after the record)
 *        4    dropped  i32  records refused because the ring was full (producer)
 *        64   read     i32  records ever read (consumer; Atomics.store after reading them)
 *        128  records, `capacity` of them (a power of two), slot = count & (capacity - 1)
 *
 * Counts wrap at 2^32 (Int32, compared by difference), far beyond a ring.
 * A full ring drops the new record and counts it: overwriting the oldest
 * would need the reader to detect a torn record. The drop count travels
 * into the trace file and the run's report, so an overflow is never silent.
 */

import { F64_PER_RECORD, I32_PER_RECORD, RECORD_BYTES, SLOT } from "./record.ts";

const HEADER_BYTES = 128;
const WRITTEN = 0;
const DROPPED = 1;
const READ = 16; // byte 64: its own cache line, so the consumer's stores never touch the producer's line

/** Bytes of a ring of `capacity` records. */
export function ringBytes(capacity: number): number {
  return HEADER_BYTES + capacity * RECORD_BYTES;
}

export class TraceRing {
  readonly capacity: number;
  private readonly mask: number;
  private readonly header: Int32Array;
  /** The records, as doubles and as words (two views of the same bytes). */
  private readonly f64: Float64Array;
  private readonly i32: Int32Array;

  constructor(buffer: SharedArrayBuffer, byteOffset: number, capacity: number) {
    if (capacity < 2 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`trace ring: capacity ${capacity} is not a power of two`);
    if (byteOffset + ringBytes(capacity) > buffer.byteLength) throw new RangeError("trace ring: buffer too small");
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.header = new Int32Array(buffer, byteOffset, HEADER_BYTES / 4);
    this.f64 = new Float64Array(buffer, byteOffset + HEADER_BYTES, capacity * F64_PER_RECORD);
    this.i32 = new Int32Array(buffer, byteOffset + HEADER_BYTES, capacity * I32_PER_RECORD);
  }

  /** Producer: appends one record, or counts it dropped if the consumer is a whole ring behind. */
  write(t: number, pc: number, tval: number, durNs: number, where: number, reason: number, cause: number, effLo: number, effHi: number): void {
    const h = this.header;
    const written = h[WRITTEN]; // only this thread writes it
    if (((written - Atomics.load(h, READ)) | 0) >= this.capacity) {
      Atomics.store(h, DROPPED, h[DROPPED] + 1);
      return;
    }
    const slot = written & this.mask;
    const f = slot * F64_PER_RECORD;
    const w = slot * I32_PER_RECORD;
    this.f64[f + SLOT.t] = t;
    this.f64[f + SLOT.pc] = pc;
    this.f64[f + SLOT.tval] = tval;
    this.f64[f + SLOT.durNs] = durNs;
    this.i32[w + SLOT.where] = where;
    this.i32[w + SLOT.reason] = reason;
    this.i32[w + SLOT.cause] = cause;
    this.i32[w + SLOT.effLo] = effLo;
    this.i32[w + SLOT.effHi] = effHi;
    // Publishes the record: the consumer's Atomics.load of `written` orders its reads after these stores.
    Atomics.store(h, WRITTEN, (written + 1) | 0);
  }

  /**
   * Consumer: takes every record written and not yet read, oldest first, as
   * a copy of their bytes (record.ts layout), and frees their slots. A copy,
   * because writing a drained batch to the file as one block costs a memcpy
   * where one message per record would cost microseconds each.
   */
  take(): Uint8Array {
    const h = this.header;
    const written = Atomics.load(h, WRITTEN);
    const read = h[READ];
    const n = (written - read) | 0;
    const out = new Uint8Array(n * RECORD_BYTES);
    const bytes = new Uint8Array(this.f64.buffer, this.f64.byteOffset, this.capacity * RECORD_BYTES);
    const first = read & this.mask;
    const head = Math.min(n, this.capacity - first); // records before the slot index wraps
    out.set(bytes.subarray(first * RECORD_BYTES, (first + head) * RECORD_BYTES), 0);
    if (n > head) out.set(bytes.subarray(0, (n - head) * RECORD_BYTES), head * RECORD_BYTES);
    Atomics.store(h, READ, written);
    return out;
  }

  /** Records refused so far because the ring was full. */
  dropped(): number {
    return Atomics.load(this.header, DROPPED) >>> 0;
  }
}
