/*
 * Progress of `popek exp`: a bar per run on a terminal (cli-progress; the
 * bar fills over the run's duration, or its timeout when it runs until the
 * guest stops), plain lines otherwise (a log, CI, a Slurm task's output).
 */

import cliProgress from "cli-progress";
import type { RunRecord } from "../lab/results.ts";
import type { RunProgress } from "./exp-point.ts";

interface RunView {
  update(p: RunProgress): void;
  done(r: RunRecord): void;
}

export interface ProgressView {
  /** A run begins: `label` says which (point, parameters, repetition). */
  start(label: string): RunView;
  close(): void;
}

/** One line about a finished run. */
function runLine(label: string, r: RunRecord): string {
  if (r.status === "failed") return `${label}: FAILED after ${r.seconds.toFixed(1)} s: ${r.error}`;
  const tput = r.throughputMbps === null ? "" : `, ${r.throughputMbps.toFixed(2)} Mbit/s`;
  const p50 = r.latency === null ? "" : `, exit rtt p50 ${(r.latency.p50Ns / 1000).toFixed(2)} us`;
  return `${label}: ok in ${r.seconds.toFixed(1)} s, ${r.exits.exits} exits${tput}${p50}`;
}

function plainView(write: (line: string) => void): ProgressView {
  return {
    start(label) {
      write(`${label}: started`);
      return { update: () => {}, done: (r) => write(runLine(label, r)) };
    },
    close: () => {},
  };
}

function barsView(): ProgressView {
  const bars = new cliProgress.MultiBar(
    { format: " {bar} {label} | {elapsed}s/{limit}s | {exits} exits {status}", hideCursor: true, clearOnComplete: false, stopOnComplete: false, barsize: 24 },
    cliProgress.Presets.shades_classic,
  );
  return {
    start(label) {
      const bar = bars.create(1000, 0, { label, elapsed: "0.0", limit: "-", exits: 0, status: "" });
      return {
        update: (p) => bar.update(Math.min(1000, Math.round((p.elapsed / p.limit) * 1000)), { elapsed: p.elapsed.toFixed(1), limit: p.limit, exits: p.exits }),
        done: (r) => bar.update(1000, { elapsed: r.seconds.toFixed(1), exits: r.exits.exits, status: r.status === "ok" ? "ok" : `FAILED: ${r.error}` }),
      };
    },
    close: () => bars.stop(),
  };
}

/** Bars when stdout is a terminal, lines otherwise. */
export function progressView(): ProgressView {
  return process.stdout.isTTY ? barsView() : plainView((line) => process.stdout.write(`${line}\n`));
}
