/*
 * An experiment's results: one record per run (a sweep point's repetition),
 * as each point writes them (OUT/points/point-K.json, what a Slurm array
 * task leaves behind) and as `merge` joins them. Counter names are the
 * hypervisor's own (src/hypervisor/stats.ts), verbatim, as in --stats.
 */

import * as hdr from "hdr-histogram-js";
import { EXIT_STATS, type ExitStatName } from "../hypervisor/stats.ts";
import type { Params } from "./sweep.ts";

export interface LatencyPercentiles {
  /** Round trips timed (one exit in 16 that crossed to the main thread is sampled). */
  readonly count: number;
  readonly p50Ns: number;
  readonly p90Ns: number;
  readonly p99Ns: number;
  readonly maxNs: number;
}

/** What a run was, beyond its parameters: read from the VMs it ran, so charts work whatever the sweep varied. */
interface RunConfig {
  readonly virt: string;
  readonly wait: string;
  readonly handler: string;
  /** vCPUs (or harts) of every VM together. */
  readonly vcpus: number;
  /** NIC models in the run (ne2000, virtio), or "none". */
  readonly nic: string;
}

export interface RunRecord {
  readonly point: number;
  readonly rep: number;
  readonly params: Params;
  readonly config: RunConfig;
  readonly status: "ok" | "failed";
  /** Why a failed run failed, in one line. */
  readonly error?: string;
  /** Wall seconds from the first VM's start to the last VM's end. */
  readonly seconds: number;
  /** Mbit/s the sinks received, between the first and the last frame they saw; null without sinks. */
  readonly throughputMbps: number | null;
  /** Frames the sinks received; null without sinks. */
  readonly frames: number | null;
  /** Every VM's counters summed over its vCPUs, and over the VMs. */
  readonly exits: Readonly<Record<ExitStatName, number>>;
  readonly latency: LatencyPercentiles | null;
  /** The exit round-trip histogram of every vCPU added together (HDR, compressed base64), for CDFs and merges. */
  readonly histogram: string | null;
  /** The main thread's event-loop utilisation over the run, percent. */
  readonly mainBusyPct: number;
  /** The main thread's busy time over the run (event loop active), ms. */
  readonly mainBusyMs: number;
  /** CPU time of the whole process (every thread) over wall time: cores kept busy. */
  readonly coresUsed: number;
  /** Numbers read from the guest's output (metrics.parse, metrics.patterns). */
  readonly metrics: Readonly<Record<string, number>>;
  /** With `trace: true`: the run's exit-trace file, the records written and those a full ring dropped. */
  readonly trace?: { readonly file: string; readonly records: number; readonly dropped: number };
}

/** One point's results file. */
export interface PointResult {
  readonly experiment: string;
  readonly file: string;
  readonly point: number;
  /** Points in the whole sweep (so a merge knows which are missing). */
  readonly points: number;
  readonly paramNames: readonly string[];
  readonly params: Params;
  readonly runs: readonly RunRecord[];
}

/** The merged results (results.json). */
export interface Results {
  readonly experiment: string;
  readonly file: string;
  readonly paramNames: readonly string[];
  readonly points: number;
  /** Point indices with no results file (a Slurm task that never ran, a killed local run). */
  readonly missing: readonly number[];
  readonly runs: readonly RunRecord[];
}

const HIST_OPTS = { useWebAssembly: false, numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 60e9 } as const;

/** Adds encoded histograms (one per vCPU) into one; null when none has samples. */
export function mergeHistograms(encoded: readonly (string | null | undefined)[]): hdr.Histogram | null {
  const sum = hdr.build(HIST_OPTS);
  let any = false;
  for (const e of encoded) {
    if (e === null || e === undefined) continue;
    sum.add(hdr.decodeFromCompressedBase64(e, 32, false));
    any = true;
  }
  return any && sum.totalCount > 0 ? sum : null;
}

export function encodeHistogram(h: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function percentilesOf(h: hdr.Histogram): LatencyPercentiles {
  return { count: h.totalCount, p50Ns: h.getValueAtPercentile(50), p90Ns: h.getValueAtPercentile(90), p99Ns: h.getValueAtPercentile(99), maxNs: h.maxValue };
}

/** The CSV's columns for a set of runs: fixed ones, the parameters, every counter, then each metric seen. */
function csvColumns(paramNames: readonly string[], runs: readonly RunRecord[]): { title: string; get: (r: RunRecord) => unknown }[] {
  const metricNames = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))];
  return [
    { title: "point", get: (r) => r.point },
    { title: "rep", get: (r) => r.rep },
    ...paramNames.map((p) => ({ title: p, get: (r: RunRecord) => r.params[p] })),
    { title: "status", get: (r) => r.status },
    { title: "error", get: (r) => r.error ?? "" },
    { title: "vm_virt", get: (r) => r.config.virt },
    { title: "vm_wait", get: (r) => r.config.wait },
    { title: "vm_handler", get: (r) => r.config.handler },
    { title: "vm_vcpus", get: (r) => r.config.vcpus },
    { title: "vm_nic", get: (r) => r.config.nic },
    { title: "seconds", get: (r) => r.seconds },
    { title: "throughput_mbps", get: (r) => r.throughputMbps ?? "" },
    { title: "frames", get: (r) => r.frames ?? "" },
    ...EXIT_STATS.map((s) => ({ title: s.name, get: (r: RunRecord) => r.exits[s.name] })),
    { title: "exit_rtt_count", get: (r) => r.latency?.count ?? "" },
    { title: "exit_rtt_p50_ns", get: (r) => r.latency?.p50Ns ?? "" },
    { title: "exit_rtt_p90_ns", get: (r) => r.latency?.p90Ns ?? "" },
    { title: "exit_rtt_p99_ns", get: (r) => r.latency?.p99Ns ?? "" },
    { title: "exit_rtt_max_ns", get: (r) => r.latency?.maxNs ?? "" },
    { title: "main_busy_ms", get: (r) => r.mainBusyMs },
    { title: "main_busy_pct", get: (r) => r.mainBusyPct },
    { title: "cores_used", get: (r) => r.coresUsed },
    ...metricNames.map((m) => ({ title: m, get: (r: RunRecord) => r.metrics[m] ?? "" })),
  ];
}

/** RFC 4180: quote a field holding a comma, quote or line break. */
function csvField(v: unknown): string {
  const text = typeof v === "number" ? String(Math.round(v * 1000) / 1000) : String(v ?? "");
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** results.csv: one row per run. */
export function resultsCsv(results: Results): string {
  const cols = csvColumns(results.paramNames, results.runs);
  const lines = [cols.map((c) => csvField(c.title)).join(",")];
  for (const r of results.runs) lines.push(cols.map((c) => csvField(c.get(r))).join(","));
  return lines.join("\n") + "\n";
}
