/*
 * `popek exp FILE [--out DIR] [--parallel N] [--point K]`: runs an
 * experiment file's sweep and writes its results, summary and charts;
 * `--slurm [--partition P] [--submit]` writes (and submits) an sbatch
 * array job instead; `popek exp merge DIR` joins the points of a Slurm
 * run; `popek exp --schema` prints the file format as JSON Schema.
 */

import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import { loadExperiment } from "../lab/experiment-file.ts";
import { experimentJsonSchema } from "../lab/experiment-schema.ts";
import { pointPath, writeResults, type Written } from "../lab/output.ts";
import type { PointResult } from "../lab/results.ts";
import { submitSlurm, writeSlurmScript } from "../lab/slurm.ts";
import { summaryTable } from "../lab/summary.ts";
import { checkVms } from "./exp-vm.ts";
import { progressView } from "./exp-progress.ts";
import { runPoints } from "./exp-run.ts";
import { parseCount } from "./options.ts";

export interface ExpFlags {
  out?: string;
  parallel?: string;
  point?: string;
  slurm?: boolean;
  partition?: string;
  cpus?: string;
  submit?: boolean;
  schema?: boolean;
}

/** The columns the terminal's summary shows (summary.md has them all). */
const TERMINAL_COLUMNS = ["point", "ok", "Mbit/s", "exits/frame", "exits", "exits/s", "rtt p50 us", "rtt p99 us", "main busy %", "cores"];

/** The files written, for the user. */
function describeWritten(w: Written): string {
  return [...w.files, ...w.charts].map((f) => `  ${f}`).join("\n");
}

export async function expCommand(file: string | undefined, dir: string | undefined, flags: ExpFlags): Promise<number> {
  if (flags.schema) {
    process.stdout.write(JSON.stringify(experimentJsonSchema(), null, 2) + "\n");
    return 0;
  }
  if (file === "merge") return mergeCommand(dir);
  if (file === undefined) throw new ConfigError("exp: give an experiment FILE (or: merge DIR, --schema)");
  if (dir !== undefined) throw new ConfigError(`exp: one FILE only (found also "${dir}")`);
  const exp = loadExperiment(file);
  for (const p of exp.points) checkVms(file, p.experiment);
  const out = resolve(flags.out ?? `popek-exp/${exp.name}`);

  if (flags.slurm) {
    if (flags.point !== undefined || flags.parallel !== undefined) throw new ConfigError("--slurm: each array task runs one point; --point and --parallel do not apply");
    const script = writeSlurmScript(exp, {
      out,
      popek: [process.execPath, realpathSync(process.argv[1]!)],
      cwd: process.cwd(),
      partition: flags.partition,
      cpus: flags.cpus === undefined ? undefined : parseCount("--cpus", flags.cpus, 1, 1024),
    });
    process.stdout.write(`popek exp: ${exp.points.length} point(s) as an array job: ${script}\n`);
    if (flags.submit) process.stdout.write(`${submitSlurm(script)}\n`);
    else process.stdout.write(`submit with: sbatch ${script}; then: popek exp merge ${out}\n`);
    return 0;
  }
  if (flags.partition !== undefined || flags.submit || flags.cpus !== undefined) throw new ConfigError("--partition, --cpus and --submit go with --slurm");

  const view = progressView();
  if (flags.point !== undefined) {
    // One point (a Slurm array task): its file only; `merge` joins them.
    if (flags.parallel !== undefined) throw new ConfigError("--point runs one point; --parallel does not apply");
    const k = parseCount("--point", flags.point, 0, exp.points.length - 1);
    let r: PointResult;
    try {
      [r] = (await runPoints(exp, [exp.points[k]!], out, view)) as [PointResult];
    } finally {
      view.close();
    }
    process.stdout.write(`popek exp: point ${k}: ${r.runs.filter((x) => x.status === "ok").length}/${r.runs.length} run(s) ok; ${pointPath(out, k)}\n`);
    return 0;
  }
  const parallel = flags.parallel === undefined ? 1 : parseCount("--parallel", flags.parallel, 1, 64);
  process.stdout.write(`popek exp: ${exp.name}: ${exp.points.length} point(s) × ${exp.points[0]!.experiment.repetitions} repetition(s)${parallel > 1 ? `, ${parallel} at a time` : ""}\n`);
  try {
    await runPoints(exp, exp.points, out, view, parallel);
  } finally {
    view.close();
  }
  const written = await writeResults(out);
  process.stdout.write(`\n${summaryTable(written.results, TERMINAL_COLUMNS)}\n\nwrote:\n${describeWritten(written)}\n`);
  return written.results.runs.every((r) => r.status === "ok") ? 0 : 1;
}

async function mergeCommand(dir: string | undefined): Promise<number> {
  if (dir === undefined) throw new ConfigError("exp merge: give the DIR the points were written to (--out of popek exp)");
  const written = await writeResults(resolve(dir));
  const { results } = written;
  process.stdout.write(`popek exp merge: ${results.runs.length} run(s) of ${results.points - results.missing.length}/${results.points} point(s)\n\n`);
  process.stdout.write(`${summaryTable(results, TERMINAL_COLUMNS)}\n\nwrote:\n${describeWritten(written)}\n`);
  return results.missing.length === 0 ? 0 : 1;
}
