/*
 * Running an experiment's points: one after the other by default (timing
 * needs quiet cores), or `--parallel N` points at a time in a piscina pool
 * of worker threads (each point's VMs start their vCPU threads from its
 * worker). Every point's records land in OUT/points/point-K.json as the
 * point ends, so a killed sweep keeps what it measured.
 */

import { MessageChannel, type MessagePort } from "node:worker_threads";
import { Piscina } from "piscina";
import type { ExperimentFile, Point } from "../lab/experiment-file.ts";
import { writePoint } from "../lab/output.ts";
import type { PointResult, RunRecord } from "../lab/results.ts";
import { pointLabel } from "../lab/sweep.ts";
import { runOnce, type RunProgress } from "./exp-point.ts";
import type { ProgressView } from "./exp-progress.ts";

/** What a pool worker is asked: one point of the file. */
export interface PointTask {
  readonly file: string;
  readonly point: number;
  /** Progress messages (PointMessage) go here. */
  readonly port: MessagePort;
  /** The run's output directory: traces go under it. */
  readonly out: string;
}

/** From a pool worker, about one of its point's runs. */
export type PointMessage =
  | { readonly kind: "start"; readonly rep: number }
  | { readonly kind: "progress"; readonly rep: number; readonly progress: RunProgress }
  | { readonly kind: "done"; readonly rep: number; readonly record: RunRecord };

// Compiled (dist/) the worker is exp-worker.js beside this file; from the sources, a boot file
// registers tsx in the thread first (as for virtio-blk's I/O pool).
const WORKER_ENTRY = import.meta.url.endsWith(".js") ? new URL("./exp-worker.js", import.meta.url) : new URL("../../workers/exp-worker-boot.js", import.meta.url);

function runLabel(exp: ExperimentFile, point: Point, rep: number): string {
  const reps = point.experiment.repetitions;
  return `[${point.index + 1}/${exp.points.length}] ${pointLabel(point.params)}${reps > 1 ? ` rep ${rep + 1}/${reps}` : ""}`;
}

/** Runs every repetition of one point, reporting as it goes. */
export async function runPoint(exp: ExperimentFile, point: Point, report: (m: PointMessage) => void = () => {}, out?: string): Promise<PointResult> {
  const runs: RunRecord[] = [];
  for (let rep = 0; rep < point.experiment.repetitions; rep++) {
    report({ kind: "start", rep });
    const record = await runOnce(point, rep, (progress) => report({ kind: "progress", rep, progress }), out);
    report({ kind: "done", rep, record });
    runs.push(record);
  }
  return { experiment: exp.name, file: exp.file, point: point.index, points: exp.points.length, paramNames: exp.paramNames, params: point.params, runs };
}

/** Shows a point's messages on the progress view. */
class Viewer {
  private readonly runs = new Map<number, ReturnType<ProgressView["start"]>>();
  private readonly done = new Set<number>();

  constructor(
    private readonly exp: ExperimentFile,
    private readonly point: Point,
    private readonly view: ProgressView,
  ) {}

  readonly show = (m: PointMessage): void => {
    if (m.kind === "start") this.runs.set(m.rep, this.view.start(runLabel(this.exp, this.point, m.rep)));
    else if (m.kind === "progress") this.runs.get(m.rep)?.update(m.progress);
    else this.finish(m.record);
  };

  /**
   * Ends what the messages left open: a pool worker's last messages travel on their own port and
   * may arrive after its result, or never (the port closes with the task).
   */
  settle(result: PointResult): void {
    for (const r of result.runs) {
      if (!this.runs.has(r.rep)) this.show({ kind: "start", rep: r.rep });
      this.finish(r);
    }
  }

  private finish(r: RunRecord): void {
    if (this.done.has(r.rep)) return;
    this.done.add(r.rep);
    this.runs.get(r.rep)?.done(r);
  }
}

/** Runs `points` of `exp` (sequentially, or `parallel` at a time in a pool), writing each point's file under `out`. */
export async function runPoints(exp: ExperimentFile, points: readonly Point[], out: string, view: ProgressView, parallel = 1): Promise<PointResult[]> {
  if (parallel <= 1) {
    const results: PointResult[] = [];
    for (const point of points) {
      const r = await runPoint(exp, point, new Viewer(exp, point, view).show, out);
      writePoint(out, r);
      results.push(r);
    }
    return results;
  }
  const pool = new Piscina({ filename: WORKER_ENTRY.href, maxThreads: parallel, minThreads: 0, idleTimeout: 1000 });
  try {
    return await Promise.all(
      points.map(async (point) => {
        const { port1, port2 } = new MessageChannel();
        const viewer = new Viewer(exp, point, view);
        port1.on("message", viewer.show);
        try {
          const task: PointTask = { file: exp.file, point: point.index, port: port2, out };
          const r = (await pool.run(task, { transferList: [port2] })) as PointResult;
          viewer.settle(r);
          writePoint(out, r);
          return r;
        } finally {
          port1.close();
        }
      }),
    );
  } finally {
    await pool.destroy();
  }
}
