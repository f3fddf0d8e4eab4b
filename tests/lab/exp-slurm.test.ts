/*
 * Sweeps on a real Slurm cluster: a one-node cluster of the test's own
 * (tests/helpers/slurm-cluster.ts) runs `popek exp FILE --slurm --submit`'s
 * array job, one task per sweep point; `popek exp merge` joins the points,
 * and the merged results are exactly the points' records.
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PointResult, Results } from "../../src/lab/results.ts";
import { slurmUnavailable, startSlurmCluster, type SlurmCluster } from "../helpers/slurm-cluster.ts";

const POPEK = join(process.cwd(), "bin/popek.js");
const unavailable = slurmUnavailable();

const SWEEP = `
name: slurm-sweep
vms:
  - name: vm0
    kernel: ${join(process.cwd(), "guests/bin/kernel-mini.elf")}
    firmware: hv
    vcpus: 2
    handler: \${handler}
timeout: 120
sweep:
  handler: [main, vcpu]
`;

describe.skipIf(unavailable !== undefined)(`popek exp on a one-node Slurm cluster${unavailable === undefined ? "" : ` (skipped: ${unavailable})`}`, () => {
  let cluster: SlurmCluster;
  beforeAll(async () => {
    cluster = await startSlurmCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("runs one array task per sweep point, and merge joins exactly the points' records", { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "popek-exp-slurm-"));
    const file = join(dir, "sweep.yaml");
    writeFileSync(file, SWEEP);
    const out = join(dir, "out");
    const sub = spawnSync(process.execPath, [POPEK, "exp", file, "--slurm", "--submit", "--out", out], { env: cluster.env, encoding: "utf8" });
    expect(sub.stderr).toBe("");
    expect(sub.status).toBe(0);
    const job = sub.stdout.trim().split("\n").at(-1)!;
    expect(job).toMatch(/^\d+$/);
    expect(readFileSync(join(out, "slurm", "job.sbatch"), "utf8")).toContain("#SBATCH --array=0-1");

    // Wait for the scheduler to finish the job: squeue lists its tasks until they end.
    for (let i = 0; i < 1200 && cluster.run("squeue", ["-h", "-j", job]).trim() !== ""; i++) await new Promise((r) => setTimeout(r, 200));
    expect(cluster.run("squeue", ["-h", "-j", job]).trim()).toBe("");
    for (const k of [0, 1]) {
      const log = join(out, "slurm", `${job}_${k}.out`);
      expect(existsSync(join(out, "points", `point-${k}.json`)), existsSync(log) ? readFileSync(log, "utf8") : `no ${log}`).toBe(true);
    }

    const merge = spawnSync(process.execPath, [POPEK, "exp", "merge", out], { encoding: "utf8" });
    expect(merge.stderr).toBe("");
    expect(merge.status).toBe(0);
    const points = [0, 1].map((k) => JSON.parse(readFileSync(join(out, "points", `point-${k}.json`), "utf8")) as PointResult);
    const merged = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Results;
    expect(merged.missing).toEqual([]);
    expect(merged.runs).toEqual(points.flatMap((p) => p.runs));
    expect(merged.runs.map((r) => [r.params.handler, r.status])).toEqual([["main", "ok"], ["vcpu", "ok"]]);
    expect(merged.runs.every((r) => r.exits.exits > 0)).toBe(true);
    const csv = readFileSync(join(out, "results.csv"), "utf8").trim().split("\n");
    expect(csv).toHaveLength(3);
    expect(readFileSync(join(out, "summary.md"), "utf8")).toContain("| 1 | vcpu | 1/1 |");
    expect(existsSync(join(out, "charts", "exits.svg"))).toBe(true);
  });
});
