/*
 * The experiment's charts as SVG files: Vega-Lite specs compiled by
 * vega-lite and rendered by vega's headless View (no browser, no canvas).
 * A chart is drawn only when the runs hold its data: throughput needs
 * sinks, the CDF sampled exits, scaling more than one vCPU count.
 */

import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { EXIT_STATS } from "../hypervisor/stats.ts";
import { mergeHistograms, type Results, type RunRecord } from "./results.ts";
import { pointLabel } from "./sweep.ts";

export interface Chart {
  /** File name, e.g. exits.svg. */
  readonly file: string;
  readonly title: string;
  readonly spec: TopLevelSpec;
}

/** Reasons a run's exits divide into: the *_exit counters, less sbi_exit (the part of ecall_exit the hypervisor's SBI served). */
const REASONS = EXIT_STATS.map((s) => s.name).filter((n) => /_exit(_|$)/.test(n) && n !== "sbi_exit");
/** Percentiles the CDF is drawn through. */
const CDF_PERCENTILES = [0, 1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97.5, 99, 99.5, 99.9, 100];

/** A point's label without one parameter (the one on an axis). */
function labelWithout(r: RunRecord, skip: string): string {
  const rest = Object.fromEntries(Object.entries(r.params).filter(([k]) => k !== skip));
  return pointLabel(rest);
}

function ok(results: Results): RunRecord[] {
  return results.runs.filter((r) => r.status === "ok");
}

function throughputChart(runs: readonly RunRecord[]): Chart | undefined {
  const values = runs.filter((r) => r.throughputMbps !== null).map((r) => ({ nic: r.config.nic, run: labelWithout(r, "nic"), mbps: r.throughputMbps }));
  if (values.length === 0) return undefined;
  return {
    file: "throughput.svg",
    title: "Throughput by NIC kind",
    spec: {
      data: { values },
      mark: "bar",
      encoding: {
        x: { field: "nic", type: "nominal", title: "NIC" },
        xOffset: { field: "run", type: "nominal" },
        y: { field: "mbps", type: "quantitative", aggregate: "mean", title: "Mbit/s at the sink (mean over repetitions)" },
        color: { field: "run", type: "nominal", title: "point" },
      },
    },
  };
}

function exitsChart(runs: readonly RunRecord[]): Chart | undefined {
  // Means over repetitions computed here: stacked bars need a summing aggregate.
  const sums = new Map<string, { run: string; reason: string; exits: number; n: number }>();
  for (const r of runs) {
    for (const reason of REASONS) {
      const key = `${r.point}/${reason}`;
      const s = sums.get(key) ?? { run: pointLabel(r.params), reason, exits: 0, n: 0 };
      s.exits += r.exits[reason];
      s.n++;
      sums.set(key, s);
    }
  }
  const values = [...sums.values()].filter((s) => s.exits > 0).map((s) => ({ run: s.run, reason: s.reason, exits: s.exits / s.n }));
  if (values.length === 0) return undefined;
  return {
    file: "exits.svg",
    title: "Exits by reason",
    spec: {
      data: { values },
      mark: "bar",
      encoding: {
        y: { field: "run", type: "nominal", title: "point" },
        x: { field: "exits", type: "quantitative", aggregate: "sum", title: "exits per run (mean over repetitions)" },
        color: { field: "reason", type: "nominal", title: "reason" },
      },
    },
  };
}

function latencyCdfChart(runs: readonly RunRecord[]): Chart | undefined {
  const groups = new Map<string, { wait: string; handler: string; hist: (string | null)[] }>();
  for (const r of runs) {
    if (r.histogram === null) continue;
    const key = `${r.config.wait}/${r.config.handler}`;
    const g = groups.get(key) ?? { wait: r.config.wait, handler: r.config.handler, hist: [] };
    g.hist.push(r.histogram);
    groups.set(key, g);
  }
  const values: { wait: string; handler: string; us: number; fraction: number }[] = [];
  for (const g of groups.values()) {
    const h = mergeHistograms(g.hist);
    if (h === null) continue;
    for (const p of CDF_PERCENTILES) values.push({ wait: g.wait, handler: g.handler, us: Math.max(h.getValueAtPercentile(p), 1) / 1000, fraction: p / 100 });
  }
  if (values.length === 0) return undefined;
  return {
    file: "latency-cdf.svg",
    title: "Exit round-trip latency CDF per wait policy",
    spec: {
      data: { values },
      mark: { type: "line", interpolate: "step-after", point: true },
      encoding: {
        x: { field: "us", type: "quantitative", scale: { type: "log" }, title: "exit round trip, us (log)" },
        y: { field: "fraction", type: "quantitative", title: "fraction of exits" },
        color: { field: "wait", type: "nominal", title: "--wait" },
        strokeDash: { field: "handler", type: "nominal", title: "--exit-handler" },
      },
    },
  };
}

function scalingChart(runs: readonly RunRecord[]): Chart | undefined {
  if (new Set(runs.map((r) => r.config.vcpus)).size < 2) return undefined;
  const values = runs.filter((r) => r.seconds > 0).map((r) => ({ vcpus: r.config.vcpus, run: labelWithout(r, "vcpus"), rate: r.exits.exits / r.seconds }));
  return {
    file: "scaling.svg",
    title: "Scaling with vCPU count",
    spec: {
      data: { values },
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "vcpus", type: "quantitative", title: "vCPUs", axis: { tickMinStep: 1 } },
        y: { field: "rate", type: "quantitative", aggregate: "mean", title: "exits per second (whole VM)" },
        color: { field: "run", type: "nominal", title: "point" },
      },
    },
  };
}

/** The charts the results have data for. */
export function chartsFor(results: Results): Chart[] {
  const runs = ok(results);
  return [throughputChart(runs), exitsChart(runs), latencyCdfChart(runs), scalingChart(runs)].filter((c): c is Chart => c !== undefined);
}

/** A chart as an SVG document. */
export async function renderSvg(chart: Chart): Promise<string> {
  const spec = { ...chart.spec, title: chart.title, width: 480, height: 260 } as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
