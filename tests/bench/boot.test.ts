/*
 * `popek bench boot` on its tiniest workload: the command runs end to end,
 * its last line is one JSON object, and every row has the shape the README
 * and the integrator's scripts read.
 */

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BootReport } from "../../bench/boot.ts";
import { TRAP_EXIT_HANDLER, workloadsFor } from "../../bench/boot.ts";
import { ConfigError } from "../../src/errors.ts";

const POPEK = join(process.cwd(), "bin/popek.js");

function popek(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [POPEK, ...args], { encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("popek bench boot", () => {
  it("boots hello natively and under trap to its marker and ends with one JSON object of rows", () => {
    const r = popek("bench", "boot", "--only", "hello", "--no-startup", "--json");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    const report = JSON.parse(lines[lines.length - 1]) as BootReport;
    const modes = report.results.map((row) => row.mode);
    expect(modes).toContain("native");
    expect(modes).toContain("trap");
    const native = report.results.find((row) => row.mode === "native");
    for (const row of report.results) {
      expect(row.workload).toBe("hello");
      expect(row.failure).toBeUndefined();
      expect(row.seconds).toBeGreaterThan(0);
      // hello prints its marker after a fixed program: both popek runners count the same instructions.
      expect(row.instructions).toBe(native?.instructions);
      expect(row.mips).toBeCloseTo((row.instructions ?? 0) / (row.seconds ?? 1) / 1e6, 6);
      // A ratio exists exactly where QEMU ran and the row is popek's.
      const qemuRan = modes.includes("qemu");
      expect(row.ratioToQemu !== undefined).toBe(qemuRan && row.mode !== "qemu");
    }
    // The row says where its exits were handled.
    expect(report.results.find((row) => row.mode === "trap")?.exitHandler).toBe(TRAP_EXIT_HANDLER);
    expect(report.startup).toBeUndefined();
    expect(r.stdout).toMatch(/^workload\s+mode\s+seconds\s+instructions\s+MIPS\s+x QEMU$/m);
  });

  it("names the workloads it has when --only asks for one it has not", () => {
    expect(() => workloadsFor(undefined, ["hello", "nope"])).toThrow(ConfigError);
    expect(() => workloadsFor(undefined, ["opensbi+linux"])).toThrow(/no workload opensbi\+linux \(have: hello, selftest/);
    expect(workloadsFor("vmlinux", ["opensbi+linux"]).map((w) => w.kernel)).toEqual(["vmlinux"]);
    expect(workloadsFor("vmlinux", ["opensbi+linux-2harts"]).map((w) => w.harts)).toEqual([2]);
  });

  it("refuses a bad --timeout in one line", () => {
    const r = popek("bench", "boot", "--timeout", "soon");
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('popek: --timeout: expected a positive number of seconds, got "soon"');
  });
});
