/*
 * guests/exitbench natively on popek under Debian's OpenSBI, scaled down
 * with `iters=0.001` in /chosen/bootargs, and — when QEMU is installed —
 * the same run on QEMU with -icount shift=0 (scaled as the ratio
 * `iters=1/1000`), where minstret is an exact instruction count: both
 * machines must retire the same instructions in every benchmark.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseExitbench, type ExitbenchRow } from "../../bench/exitbench-parse.ts";
import { readImageFile } from "../../src/machine/image.ts";
import { bootImages } from "../helpers/boot.ts";

const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const IMAGE = "guests/bin/exitbench.elf";
const SCALE = "iters=0.001";
const qemuInstalled = spawnSync("qemu-system-riscv64", ["--version"], { stdio: "ignore" }).status === 0;

async function runOnPopek(): Promise<ExitbenchRow[]> {
  const r = await bootImages(
    { firmware: readImageFile(OPENSBI, "bios"), kernel: readImageFile(IMAGE, "kernel"), append: SCALE },
    { timeoutSeconds: 60 },
  );
  expect(r.exitCode).toBe(0);
  return parseExitbench(r.output);
}

describe.runIf(existsSync(OPENSBI) || process.env.CI === "true")("exitbench on popek (native, OpenSBI fw_jump)", () => {
  it("runs every benchmark, scaled by iters= from bootargs, and shuts down through SRST", async () => {
    const rows = await runOnPopek();
    expect(rows.map((r) => [r.bench, r.iters])).toEqual([
      ["null", 2000], ["syscall", 200], ["sbi", 40], ["mmio", 3000], ["irq", 10],
    ]);
    for (const r of rows) expect(r.ticks).toBeGreaterThan(0);
    // The loops' own instructions: csrr + addi + bne; U-mode ecall loop (3) + the trap path (16); lbu + addi + bne.
    const perOp = Object.fromEntries(rows.map((r) => [r.bench, Math.floor(r.instructionsPerOp)]));
    expect(perOp).toMatchObject({ null: 3, syscall: 19, mmio: 3 });
    expect(perOp.sbi).toBeGreaterThan(50); // through OpenSBI's M-mode trap handler
    expect(perOp.irq).toBeGreaterThan(perOp.sbi!); // an SBI call plus two interrupts
  }, 90_000);

  it.runIf(qemuInstalled)("retires exactly the instructions QEMU (-icount shift=0) retires, per benchmark", async () => {
    const popek = await runOnPopek();
    const out = execFileSync(
      "qemu-system-riscv64",
      ["-machine", "virt", "-nographic", "-m", "128M", "-icount", "shift=0", "-bios", OPENSBI, "-kernel", IMAGE, "-append", "iters=1/1000"],
      { encoding: "latin1", timeout: 60_000, stdio: ["ignore", "pipe", "ignore"] },
    );
    const qemu = parseExitbench(out);
    expect(popek.map((r) => [r.bench, r.iters, r.instret])).toEqual(qemu.map((r) => [r.bench, r.iters, r.instret]));
  }, 90_000);
});
