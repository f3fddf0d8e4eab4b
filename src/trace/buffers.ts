/*
 * A vCPU's trace buffer: one SharedArrayBuffer holding two rings (ring.ts),
 * one per writing thread, so that each ring has a single producer:
 *
 *   ring 0  RING_VCPU  the vCPU thread's records: exits it handled itself,
 *                      and its own work after an exit the main thread handled
 *   ring 1  RING_MAIN  the main thread's records: the exits it handled
 *
 * The main thread drains both (trace-file.ts) while the vCPU runs.
 */

import { ringBytes, TraceRing } from "./ring.ts";

export const RING_VCPU = 0;
export const RING_MAIN = 1;
const RINGS = 2;

/** Records per ring by default: 64 B each, so 4 MiB a ring, drained every DRAIN_MS (trace-file.ts). */
export const DEFAULT_RING_RECORDS = 65536;
export const MIN_RING_RECORDS = 16;
export const MAX_RING_RECORDS = 1 << 22;

const WASM_PAGE_BYTES = 65536;

/** Throws a RangeError unless `ringRecords` is a ring size createVcpuTraceBuffer accepts. */
export function checkRingRecords(ringRecords: number): void {
  if (!Number.isInteger(ringRecords) || ringRecords < MIN_RING_RECORDS || ringRecords > MAX_RING_RECORDS || (ringRecords & (ringRecords - 1)) !== 0) {
    throw new RangeError(`ring size ${ringRecords} must be a power of two in ${MIN_RING_RECORDS}..${MAX_RING_RECORDS}`);
  }
}

/** The buffer starts with one cache line that says the rings' size; the rings follow, line-aligned. */
const PREFIX_BYTES = 64;

/**
 * The buffer for one vCPU's rings. Shared WebAssembly memory, like the run
 * page (runpage.ts), because its start is page-aligned: every record then
 * fills exactly one cache line.
 */
export function createVcpuTraceBuffer(ringRecords: number): SharedArrayBuffer {
  checkRingRecords(ringRecords);
  const pages = Math.ceil((PREFIX_BYTES + RINGS * ringBytes(ringRecords)) / WASM_PAGE_BYTES);
  const buffer = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }).buffer;
  if (!(buffer instanceof SharedArrayBuffer)) throw new Error("trace: shared WebAssembly memory is not available");
  new Int32Array(buffer, 0, 1)[0] = ringRecords;
  return buffer;
}

/** The two rings of a buffer made by createVcpuTraceBuffer, [RING_VCPU, RING_MAIN]. */
export function ringsOf(buffer: SharedArrayBuffer): readonly [TraceRing, TraceRing] {
  const records = new Int32Array(buffer, 0, 1)[0];
  const bytes = ringBytes(records);
  return [new TraceRing(buffer, PREFIX_BYTES, records), new TraceRing(buffer, PREFIX_BYTES + bytes, records)];
}
