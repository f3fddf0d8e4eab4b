/*
 * One trace record: a fixed-size, 64-byte slot in a trace ring (ring.ts),
 * one per exit handled. Its layout is defined once, in TRACE_FIELDS; the
 * writer on either thread and the reader build their offsets from it.
 *
 *   byte  0  t       f64  when handling began: ms since the VM started (VmClock's origin)
 *         8  pc      f64  the guest pc of the exit
 *        16  tval    f64  the trap's tval (0 for an interrupt)
 *        24  durNs   f64  handling time on the writing thread, ns
 *        32  where   i32  WHERE_VCPU, WHERE_MAIN or WHERE_VCPU_AFTER_MAIN
 *        36  reason  i32  index in EXIT_STATS of the exit's reason (reasonOf), or -1
 *        40  cause   i32  the real trap's cause (scause numbering), or -1 for an interrupt exit
 *        44  effLo   i32  bit i: counter i (EXIT_STATS) moved while this exit was handled
 *        48  effHi   i32  bit i: counter 32 + i moved
 *        52  ...     padding to one cache line
 *
 * The vCPU number is the ring's, not the record's: each ring belongs to one vCPU.
 */

import { EXIT_STATS, STAT, type ExitStatName } from "../hypervisor/stats.ts";

type FieldKind = "i32" | "f64";

const TRACE_FIELDS = [
  { name: "t", kind: "f64" },
  { name: "pc", kind: "f64" },
  { name: "tval", kind: "f64" },
  { name: "durNs", kind: "f64" },
  { name: "where", kind: "i32" },
  { name: "reason", kind: "i32" },
  { name: "cause", kind: "i32" },
  { name: "effLo", kind: "i32" },
  { name: "effHi", kind: "i32" },
] as const satisfies readonly { name: string; kind: FieldKind }[];

/** Bytes per record: one cache line, so two writers never share one. */
export const RECORD_BYTES = 64;

type FieldName = (typeof TRACE_FIELDS)[number]["name"];
type F64Field = Extract<(typeof TRACE_FIELDS)[number], { kind: "f64" }>["name"];
type I32Field = Extract<(typeof TRACE_FIELDS)[number], { kind: "i32" }>["name"];

/** Index of each field in its own typed view of a record (f64 fields in 8-byte slots, i32 fields in 4-byte ones). */
function slots(): Record<FieldName, number> {
  const out = {} as Record<FieldName, number>;
  let byte = 0;
  for (const f of TRACE_FIELDS) {
    const width = f.kind === "f64" ? 8 : 4;
    byte = Math.ceil(byte / width) * width;
    out[f.name] = byte / width;
    byte += width;
  }
  if (byte > RECORD_BYTES) throw new Error("trace record: fields overflow the record");
  return out;
}

/** f64 fields: slot in a Float64Array record; i32 fields: slot in an Int32Array record. */
export const SLOT = slots();
export const F64_PER_RECORD = RECORD_BYTES / 8;
export const I32_PER_RECORD = RECORD_BYTES / 4;

/** A batch of records as the ring hands them over (ring.ts take()), viewed field by field. */
export class RecordBatch {
  readonly count: number;
  private readonly f64: Float64Array;
  private readonly i32: Int32Array;

  constructor(bytes: Uint8Array) {
    // Typed views need their alignment: a batch read back from a file may start anywhere.
    const own = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes); // a copy (a Buffer.slice() would be a view)
    this.count = Math.floor(own.byteLength / RECORD_BYTES);
    this.f64 = new Float64Array(own.buffer, own.byteOffset, this.count * F64_PER_RECORD);
    this.i32 = new Int32Array(own.buffer, own.byteOffset, this.count * I32_PER_RECORD);
  }

  f(i: number, field: F64Field): number {
    return this.f64[i * F64_PER_RECORD + SLOT[field]];
  }
  w(i: number, field: I32Field): number {
    return this.i32[i * I32_PER_RECORD + SLOT[field]];
  }
}

/** The layout as the trace file's header states it, so that other readers can decode a batch. */
export function recordLayout(): { bytes: number; fields: { name: string; kind: FieldKind; offset: number }[] } {
  return { bytes: RECORD_BYTES, fields: TRACE_FIELDS.map((f) => ({ name: f.name, kind: f.kind, offset: SLOT[f.name] * (f.kind === "f64" ? 8 : 4) })) };
}

