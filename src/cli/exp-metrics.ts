/*
 * Numbers a guest reports about itself, as result columns: `metrics.parse`
 * names a benchmark guest whose report popek already reads (bench/), one
 * `<bench>_ns` column per benchmark it timed; `metrics.patterns` are
 * regular expressions whose first group is a number. A pattern that finds
 * nothing fails the run: its numbers are the point of the experiment.
 */

import { parseExitbench } from "../../bench/exitbench-parse.ts";
import { parseMmubench } from "../../bench/mmubench-parse.ts";
import type { Experiment } from "../lab/experiment-schema.ts";

/** The metric columns of one run, from each VM's output (in the file's VM order). */
export function guestMetrics(e: Experiment, outputs: readonly string[]): Record<string, number> {
  const metrics: Record<string, number> = {};
  const all = outputs.join("\n");
  if (e.metrics.parse === "exitbench") {
    for (const row of parseExitbench(all)) metrics[`${row.bench}_ns`] = row.nsPerOp;
  } else if (e.metrics.parse === "mmubench") {
    const r = parseMmubench(all);
    if (r.kind === "unsupported") throw new Error(`mmubench: unsupported: ${r.reason}`);
    for (const row of r.rows) metrics[`${row.bench}_ns`] = row.nsPerOp;
  }
  for (const [name, pattern] of Object.entries(e.metrics.patterns)) {
    const m = new RegExp(pattern, "m").exec(all);
    const value = m?.[1] === undefined ? NaN : Number(m[1]);
    if (!Number.isFinite(value)) throw new Error(`metric ${name}: /${pattern}/ found no number in the guests' output`);
    metrics[name] = value;
  }
  return metrics;
}
