/*
 * `popek bench cpu`: guest MIPS of the native board on cpubench, and — when
 * qemu-system-riscv64 is installed — QEMU's MIPS on the same image measured
 * in the same invocation, so the ratio is meaningful on any machine.
 *
 * Instructions are popek's own count (the same program retires the same
 * instructions on both; QEMU's minstret without -icount is not an
 * instruction count). QEMU's time is its wall time minus its start-up and
 * shutdown, measured by running the hello image the same way.
 */

import { execFileSync, spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { Board, type BootImages } from "../src/machine/board.ts";
import { readImageFile } from "../src/machine/image.ts";
import { runBoard } from "../src/machine/runner.ts";

interface CpuBenchResult {
  readonly image: string;
  readonly instructions: number;
  readonly seconds: number;
  readonly mips: number;
  readonly checksum: string;
  readonly qemuSeconds?: number;
  readonly qemuMips?: number;
  readonly ratio?: number;
  readonly cores: number;
}

const QEMU = "qemu-system-riscv64";
const HELLO = "guests/bin/hello.elf";

export interface NativeRun {
  readonly instructions: number;
  readonly seconds: number;
  readonly output: string;
  readonly exitCode: number;
}

/** Boots images on a one-hart native board (128M), collecting what the guest prints. */
export async function bootNative(images: BootImages, timeoutSeconds: number): Promise<NativeRun> {
  let output = "";
  const board = new Board({ harts: 1, memSize: 128 * 2 ** 20, clock: "real", output: (b) => (output += String.fromCharCode(b)) });
  board.boot(images);
  const r = await runBoard(board, { timeoutSeconds });
  return { instructions: r.instructions, seconds: r.seconds, output, exitCode: r.exitCode };
}

/** Runs a bare-metal image natively (as `popek run IMAGE`). */
function runNative(image: string): Promise<NativeRun> {
  return bootNative({ kernel: readImageFile(image, "image") }, 120);
}

function qemuInstalled(): boolean {
  return spawnSync(QEMU, ["--version"], { stdio: "ignore" }).status === 0;
}

/** Wall seconds of one QEMU run of an image (-bios none, as popek runs it). */
function timeQemu(image: string): number {
  const start = performance.now();
  execFileSync(QEMU, ["-machine", "virt", "-bios", "none", "-nographic", "-m", "128M", "-kernel", image], {
    stdio: ["ignore", "ignore", "ignore"],
    timeout: 120_000,
  });
  return (performance.now() - start) / 1000;
}

async function benchCpu(image: string, withQemu: boolean): Promise<CpuBenchResult> {
  // One warm-up run lets V8 optimise the interpreter before the measured run.
  await runNative(image);
  const native = await runNative(image);
  if (native.exitCode !== 0) throw new Error(`cpubench exited with ${native.exitCode}: ${native.output}`);
  const checksum = /checksum (0x[0-9a-f]+)/.exec(native.output)?.[1] ?? "?";
  const mips = native.instructions / native.seconds / 1e6;
  const base = { image, instructions: native.instructions, seconds: native.seconds, mips, checksum, cores: cpus().length };
  if (!withQemu || !qemuInstalled()) return base;
  const startup = Math.min(timeQemu(HELLO), timeQemu(HELLO));
  const qemuSeconds = Math.max(1e-3, Math.min(timeQemu(image), timeQemu(image)) - startup);
  const qemuMips = native.instructions / qemuSeconds / 1e6;
  return { ...base, qemuSeconds, qemuMips, ratio: mips / qemuMips };
}

export async function benchCpuCommand(flags: { json?: boolean; image: string; qemu: boolean }): Promise<number> {
  const r = await benchCpu(flags.image, flags.qemu);
  const lines = [
    `cpubench (${r.image}): ${r.instructions.toLocaleString("en-US")} instructions, checksum ${r.checksum}`,
    `popek native: ${r.seconds.toFixed(3)} s  ${r.mips.toFixed(1)} MIPS  (1 hart, one thread; host has ${r.cores} cores)`,
  ];
  if (r.qemuMips !== undefined && r.ratio !== undefined && r.qemuSeconds !== undefined) {
    lines.push(`qemu (TCG):   ${r.qemuSeconds.toFixed(3)} s  ${r.qemuMips.toFixed(1)} MIPS  (start-up subtracted)`);
    lines.push(`ratio popek/qemu: ${r.ratio.toFixed(3)}`);
  } else if (flags.qemu) {
    lines.push(`qemu: ${QEMU} not installed; no ratio`);
  }
  process.stdout.write(lines.join("\n") + "\n");
  if (flags.json) process.stdout.write(JSON.stringify(r) + "\n");
  return 0;
}