/** Where an exit was handled. */
export const WHERE_VCPU = 0;
export const WHERE_MAIN = 1;
/** The vCPU thread's own work after an exit the main thread handled (an swtlb install, a shadow space switch). */
export const WHERE_VCPU_AFTER_MAIN = 2;
export const WHERE_NAMES = ["vcpu", "main", "vcpu-after-main"] as const;
export type WhereName = (typeof WHERE_NAMES)[number];

/** A trace record as plain data (what the reader returns). */
export interface TraceRecord {
  readonly vm: number;
  readonly vcpu: number;
  readonly t: number;
  readonly durNs: number;
  readonly where: WhereName;
  /** The exit's reason (a counter name from stats.ts), or "unclassified". */
  readonly reason: string;
  /** scause numbering; -1 for an interrupt exit. */
  readonly cause: number;
  readonly pc: number;
  readonly tval: number;
  /** Every counter that moved while the exit was handled (its reason among them). */
  readonly effects: readonly string[];
}

/**
 * The counters that name an exit's reason, most specific first: an exit's
 * reason is the first of these that moved while it was handled. An swtlb
 * TLB write is also a CSR exit; a refill reflected is also a reflection.
 */
const REASON_ORDER: readonly ExitStatName[] = [
  "swtlb_miss_exit",
  "swtlb_write_exit",
  "swtlb_flush_exit",
  "swtlb_true_fault",
  "swtlb_hidden_refill",
  "swtlb_hv_fill",
  "pf_fixed",
  "pf_guest",
  "page_fault_exit",
  "mmio_exit_user",
  "mmio_exit_kernel",
  "sbi_exit",
  "ecall_exit",
  "xret_exit",
  "wfi_exit",
  "sfence_exit",
  "csr_exit",
  "instr_illegal_exits",
  "injected_interrupts",
  "reflected_exceptions",
  // Effects that can be all a vCPU-after-main record holds.
  "swtlb_install",
  "swtlb_refused",
  "mmu_table_built",
  "mmu_table_kept",
  "mmu_recycled",
  "mmu_shadow_zapped",
  "remote_tlb_flush",
];
const REASON_INDICES = REASON_ORDER.map((n) => STAT[n]);

/** Counters that move with every exit whatever its kind: never a reason, never an effect worth a record. */
const BOOKKEEPING = (1 << STAT.exits) | (1 << STAT.main_exits) | (1 << STAT.instructions);

/** Counters a record tracks: the first 64 of stats.ts (two mask words). */
const TRACKED = Math.min(EXIT_STATS.length, 64);

/**
 * Copies the counters a record tracks. A loop, not Float64Array.set: set()
 * from a shared buffer takes a slow path (~1 µs for 64 doubles, measured),
 * which would be most of a traced exit's cost.
 */
export function snapshot(from: Float64Array, to: Float64Array): void {
  for (let i = 0; i < TRACKED; i++) to[i] = from[i];
}

/** Bit mask of the counters that differ between `before` and `after` (indices below 64). */
export function movedMask(before: Float64Array, after: Float64Array, out: Int32Array): void {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < TRACKED; i++) {
    if (before[i] === after[i]) continue;
    if (i < 32) lo |= 1 << i;
    else hi |= 1 << (i - 32);
  }
  out[0] = lo & ~BOOKKEEPING;
  out[1] = hi;
}

/** The reason index for a mask of moved counters: the first of REASON_ORDER that moved, or -1. */
export function reasonOf(lo: number, hi: number): number {
  for (const i of REASON_INDICES) {
    if (i < 32 ? (lo & (1 << i)) !== 0 : (hi & (1 << (i - 32))) !== 0) return i;
  }
  return -1;
}

/** Names of the counters in a mask, in stats.ts order. */
export function namesOf(lo: number, hi: number, names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < names.length && i < 64; i++) {
    if (i < 32 ? (lo & (1 << i)) !== 0 : (hi & (1 << (i - 32))) !== 0) out.push(names[i]);
  }
  return out;
}
