/*
 * The frame `popek run --top` draws each second, in the manner of kvm_stat:
 * every exit counter that has moved, its total and its rate over the last
 * interval (overall and per vCPU), busiest first; then one row per vCPU.
 * A pure function of two samples, so a test can check it without a terminal.
 */

import { EXIT_STATS, type ExitStatName } from "../hypervisor/stats.ts";
import { formatTable } from "./table.ts";

/** The counters of every vCPU at one moment (readStats of each run page). */
export interface TopSample {
  readonly ms: number;
  readonly vcpus: readonly Record<ExitStatName, number>[];
}

export interface TopHeader {
  readonly vm: string;
  readonly exitHandler: string;
  readonly wait: string;
  readonly uptimeMs: number;
}

/** Counters shown in the per-vCPU block rather than as reasons. */
const NOT_REASONS: ReadonlySet<ExitStatName> = new Set(["instructions", "remote_tlb_flush_ns", "host_cpu_samples", "host_cpu_shared"]);

export function formatTopFrame(header: TopHeader, prev: TopSample, now: TopSample, maxRows = Infinity): string[] {
  const dt = Math.max(1e-3, (now.ms - prev.ms) / 1000);
  const n = now.vcpus.length;
  const rate = (name: ExitStatName, v: number): number => (now.vcpus[v][name] - (prev.vcpus[v]?.[name] ?? 0)) / dt;
  const total = (name: ExitStatName): number => now.vcpus.reduce((a, s) => a + s[name], 0);
  const up = Math.floor(header.uptimeMs / 1000);
  const clock = `${String(Math.floor(up / 3600)).padStart(2, "0")}:${String(Math.floor(up / 60) % 60).padStart(2, "0")}:${String(up % 60).padStart(2, "0")}`;
  const lines = [`popek top  ${header.vm}  ${n} vCPU${n === 1 ? "" : "s"}  --exit-handler ${header.exitHandler}  --wait ${header.wait}  up ${clock}  (q quits)`, ""];

  const rows = EXIT_STATS.map((s) => s.name)
    .filter((name) => !NOT_REASONS.has(name) && total(name) > 0)
    .map((name) => {
      const perVcpu = now.vcpus.map((_, v) => rate(name, v));
      return { name, total: total(name), rate: perVcpu.reduce((a, b) => a + b, 0), perVcpu };
    })
    .sort((a, b) => b.rate - a.rate || b.total - a.total);
  const perVcpuHead = n > 1 ? now.vcpus.map((_, v) => `vcpu${v}/s`) : [];
  const reasonTable = [["counter", "total", "/s", ...perVcpuHead]];
  for (const r of rows) reasonTable.push([r.name, String(r.total), fmtRate(r.rate), ...(n > 1 ? r.perVcpu.map(fmtRate) : [])]);
  const vcpuTable = [["vcpu", "exits/s", "to main/s", "MIPS", "on main's core"]];
  const sum = { exits: 0, main: 0, mips: 0 };
  for (let v = 0; v < n; v++) {
    const exits = rate("exits", v);
    const main = rate("main_exits", v);
    const mips = rate("instructions", v) / 1e6;
    sum.exits += exits;
    sum.main += main;
    sum.mips += mips;
    // The interval's looks at where this vCPU and the main thread ran (host_cpu_shared): the scheduler's placement.
    const looks = rate("host_cpu_samples", v);
    const shared = looks > 0 ? `${Math.round((100 * rate("host_cpu_shared", v)) / looks)}%` : "-";
    vcpuTable.push([`vcpu${v}`, fmtRate(exits), fmtRate(main), mips.toFixed(1), shared]);
  }
  if (n > 1) vcpuTable.push(["all", fmtRate(sum.exits), fmtRate(sum.main), sum.mips.toFixed(1), ""]);

  const vcpuLines = formatTable(vcpuTable).split("\n");
  // The per-vCPU block always fits; the reasons table is cut to what is left, busiest first.
  const room = Math.max(2, maxRows - lines.length - vcpuLines.length - 1);
  const reasonLines = formatTable(reasonTable).split("\n");
  lines.push(...reasonLines.slice(0, room), "", ...vcpuLines);
  return lines;
}

function fmtRate(r: number): string {
  return r >= 100 ? String(Math.round(r)) : r.toFixed(1);
}
