/*
 * `popek diff IMAGE`: the lockstep check from the command line.
 */

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const POPEK = join(process.cwd(), "bin/popek.js");

function popek(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [POPEK, ...args], { encoding: "utf8", timeout: 90_000, stdio: ["ignore", "pipe", "pipe"] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("popek diff", () => {
  it("says native and trap agree on hello, and exits 0", () => {
    const r = popek("diff", "guests/bin/hello.elf");
    expect(r.stdout).toMatch(/^popek diff: guests\/bin\/hello\.elf: native and --virt trap agree at all \d+ exits and end alike \(status 0\)/);
    expect(r.status).toBe(0);
  }, 90_000);

  it("refuses a firmware in one line", () => {
    const r = popek("diff", "guests/bin/hello.elf", "--bios", "hv");
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--bios: popek diff compares M-mode images/);
  }, 90_000);
});
