/*
 * An experiment's output directory:
 *
 *   OUT/points/point-K.json   one per sweep point (a local run and a Slurm array task alike)
 *   OUT/results.json          every run (Results)
 *   OUT/results.csv           one row per run
 *   OUT/summary.md            one row per point
 *   OUT/charts/*.svg          charts.ts
 *
 * A local run and `popek exp merge` both end in writeResults over the
 * points' files, so the two give the same files for the same runs.
 */

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors.ts";
import { chartsFor, renderSvg } from "./charts.ts";
import { resultsCsv, type PointResult, type Results } from "./results.ts";
import { summaryMarkdown } from "./summary.ts";

const POINTS_DIR = "points";
const POINT_FILE = /^point-(\d+)\.json$/;

export function pointPath(out: string, point: number): string {
  return join(out, POINTS_DIR, `point-${point}.json`);
}

export function writePoint(out: string, result: PointResult): string {
  mkdirSync(join(out, POINTS_DIR), { recursive: true });
  const path = pointPath(out, result.point);
  writeFileSync(path, JSON.stringify(result, null, 1) + "\n");
  return path;
}

/** Every point file under OUT/points, in point order; a ConfigError when there are none or they disagree. */
function readPoints(out: string): PointResult[] {
  let names: string[];
  try {
    names = readdirSync(join(out, POINTS_DIR));
  } catch {
    throw new ConfigError(`${out}: no ${POINTS_DIR}/ directory (give the --out DIR of popek exp or of its Slurm job)`);
  }
  const points = names
    .filter((n) => POINT_FILE.test(n))
    .map((n) => JSON.parse(readFileSync(join(out, POINTS_DIR, n), "utf8")) as PointResult)
    .sort((a, b) => a.point - b.point);
  if (points.length === 0) throw new ConfigError(`${out}/${POINTS_DIR}: no point-K.json files yet`);
  const first = points[0]!;
  for (const p of points) {
    if (p.experiment !== first.experiment || p.points !== first.points) {
      throw new ConfigError(`${out}/${POINTS_DIR}: point ${p.point} is from ${p.experiment} (${p.points} points), point ${first.point} from ${first.experiment} (${first.points})`);
    }
  }
  return points;
}

/** The points joined into one Results. */
function joinPoints(points: readonly PointResult[]): Results {
  const first = points[0]!;
  const seen = new Set(points.map((p) => p.point));
  const missing: number[] = [];
  for (let k = 0; k < first.points; k++) if (!seen.has(k)) missing.push(k);
  return {
    experiment: first.experiment,
    file: first.file,
    paramNames: first.paramNames,
    points: first.points,
    missing,
    runs: points.flatMap((p) => p.runs),
  };
}

export interface Written {
  readonly results: Results;
  readonly files: readonly string[];
  readonly charts: readonly string[];
}

/** Writes results.json, results.csv, summary.md and the charts from OUT/points. */
export async function writeResults(out: string): Promise<Written> {
  const results = joinPoints(readPoints(out));
  const files = [join(out, "results.json"), join(out, "results.csv"), join(out, "summary.md")];
  writeFileSync(files[0]!, JSON.stringify(results, null, 1) + "\n");
  writeFileSync(files[1]!, resultsCsv(results));
  writeFileSync(files[2]!, summaryMarkdown(results));
  mkdirSync(join(out, "charts"), { recursive: true });
  const charts: string[] = [];
  for (const chart of chartsFor(results)) {
    const path = join(out, "charts", chart.file);
    writeFileSync(path, await renderSvg(chart));
    charts.push(path);
  }
  return { results, files, charts };
}
