/*
 * The exit table of `--stats` and `popek demo`: one row per counter
 * (src/hypervisor/stats.ts, in its order), one column per vCPU and a VM
 * total, then the exit round trip's latency percentiles.
 */

import { EXIT_STATS } from "../hypervisor/stats.ts";
import type { VcpuReport } from "../hypervisor/vm.ts";
import { formatTable } from "./table.ts";

export function formatStats(reports: readonly VcpuReport[]): string {
  const total = reports.length > 1;
  const header = ["counter", ...reports.map((r) => `vcpu${r.hart}`), ...(total ? ["vm"] : [])];
  const rows: string[][] = [header];
  for (const s of EXIT_STATS) {
    const values = reports.map((r) => r.stats[s.name]);
    rows.push([s.name, ...values.map(String), ...(total ? [String(values.reduce((a, b) => a + b, 0))] : [])]);
  }
  const lat = (pick: (r: VcpuReport) => number | undefined): string[] =>
    reports.map((r) => {
      const v = pick(r);
      return v === undefined || r.latency === undefined || r.latency.count === 0 ? "-" : `${(v / 1000).toFixed(2)}us`;
    });
  const pad = total ? ["-"] : [];
  rows.push(["exit_rtt_p50", ...lat((r) => r.latency?.p50Ns), ...pad]);
  rows.push(["exit_rtt_p99", ...lat((r) => r.latency?.p99Ns), ...pad]);
  return "\n" + formatTable(rows) + "\n";
}
