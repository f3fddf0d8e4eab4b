/*
 * A `popek exp --parallel N` pool worker (piscina): runs one point of an
 * experiment file and returns its records; progress goes back on the
 * task's port.
 */

import { ConfigError } from "../errors.ts";
import { loadExperiment } from "../lab/experiment-file.ts";
import type { PointResult } from "../lab/results.ts";
import { runPoint, type PointTask } from "./exp-run.ts";

export default async function runPointTask(task: PointTask): Promise<PointResult> {
  const exp = loadExperiment(task.file);
  const point = exp.points[task.point];
  if (point === undefined) throw new ConfigError(`${task.file}: no point ${task.point}`);
  try {
    return await runPoint(exp, point, (m) => task.port.postMessage(m), task.out);
  } finally {
    task.port.close();
  }
}
