/*
 * `popek bench cpu`: guest MIPS of the native board on cpubench, and — when
 * qemu-system-riscv64 is installed — QEMU's MIPS on the same image measured
 * in the same invocation, so the ratio is meaningful on any machine.
 *
 * Instructions are popek's own count (the same program retires the same
 * instructions on both; QEMU's minstret without -icount is not an
 * instruction count). QEMU's time is its wall time minus its start-up and
 * shutdown, measured by running the hello image the same way.
 *
 * Two workloads: cpubench (a few hot loops) and branchy (bench/branchy.ts:
 * tens of thousands of distinct blocks, each run a few dozen times, as in a
 * kernel boot), each natively with the block JIT on and off (the interpreter
 * alone), so a JIT that only wins on hot loops shows it.
 */

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { Board, type BootImages } from "../src/machine/board.ts";
import { readImageFile } from "../src/machine/image.ts";
import { runBoard } from "../src/machine/runner.ts";
import { BRANCHY_BLOCKS, BRANCHY_ROUNDS, branchyImage } from "./branchy.ts";

interface CpuBenchResult {
  readonly image: string;
  readonly instructions: number;
  readonly seconds: number;
  readonly mips: number;
  readonly checksum: string;
  /** The same image with the block JIT off: the interpreter alone. */
  readonly jitOffSeconds: number;
  readonly jitOffMips: number;
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
export async function bootNative(images: BootImages, timeoutSeconds: number, jit?: boolean): Promise<NativeRun> {
  let output = "";
  const board = new Board({ harts: 1, memSize: 128 * 2 ** 20, clock: "real", jit, output: (b) => (output += String.fromCharCode(b)) });
  board.boot(images);
  const r = await runBoard(board, { timeoutSeconds });
  return { instructions: r.instructions, seconds: r.seconds, output, exitCode: r.exitCode };
}

/** Runs a bare-metal image natively (as `popek run IMAGE`). */
export function runNative(image: string, jit?: boolean): Promise<NativeRun> {
  return bootNative({ kernel: readImageFile(image, "image") }, 120, jit);
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
  if (native.exitCode !== 0) throw new Error(`${image} exited with ${native.exitCode}: ${native.output}`);
  const jitOff = await runNative(image, false);
  if (jitOff.instructions !== native.instructions) {
    throw new Error(`${image}: ${native.instructions} instructions with the JIT, ${jitOff.instructions} without`);
  }
  const checksum = /checksum (0x[0-9a-f]+)/.exec(native.output)?.[1] ?? "-";
  const mips = native.instructions / native.seconds / 1e6;
  const base = {
    image,
    instructions: native.instructions,
    seconds: native.seconds,
    mips,
    checksum,
    jitOffSeconds: jitOff.seconds,
    jitOffMips: jitOff.instructions / jitOff.seconds / 1e6,
    cores: cpus().length,
  };
  if (!withQemu || !qemuInstalled()) return base;
  const startup = Math.min(timeQemu(HELLO), timeQemu(HELLO));
  const qemuSeconds = Math.max(1e-3, Math.min(timeQemu(image), timeQemu(image)) - startup);
  const qemuMips = native.instructions / qemuSeconds / 1e6;
  return { ...base, qemuSeconds, qemuMips, ratio: mips / qemuMips };
}

/** branchy as a file (QEMU takes a path), benchmarked like cpubench. */
async function benchBranchy(withQemu: boolean): Promise<CpuBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "popek-branchy-"));
  const image = join(dir, "branchy.bin");
  try {
    writeFileSync(image, branchyImage());
    return { ...(await benchCpu(image, withQemu)), image: "branchy" };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function describeResult(name: string, r: CpuBenchResult, withQemu: boolean): string[] {
  const lines = [
    `${name}: ${r.instructions.toLocaleString("en-US")} instructions, checksum ${r.checksum}`,
    `  popek native:  ${r.seconds.toFixed(3)} s  ${r.mips.toFixed(1)} MIPS  (1 hart, one thread, block JIT on)`,
    `  interpreter:   ${r.jitOffSeconds.toFixed(3)} s  ${r.jitOffMips.toFixed(1)} MIPS  (block JIT off)`,
  ];
  if (r.qemuMips !== undefined && r.ratio !== undefined && r.qemuSeconds !== undefined) {
    lines.push(`  qemu (TCG):    ${r.qemuSeconds.toFixed(3)} s  ${r.qemuMips.toFixed(1)} MIPS  (start-up subtracted)`);
    lines.push(`  ratio popek/qemu: ${r.ratio.toFixed(3)} (JIT on), ${(r.jitOffMips / r.qemuMips).toFixed(3)} (interpreter)`);
  } else if (withQemu) {
    lines.push(`  qemu: ${QEMU} not installed; no ratio`);
  }
  return lines;
}

export async function benchCpuCommand(flags: { json?: boolean; image: string; qemu: boolean }): Promise<number> {
  const r = await benchCpu(flags.image, flags.qemu);
  const branchy = await benchBranchy(flags.qemu);
  const lines = [
    ...describeResult(`cpubench (${r.image})`, r, flags.qemu),
    ...describeResult(`branchy (${BRANCHY_BLOCKS} distinct blocks, ${BRANCHY_ROUNDS} rounds: short-lived code paths)`, branchy, flags.qemu),
    `host has ${r.cores} cores`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
  if (flags.json) process.stdout.write(JSON.stringify({ ...r, branchy }) + "\n");
  return 0;
}
