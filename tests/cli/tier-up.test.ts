/*
 * Start-up (issue 17): a short run leaves the interpreter loop to V8's
 * baseline tiers, as its exit would otherwise wait for TurboFan's compile of
 * runSlice on a background thread; a long run is warmed and then optimised
 * (src/machine/tier-up.ts). V8's --trace-opt names every optimising compile.
 */

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const POPEK = join(process.cwd(), "bin/popek.js");
const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
/** A hang-catcher, sized for a loaded two-core host. */
const LIMIT_MS = 60_000;

/** `popek run ARGS` under --trace-opt: the exit status and what V8 and the guest printed. */
function tracedRun(...args: string[]): { status: number | null; stdout: string } {
  const r = spawnSync(process.execPath, ["--trace-opt", POPEK, "run", ...args], { encoding: "utf8", timeout: LIMIT_MS, stdio: ["ignore", "pipe", "pipe"] });
  return { status: r.status, stdout: r.stdout };
}

const RUN_SLICE_COMPILE = /compiling method (0x[0-9a-f]+ )?<JSFunction runSlice\b/;

describe("the interpreter's tier-up", () => {
  it("a short run (hello.elf, 65,699 instructions) starts no optimising compile of runSlice", () => {
    const r = tracedRun("guests/bin/hello.elf");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("hello from popek");
    expect(r.stdout).not.toMatch(RUN_SLICE_COMPILE);
  }, LIMIT_MS);

  it("a long run (OpenSBI + kernel-mini) optimises runSlice", () => {
    const r = tracedRun("--bios", OPENSBI, "--kernel", "guests/bin/kernel-mini.elf");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(RUN_SLICE_COMPILE);
  }, LIMIT_MS);
});
