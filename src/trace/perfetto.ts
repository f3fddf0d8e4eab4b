/*
 * `popek trace FILE --perfetto OUT.json`: the Chrome trace-event format
 * (JSON object form), which ui.perfetto.dev and chrome://tracing open.
 *
 *   process  one per VM ("vm0: handler main, wait poll"), pid = vm + 1
 *   thread   one track per vCPU ("vcpu0"), tid = vcpu + 1
 *   "X"      one complete slice per exit: name = its reason, args = cause,
 *            pc, tval, where it was handled, handling ns, counters moved
 *   "i"      an instant for the vCPU's own work after a main-thread exit
 *   "C"      per VM, a counter track "exits/s" with one series per vCPU
 *
 * Timestamps are µs since the VM started. The vCPU thread and the main
 * thread read their own clocks; where two slices of one vCPU overlap by
 * that skew (sub-µs), the later one starts where the earlier ended, so the
 * track stays properly nested, as the format requires.
 */

import { causeName } from "./causes.ts";
import type { TraceRecord } from "./record.ts";
import type { Trace } from "./read.ts";

interface TraceEvent {
  readonly name: string;
  readonly ph: "X" | "i" | "C" | "M";
  readonly pid: number;
  readonly tid?: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly s?: "t";
  readonly cat?: string;
  readonly args: Record<string, unknown>;
}

export interface ChromeTrace {
  readonly traceEvents: TraceEvent[];
  readonly displayTimeUnit: "ns";
  readonly metadata: Record<string, unknown>;
}

/** Counter buckets: at least this wide, and no more than MAX_BUCKETS of them per VM. */
const MIN_BUCKET_MS = 10;
const MAX_BUCKETS = 2000;

const hex = (v: number): string => (v < 0 ? "-0x" + (-v).toString(16) : "0x" + v.toString(16));

export function toPerfetto(trace: Trace): ChromeTrace {
  const events: TraceEvent[] = [];
  for (const vm of trace.vms) {
    const pid = vm.vm + 1;
    events.push({ name: "process_name", ph: "M", pid, args: { name: `${vm.name}: handler ${vm.exitHandler}, wait ${vm.wait}, mmu ${vm.mmu}` } });
    for (let v = 0; v < vm.vcpus; v++) {
      events.push({ name: "thread_name", ph: "M", pid, tid: v + 1, args: { name: `vcpu${v}` } });
      events.push({ name: "thread_sort_index", ph: "M", pid, tid: v + 1, args: { sort_index: v } });
    }
    const mine = trace.records.filter((r) => r.vm === vm.vm);
    for (let v = 0; v < vm.vcpus; v++) events.push(...vcpuTrack(pid, v, mine.filter((r) => r.vcpu === v)));
    events.push(...rateCounter(pid, vm.vcpus, mine));
  }
  return { traceEvents: events, displayTimeUnit: "ns", metadata: { source: "popek trace", dropped: trace.dropped } };
}

/** One vCPU's exits as slices (and instants), nested properly despite clock skew between threads. */
function vcpuTrack(pid: number, vcpu: number, records: readonly TraceRecord[]): TraceEvent[] {
  const tid = vcpu + 1;
  const out: TraceEvent[] = [];
  let end = -Infinity;
  for (const r of records) {
    const args = { cause: r.cause, causeName: causeName(r.cause), pc: hex(r.pc), tval: hex(r.tval), where: r.where, durNs: r.durNs, effects: r.effects };
    let ts = r.t * 1000;
    if (r.where === "vcpu-after-main") {
      out.push({ name: `${r.reason} (after main)`, ph: "i", s: "t", cat: "after-main", pid, tid, ts: Math.max(ts, end), args });
      continue;
    }
    let dur = r.durNs / 1000;
    if (ts < end) {
      dur = Math.max(0, dur - (end - ts));
      ts = end;
    }
    end = ts + dur;
    out.push({ name: r.reason, ph: "X", cat: "exit", pid, tid, ts, dur, args });
  }
  return out;
}

/** Exits per second in buckets, one series per vCPU, on the VM's counter track. */
function rateCounter(pid: number, vcpus: number, records: readonly TraceRecord[]): TraceEvent[] {
  const exits = records.filter((r) => r.where !== "vcpu-after-main");
  if (exits.length === 0) return [];
  const first = exits[0].t;
  const last = exits[exits.length - 1].t;
  const bucketMs = Math.max(MIN_BUCKET_MS, (last - first) / MAX_BUCKETS);
  const buckets = Math.floor((last - first) / bucketMs) + 1;
  const counts = Array.from({ length: buckets }, () => new Array<number>(vcpus).fill(0));
  for (const r of exits) counts[Math.floor((r.t - first) / bucketMs)][r.vcpu]++;
  const out: TraceEvent[] = [];
  for (let b = 0; b <= buckets; b++) {
    // A last all-zero sample closes the track where the exits stop.
    const row = counts[b] ?? new Array<number>(vcpus).fill(0);
    const args: Record<string, number> = {};
    for (let v = 0; v < vcpus; v++) args[`vcpu${v}`] = Math.round(row[v] / (bucketMs / 1000));
    out.push({ name: "exits/s", ph: "C", pid, ts: (first + b * bucketMs) * 1000, args });
  }
  return out;
}
