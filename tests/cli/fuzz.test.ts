/*
 * `popek fuzz` from the command line: a seed's line, the summary, and one
 * line for a bad flag.
 */

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const POPEK = join(process.cwd(), "bin/popek.js");

function popek(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [POPEK, ...args], { encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("popek fuzz", () => {
  it("runs the seeds it is given and exits 0 when nothing is found", () => {
    const r = popek("fuzz", "--seed", "5", "--count", "1", "--items", "50", "--exit-handler", "main");
    expect(r.stdout).toMatch(/^popek fuzz: seeds 5\.\.5\nseed 5: .*ok.*\npopek fuzz: 1 seed\(s\), 0 finding\(s\)\n$/);
    expect(r.status).toBe(0);
  }, 120_000);

  it("a bad --count is one line", () => {
    const r = popek("fuzz", "--count", "0");
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('popek: --count: expected a whole number from 1 to 1000000, got "0"\n');
  }, 60_000);
});
