/*
 * `popek trace FILE --summary`: exits by reason (with cause, where handled
 * and handling-time percentiles from an HDR histogram), by vCPU, the
 * overall latency percentiles, and what was dropped or left unrecorded.
 */

import * as hdr from "hdr-histogram-js";
import { formatTable } from "../report/table.ts";
import { causeName } from "./causes.ts";
import type { TraceRecord } from "./record.ts";
import type { Trace } from "./read.ts";

interface Group {
  count: number;
  main: number;
  causes: Set<number>;
  readonly histogram: hdr.Histogram;
}

function newGroup(): Group {
  return { count: 0, main: 0, causes: new Set(), histogram: hdr.build({ useWebAssembly: false, numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 60e9 }) };
}

function add(g: Group, r: TraceRecord): void {
  g.count++;
  if (r.where === "main") g.main++;
  g.causes.add(r.cause);
  // The exit that stopped the VM has no duration (main-tracer.ts): counted, not timed.
  if (r.durNs > 0) g.histogram.recordValue(Math.max(1, Math.round(r.durNs)));
}

const us = (g: Group, p: number): string => (g.histogram.totalCount === 0 ? "-" : (g.histogram.getValueAtPercentile(p) / 1000).toFixed(2));

export function formatSummary(trace: Trace): string {
  const exits = trace.records.filter((r) => r.where !== "vcpu-after-main");
  const after = trace.records.length - exits.length;
  const byReason = new Map<string, Group>();
  const byVcpu = new Map<string, Group>();
  const all = newGroup();
  for (const r of exits) {
    const reason = byReason.get(r.reason) ?? newGroup();
    byReason.set(r.reason, reason);
    add(reason, r);
    // Several VMs (a reboot boots a new one, an experiment runs several): each by its number in the file.
    const key = trace.vms.length > 1 ? `vm#${r.vm}/vcpu${r.vcpu}` : `vcpu${r.vcpu}`;
    const vcpu = byVcpu.get(key) ?? newGroup();
    byVcpu.set(key, vcpu);
    add(vcpu, r);
    add(all, r);
  }
  const lines: string[] = [];
  for (const vm of trace.vms) lines.push(`${trace.vms.length > 1 ? `vm#${vm.vm} ` : ""}${vm.name}: ${vm.vcpus} vCPU(s), --exit-handler ${vm.exitHandler}, --wait ${vm.wait}, --mmu ${vm.mmu}`);
  lines.push(`${exits.length} exits recorded${after > 0 ? ` (and ${after} vCPU-side records after main-thread exits)` : ""}`, "");
  const head = ["count", "on main", "p50 us", "p90 us", "p99 us", "max us"];
  const row = (name: string, g: Group): string[] => [name, String(g.count), String(g.main), us(g, 50), us(g, 90), us(g, 99), us(g, 100)];
  const reasons = [...byReason].sort((a, b) => b[1].count - a[1].count);
  lines.push(
    formatTable([["reason", "cause", ...head], ...reasons.map(([name, g]) => [name, [...g.causes].sort((a, b) => a - b).map(causeName).join(", "), ...row(name, g).slice(1)])]),
    "",
    formatTable([["vcpu", ...head], ...[...byVcpu].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([name, g]) => row(name, g)), row("all", all)]),
    "",
  );
  // What the exits did, counter by counter (an swtlb TLB write's install shows here, beside its reason).
  const moved = new Map<string, number>();
  for (const r of trace.records) for (const e of r.effects) moved.set(e, (moved.get(e) ?? 0) + 1);
  if (moved.size > 0) {
    const rows = [...moved].sort((a, b) => b[1] - a[1]).map(([name, n]) => [name, String(n)]);
    lines.push(formatTable([["counter moved", "records"], ...rows]), "");
  }
  for (const d of trace.dropped) lines.push(`dropped: ${d.total} records (vm ${d.vm}, vcpu${d.vcpu}, ${d.ring} ring full)`);
  for (const end of trace.ends) {
    for (const v of end.vcpus) {
      const missing = v.exits - v.recorded - v.dropped;
      if (missing > 0) lines.push(`vm ${end.vm} vcpu${v.vcpu}: ${missing} of ${v.exits} counted exits unrecorded (in flight when the VM stopped)`);
    }
  }
  return lines.join("\n") + "\n";
}
