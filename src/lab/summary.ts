/*
 * summary.md: one table row per sweep point, the median over its successful
 * repetitions (failed ones are counted, and their first error shown), so a
 * reader sees the experiment's answer without opening the CSV.
 */

import { formatTable } from "../report/table.ts";
import type { Results, RunRecord } from "./results.ts";

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1]! + s[mid]!) / 2;
}

function fmt(v: number | undefined, digits = 1): string {
  if (v === undefined || !Number.isFinite(v)) return "-";
  return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString("en-US") : v.toFixed(digits);
}

function us(ns: number | undefined): string {
  return ns === undefined ? "-" : `${(ns / 1000).toFixed(2)}`;
}

/** Runs of each point, in point order. */
function byPoint(runs: readonly RunRecord[]): RunRecord[][] {
  const m = new Map<number, RunRecord[]>();
  for (const r of runs) m.set(r.point, [...(m.get(r.point) ?? []), r]);
  return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

/** The summary's rows (a header first) and its notes on failed and missing runs. */
function summaryRows(results: Results): { rows: string[][]; notes: string[] } {
  const metricNames = [...new Set(results.runs.flatMap((r) => Object.keys(r.metrics)))];
  const header = ["point", ...results.paramNames, "ok", "seconds", "Mbit/s", "frames", "exits/frame", "exits", "exits/s", "rtt p50 us", "rtt p99 us", "main busy %", "cores", ...metricNames];
  const rows: string[][] = [header];
  const notes: string[] = [];
  for (const runs of byPoint(results.runs)) {
    const first = runs[0]!;
    const ok = runs.filter((r) => r.status === "ok");
    const med = (pick: (r: RunRecord) => number | null | undefined) => median(ok.map(pick).filter((v): v is number => v !== null && v !== undefined));
    rows.push([
      String(first.point),
      ...results.paramNames.map((p) => String(first.params[p])),
      `${ok.length}/${runs.length}`,
      fmt(med((r) => r.seconds), 2),
      fmt(med((r) => r.throughputMbps), 2),
      fmt(med((r) => r.frames), 0),
      fmt(med((r) => (r.frames ? r.exits.exits / r.frames : undefined)), 1),
      fmt(med((r) => r.exits.exits), 0),
      fmt(med((r) => (r.seconds > 0 ? r.exits.exits / r.seconds : undefined)), 0),
      us(med((r) => r.latency?.p50Ns)),
      us(med((r) => r.latency?.p99Ns)),
      fmt(med((r) => r.mainBusyPct), 0),
      fmt(med((r) => r.coresUsed), 2),
      ...metricNames.map((m) => fmt(med((r) => r.metrics[m]), 1)),
    ]);
    const failed = runs.find((r) => r.status === "failed");
    if (failed !== undefined) notes.push(`- point ${failed.point} rep ${failed.rep} failed: ${failed.error ?? "no reason given"}`);
  }
  if (results.missing.length > 0) notes.push(`- no results for point(s) ${results.missing.join(", ")}`);
  return { rows, notes };
}

/** The Markdown summary of merged results. */
export function summaryMarkdown(results: Results): string {
  const { rows, notes } = summaryRows(results);
  const md = rows.map((r) => `| ${r.join(" | ")} |`);
  md.splice(1, 0, `|${rows[0]!.map(() => "---").join("|")}|`);
  return [
    `# ${results.experiment}`,
    "",
    `From \`${results.file}\`: ${results.points} point(s), ${results.runs.length} run(s). Medians over each point's successful runs; times in microseconds; rtt is the exit round trip to the main thread (HDR histogram, one exit in 16 sampled).`,
    "",
    ...md,
    ...(notes.length > 0 ? ["", ...notes] : []),
    "",
  ].join("\n");
}

/** The same table for a terminal (the end of `popek exp`, the demo). */
export function summaryTable(results: Results, columns: readonly string[]): string {
  const { rows, notes } = summaryRows(results);
  const keep = rows[0]!.map((title, i) => (columns.includes(title) ? i : -1)).filter((i) => i >= 0);
  return [formatTable(rows.map((r) => keep.map((i) => r[i] ?? ""))), ...notes].join("\n");
}
