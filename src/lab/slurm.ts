/*
 * Sweeps on a Slurm cluster: an `sbatch --array` job with one array task
 * per sweep point, each running `popek exp FILE --point $SLURM_ARRAY_TASK_ID
 * --out DIR`; `popek exp merge DIR` joins the points afterwards. The
 * scheduler is Slurm's own (sbatch); nothing here stands in for it.
 */

import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import type { ExperimentFile } from "./experiment-file.ts";

export interface SlurmOptions {
  /** Absolute output directory (shared between the nodes, as Slurm users' home directories are). */
  readonly out: string;
  /** The command that runs popek: node and bin/popek.js, absolute. */
  readonly popek: readonly string[];
  /** Where the tasks start (image paths in the file are relative to it). */
  readonly cwd: string;
  readonly partition?: string;
  /** CPUs per task (sbatch --cpus-per-task); Slurm's default when absent. */
  readonly cpus?: number;
}

/** A word for a bash script, quoted when it needs to be. */
function sh(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The job's time limit in minutes: every repetition of the slowest point at its timeout, with a margin. */
function timeLimitMinutes(exp: ExperimentFile): number {
  const worst = Math.max(...exp.points.map((p) => p.experiment.timeout * p.experiment.repetitions));
  return Math.ceil((worst * 1.2) / 60) + 1;
}

/** The sbatch script for `exp`. */
function slurmScript(exp: ExperimentFile, opts: SlurmOptions): string {
  const lines = [
    "#!/bin/bash",
    `# popek exp: ${exp.name} from ${exp.file}, ${exp.points.length} point(s), one per array task.`,
    `# Afterwards: popek exp merge ${opts.out}`,
    `#SBATCH --job-name=popek-${exp.name}`,
    `#SBATCH --array=0-${exp.points.length - 1}`,
    `#SBATCH --output=${join(opts.out, "slurm", "%A_%a.out")}`,
    `#SBATCH --time=${timeLimitMinutes(exp)}`,
    ...(opts.partition === undefined ? [] : [`#SBATCH --partition=${opts.partition}`]),
    ...(opts.cpus === undefined ? [] : [`#SBATCH --cpus-per-task=${opts.cpus}`]),
    "set -euo pipefail",
    `cd ${sh(opts.cwd)}`,
    `exec ${[...opts.popek, "exp", resolve(opts.cwd, exp.file)].map(sh).join(" ")} --point "$SLURM_ARRAY_TASK_ID" --out ${sh(opts.out)}`,
    "",
  ];
  return lines.join("\n");
}

/** Writes the script to OUT/slurm/job.sbatch; returns its path. */
export function writeSlurmScript(exp: ExperimentFile, opts: SlurmOptions): string {
  mkdirSync(join(opts.out, "slurm"), { recursive: true });
  const path = join(opts.out, "slurm", "job.sbatch");
  writeFileSync(path, slurmScript(exp, opts), { mode: 0o755 });
  return path;
}

/** Submits the script with sbatch; returns the job id. */
export function submitSlurm(script: string): string {
  const r = spawnSync("sbatch", ["--parsable", script], { encoding: "utf8" });
  if (r.error !== undefined) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new ConfigError(code === "ENOENT" ? "--submit: sbatch not found (install Slurm's client, Debian slurm-client)" : `--submit: sbatch: ${r.error.message}`);
  }
  if (r.status !== 0) throw new ConfigError(`--submit: sbatch failed: ${r.stderr.trim() || `status ${r.status}`}`);
  const id = r.stdout.trim().split(";")[0]!;
  if (!/^\d+$/.test(id)) throw new ConfigError(`--submit: sbatch printed "${r.stdout.trim()}", not a job id`);
  return id;
}
