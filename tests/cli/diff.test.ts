/*
 * `popek diff IMAGE`: the lockstep check from the command line.
 */

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const POPEK = join(process.cwd(), "bin/popek.js");
const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";

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

  it("refuses the hypervisor's own SBI in one line (it has no native counterpart)", () => {
    const r = popek("diff", "guests/bin/hello.elf", "--bios", "hv");
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--bios hv: the hypervisor's own SBI has no native counterpart/);
  }, 90_000);

  it.runIf(existsSync(OPENSBI))("checks an S-mode kernel behind Debian's OpenSBI, the firmware beneath it on both sides", () => {
    const r = popek("diff", "guests/bin/sbi-hello.elf", "--bios", OPENSBI);
    expect(r.stdout).toMatch(/native and --virt trap agree at all \d+ exits and end alike \(status 0\)/);
    expect(r.status).toBe(0);
  }, 90_000);
});
