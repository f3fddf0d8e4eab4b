/*
 * Every way a guest can end behaves the same natively and under the
 * hypervisor (--virt trap), through the CLI a user runs: HTIF pass/fail, the
 * sifive_test finisher's pass/fail/reset, SBI SRST shutdown/reboot (behind
 * Debian's OpenSBI natively, the hypervisor's SBI under trap). A reset boots
 * the same images again, so a resetting guest runs until --timeout (124),
 * printing its banner once per boot.
 */

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { finisherGuest, srstKernel } from "../helpers/small-guests.ts";

const POPEK = join(process.cwd(), "bin/popek.js");
const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const dir = mkdtempSync(join(tmpdir(), "popek-endings-"));
function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI; with `untilBoots`, interrupts it once the guest has printed "boot" that many
 * times, so a reboot loop is checked without waiting on time (--timeout is only a safety net).
 */
function popek(args: string[], untilBoots = 0): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [POPEK, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString();
      if (untilBoots > 0 && boots(stdout) >= untilBoots) child.kill("SIGINT");
    });
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * Finished lines that are exactly the guest's "boot" banner (OpenSBI's own banner says "Reboot",
 * not that). Only a line with its newline counts: the CLI flushes a partial line after 30 ms, so
 * "boot" can arrive before its "\n", and interrupting the run then would lose the newline.
 */
function boots(output: string): number {
  return (output.match(/^boot\r?\n/gm) ?? []).length;
}

const MODES: readonly { name: string; args: readonly string[] }[] = [
  { name: "natively", args: [] },
  { name: "under --virt trap", args: ["--virt", "trap"] },
  { name: "under --virt trap --exit-handler vcpu", args: ["--virt", "trap", "--exit-handler", "vcpu"] },
];

describe("HTIF: a riscv-tests program ends through tohost", () => {
  for (const m of MODES) {
    it(`pass exits 0 ${m.name}`, async () => {
      const r = await popek(["run", "guests/bin/htif-pass.elf", ...m.args, "--timeout", "60"]);
      expect(r.status).toBe(0);
    }, 90_000);
    it(`fail(3) exits 3 ${m.name}, at once`, async () => {
      const start = performance.now();
      const r = await popek(["run", "guests/bin/htif-fail.elf", ...m.args, "--bios", "none", "--timeout", "60"]);
      expect(r.status).toBe(3);
      expect(r.stderr).not.toMatch(/timeout/);
      // "At once": long before the timeout (start-up under tsx is about a second).
      expect(performance.now() - start).toBeLessThan(30_000);
    }, 90_000);
  }
});

describe("the sifive_test finisher", () => {
  const pass = file("pass.bin", finisherGuest(0x5555));
  const fail = file("fail.bin", finisherGuest((42 << 16) | 0x3333));
  const reset = file("reset.bin", finisherGuest(0x7777));
  for (const m of MODES) {
    it(`0x5555 exits 0 ${m.name}`, async () => {
      const r = await popek(["run", pass, ...m.args, "--timeout", "60"]);
      expect(r.stdout).toBe("boot\n");
      expect(r.status).toBe(0);
    }, 90_000);
    it(`42 << 16 | 0x3333 exits 42 ${m.name}`, async () => {
      const r = await popek(["run", fail, ...m.args, "--timeout", "60"]);
      expect(r.stdout).toBe("boot\n");
      expect(r.status).toBe(42);
    }, 90_000);
    it(`0x7777 reboots the same image ${m.name}`, async () => {
      const r = await popek(["run", reset, ...m.args, "--timeout", "60"], 3);
      expect(boots(r.stdout)).toBeGreaterThanOrEqual(3);
      // Compared as text, not as startsWith(...) === true, so a failure shows what the guest printed instead.
      expect(r.stdout.slice(0, 15)).toBe("boot\nboot\nboot\n");
    }, 90_000);
  }
});

describe.runIf(existsSync(OPENSBI) || process.env.CI === "true")("SBI SRST (OpenSBI natively, the hypervisor's SBI under trap)", () => {
  const shutdown = file("srst-shutdown.elf", srstKernel(0));
  const reboot = file("srst-reboot.elf", srstKernel(1));
  const SBI: readonly { name: string; args: readonly string[] }[] = [
    { name: "natively", args: ["--bios", OPENSBI] },
    { name: "under --virt trap", args: ["--virt", "trap"] },
    { name: "under --virt trap --exit-handler vcpu", args: ["--virt", "trap", "--exit-handler", "vcpu"] },
  ];
  for (const m of SBI) {
    it(`shutdown exits 0 ${m.name}`, async () => {
      const r = await popek(["run", "--kernel", shutdown, ...m.args, "--timeout", "60"]);
      expect(r.stdout.replace(/\r/g, "")).toMatch(/boot\n$/);
      expect(r.status).toBe(0);
    }, 90_000);
    it(`cold reboot boots again ${m.name}`, async () => {
      const r = await popek(["run", "--kernel", reboot, ...m.args, "--timeout", "60"], 3);
      expect(boots(r.stdout)).toBeGreaterThanOrEqual(3);
    }, 90_000);
  }
});
