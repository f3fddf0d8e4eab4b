/*
 * `popek demo` (what `npm start` runs): the lab in one minute. A guest boots
 * on the native board; then two built-in experiments (popek exp's machinery,
 * demo-experiments.ts) answer the lab's questions with numbers: what an exit
 * costs by where it is handled and how the vCPU waits, and what a NIC's
 * frames cost; their charts are written to a directory whose path it prints.
 */

import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pc from "picocolors";
import { experimentFromValue, type ExperimentFile } from "../lab/experiment-file.ts";
import { writeResults, type Written } from "../lab/output.ts";
import type { RunRecord } from "../lab/results.ts";
import { Board } from "../machine/board.ts";
import { readImageFile } from "../machine/image.ts";
import { runBoard } from "../machine/runner.ts";
import { formatTable } from "../report/table.ts";
import { demoExitsExperiment, demoIoExperiment } from "./demo-experiments.ts";
import { runOnce } from "./exp-point.ts";
import { progressView } from "./exp-progress.ts";
import { runPoints } from "./exp-run.ts";

const MB = 2 ** 20;
const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const EXIT_BENCHES = ["null", "syscall", "sbi", "mmio", "irq"];

function heading(text: string): void {
  process.stdout.write(`\n${pc.bold(pc.cyan(`== ${text}`))}\n`);
}

function dim(text: string): void {
  process.stdout.write(pc.dim(`${text}\n`));
}

function ns(v: number | undefined): string {
  if (v === undefined) return "-";
  return v >= 10_000 ? `${(v / 1000).toFixed(1)}us` : `${v.toFixed(0)}ns`;
}

/** Runs an experiment's points into OUT and writes its results and charts. */
async function runExperiment(exp: ExperimentFile, out: string): Promise<Written> {
  rmSync(out, { recursive: true, force: true });
  const view = progressView();
  try {
    await runPoints(exp, exp.points, out, view);
  } finally {
    view.close();
  }
  return writeResults(out);
}

/**
 * One short discarded run first: the first VM of a process meets a cold hypervisor (its exit
 * handlers not yet compiled by V8), which would make the first row look worse than it is.
 */
async function warmUp(exp: ExperimentFile): Promise<void> {
  const first = exp.points.find((p) => p.experiment.vms[0]!.virt === "trap")!;
  const vm = { ...first.experiment.vms[0]!, append: "iters=1/1000" };
  await runOnce({ ...first, experiment: { ...first.experiment, vms: [vm] } }, 0);
}

function exitsTable(runs: readonly RunRecord[]): string {
  const rows = [["mode (--exit-handler/--wait)", ...EXIT_BENCHES.map((b) => `${b}`), "exits", "rtt p50", "main busy"]];
  for (const r of runs) {
    if (r.status !== "ok") {
      rows.push([String(r.params.mode), `failed: ${r.error}`]);
      continue;
    }
    rows.push([
      String(r.params.mode),
      ...EXIT_BENCHES.map((b) => ns(r.metrics[`${b}_ns`])),
      String(r.exits.exits),
      r.latency === null ? "-" : ns(r.latency.p50Ns),
      `${r.mainBusyPct.toFixed(0)}%`,
    ]);
  }
  return formatTable(rows);
}

function ioTable(runs: readonly RunRecord[]): string {
  const rows = [["NIC", "frame", "Mbit/s", "frames", "exits/frame", "main busy"]];
  for (const r of runs) {
    if (r.status !== "ok") {
      rows.push([String(r.params.nic), `${r.params.size} B`, `failed: ${r.error}`, "", "", ""]);
      continue;
    }
    const frames = r.frames ?? 0;
    rows.push([String(r.params.nic), `${r.params.size} B`, (r.throughputMbps ?? 0).toFixed(2), String(frames), frames > 0 ? (r.exits.exits / frames).toFixed(1) : "-", `${r.mainBusyPct.toFixed(0)}%`]);
  }
  return formatTable(rows);
}

export async function demoCommand(flags: { quick?: boolean; out?: string } = {}): Promise<number> {
  const quick = flags.quick === true;
  const out = flags.out ?? join(tmpdir(), "popek-demo");
  heading("1. the native board: guests/bin/hello.elf in M-mode (popek run guests/bin/hello.elf)");
  const board = new Board({ harts: 1, memSize: 128 * MB, clock: "real", output: (b) => process.stdout.write(String.fromCharCode(b)) });
  board.boot({ kernel: readImageFile("guests/bin/hello.elf", "kernel") });
  const native = await runBoard(board, { timeoutSeconds: 30 });
  dim(`   ${native.instructions} instructions, exit status ${native.exitCode}`);

  heading("2. what an exit costs: guests/exitbench deprivileged, by where exits are handled and how the vCPU waits");
  dim("   every virtual privilege runs in the hart's real U-mode; each CSR access, SBI call and device access is a VM exit.");
  dim("   main: every exit crosses to the hypervisor's main thread; vcpu: CSR, xRET, SBI timer/IPI stay on the vCPU's thread.");
  dim("   spin/poll/block: the vCPU spins, spins then sleeps, or sleeps (Atomics.wait) until the hypervisor answers.");
  const exits = experimentFromValue("popek demo (built in)", demoExitsExperiment(existsSync(OPENSBI), quick));
  await warmUp(exits);
  const e = await runExperiment(exits, join(out, "exits"));
  process.stdout.write(`\n${exitsTable(e.results.runs)}\n`);
  dim("   ns per operation as the guest timed them (rdtime, after warming each up); rtt: the exit round trip to the main thread (HDR, 1 in 16 sampled).");

  heading("3. what a frame costs: the same frames to a host sink through each NIC");
  const io = experimentFromValue("popek demo (built in)", demoIoExperiment());
  const i = await runExperiment(io, join(out, "io"));
  process.stdout.write(`\n${ioTable(i.results.runs)}\n`);
  dim("   ne2000: emulated, programmed register by register, every access an exit; virtio-net: paravirtual, frames in");
  dim("   shared-memory rings, one notify per batch; assigned: the device's registers mapped into the guest, DMA through an IOMMU, no exit per frame.");

  heading("charts and results");
  for (const f of [...e.charts, ...i.charts, join(out, "exits", "summary.md"), join(out, "io", "summary.md")]) process.stdout.write(`   ${f}\n`);
  dim("\nNext: npx popek exp bench/experiments/exits.yaml --out /tmp/x; popek bench exits; popek run guests/bin/selftest.elf --virt trap --vcpus 2 --stats");
  const ok = [...e.results.runs, ...i.results.runs].every((r) => r.status === "ok");
  return native.exitCode === 0 && ok ? 0 : 1;
}
