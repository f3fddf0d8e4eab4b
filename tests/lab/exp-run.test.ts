/*
 * `popek exp` end to end: a tiny experiment (an NE2000 guest sending frames
 * to a host sink, with both exit-handler places, two points at a time in the
 * pool) writes its JSON, CSV, Markdown and SVG charts, and each holds the
 * numbers the runs measured. A run that fails is recorded and the sweep goes on.
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Results } from "../../src/lab/results.ts";
import { readTrace } from "../../src/trace/read.ts";

const POPEK = join(process.cwd(), "bin/popek.js");

const TINY = `
name: tiny
vms:
  - name: vm0
    kernel: guests/bin/ne2000-test.elf
    firmware: none
    append: "tx 40 64 100000"
    mem: 16M
    handler: \${handler}
    devices: ["ne2000,netdev=n0"]
endpoints:
  - { kind: sink, nic: vm0.n0 }
metrics:
  patterns:
    sent: 'tx: sent (\\d+) frames'
timeout: 120
trace: true
sweep:
  handler: [main, vcpu]
`;

function popek(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [POPEK, ...args], { encoding: "utf8", timeout: 240_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("popek exp", () => {
  it("writes results.json, results.csv, summary.md and charts holding the measured numbers", { timeout: 300_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), "popek-exp-"));
    const file = join(dir, "tiny.yaml");
    writeFileSync(file, TINY);
    const out = join(dir, "out");
    const r = popek(["exp", file, "--out", out, "--parallel", "2"]);
    expect(r.stderr).toBe("");
    expect(r.status, r.stdout).toBe(0);
    // Not a terminal: plain progress lines, one as each run starts and ends.
    expect(r.stdout).toMatch(/\[1\/2\] handler=main: started/);
    expect(r.stdout).toMatch(/\[2\/2\] handler=vcpu: ok in/);

    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Results;
    expect(results.runs.map((x) => [x.point, x.params.handler, x.status])).toEqual([[0, "main", "ok"], [1, "vcpu", "ok"]]);
    const csv = readFileSync(join(out, "results.csv"), "utf8").trim().split("\n");
    const header = csv[0]!.split(",");
    const md = readFileSync(join(out, "summary.md"), "utf8");
    const svg = readFileSync(join(out, "charts", "throughput.svg"), "utf8");
    for (const run of results.runs) {
      // The guest sent its 40 frames, the sink counted them, and the device exits show it.
      expect(run.metrics.sent).toBe(40);
      expect(run.frames).toBe(40);
      expect(run.throughputMbps).toBeGreaterThan(0);
      expect(run.exits.mmio_exit_kernel + run.exits.mmio_exit_user).toBeGreaterThan(run.frames!);
      expect(run.coresUsed).toBeGreaterThan(0);
      const row = csv[run.point + 1]!.split(",");
      const col = (name: string) => row[header.indexOf(name)];
      expect(col("handler")).toBe(run.params.handler);
      expect(col("exits")).toBe(String(run.exits.exits));
      expect(col("frames")).toBe(String(run.frames));
      expect(col("sent")).toBe(String(run.metrics.sent));
      expect(md).toContain(`| ${run.point} | ${run.params.handler} | 1/1 |`);
      expect(md).toContain(run.exits.exits.toLocaleString("en-US"));
      // vega writes each bar's value into its aria-label.
      expect(svg).toContain(`handler=${run.params.handler}`);
      expect(svg).toContain(String(run.throughputMbps).slice(0, 6));
      // trace: true — every exit the run counted is in its trace file (or counted as dropped).
      expect(run.trace?.file).toBe(join(out, "traces", `point-${run.point}-rep-0.trace`));
      const trace = readTrace(run.trace!.file);
      expect(trace.ends[0]!.vcpus[0]!.exits).toBe(run.exits.exits);
      expect(trace.records.length + run.trace!.dropped).toBeGreaterThanOrEqual(run.exits.exits);
    }
    expect(readFileSync(join(out, "charts", "exits.svg"), "utf8")).toContain("reason: mmio_exit_kernel");
  });

  it("records a run that fails (a pattern finding nothing) with its error, and goes on", { timeout: 300_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), "popek-exp-"));
    const file = join(dir, "fail.yaml");
    writeFileSync(
      file,
      `name: fail
vms:
  - name: vm0
    kernel: guests/bin/kernel-mini.elf
    firmware: hv
metrics:
  patterns:
    n: \${look.pattern}
sweep:
  look:
    - { name: absent, pattern: 'nothing-prints-this (\\d+)' }
    - { name: fib, pattern: 'fib\\(40\\) = (\\d+)' }
`,
    );
    const out = join(dir, "out");
    const r = popek(["exp", file, "--out", out]);
    expect(r.status).toBe(1);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Results;
    expect(results.runs.map((x) => [x.params.look, x.status])).toEqual([["absent", "failed"], ["fib", "ok"]]);
    expect(results.runs[0]!.error).toBe("metric n: /nothing-prints-this (\\d+)/ found no number in the guests' output");
    expect(results.runs[1]!.metrics.n).toBe(102334155);
    expect(readFileSync(join(out, "summary.md"), "utf8")).toContain("- point 0 rep 0 failed: metric n:");
  });

  it("stops a run when a guest prints the line the file waits for (until: output)", { timeout: 300_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), "popek-exp-"));
    const file = join(dir, "until.yaml");
    // labos's echo waits for a console line forever: only the marker can end this run in time.
    writeFileSync(
      file,
      `name: until
vms:
  - name: vm0
    kernel: guests/bin/labos.elf
    firmware: hv
    append: echo
until: { output: 'labos: \\d+ harts running' }
timeout: 200
`,
    );
    const out = join(dir, "out");
    const r = popek(["exp", file, "--out", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Results;
    expect(results.runs[0]).toMatchObject({ status: "ok" });
    expect(results.runs[0]!.seconds).toBeLessThan(200);
  });

  it("refuses a file with a mistake before running anything, in one line", () => {
    const dir = mkdtempSync(join(tmpdir(), "popek-exp-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "name: bad\nvms:\n  - name: vm0\n    kernel: guests/bin/no-such.elf\n");
    const r = popek(["exp", file, "--out", join(dir, "out")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`popek: ${file}: vms[0].kernel: expected an existing file, found "guests/bin/no-such.elf"\n`);
    writeFileSync(file, "name: bad\nvms:\n  - name: vm0\n    kernel: guests/bin/kernel-mini.elf\n    devices: [\"ne2000,netdev=n9\"]\n");
    const d = popek(["exp", file, "--out", join(dir, "out")]);
    expect(d.stderr).toBe(`popek: ${file}: vms[0]: --device ne2000: no --netdev with id=n9\n`);
    expect(existsSync(join(dir, "out"))).toBe(false);
  });
});
