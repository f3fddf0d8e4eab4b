/*
 * The three ways `popek bench boot` boots one workload to its marker: on the
 * native board, under the trap-and-emulate hypervisor, and under QEMU. Each
 * stops as soon as the marker has been printed and says how long that took
 * and, for popek, how many instructions the guest had retired by then.
 */

import { spawn, spawnSync } from "node:child_process";
import { Hypervisor } from "../src/hypervisor/hypervisor.ts";
import type { VmImages } from "../src/hypervisor/vm-boot.ts";
import type { ExitHandlerPlace } from "../src/hypervisor/vm.ts";
import { Board, type BootImages } from "../src/machine/board.ts";
import { runBoard } from "../src/machine/runner.ts";

const MB = 2 ** 20;
/** Machine memory beyond a VM's RAM (its page tables and slack), as `popek run --virt trap` gives. */
const MACHINE_MEMORY_SLACK = 16 * MB;

const QEMU = "qemu-system-riscv64";

/** One boot to the marker; `seconds` is undefined when the marker never came (timeout or early end). */
export interface BootRun {
  readonly seconds?: number;
  /** Instructions retired when the run stopped; undefined where popek cannot count them (QEMU). */
  readonly instructions?: number;
  /** Why the marker did not come, in one line. */
  readonly failure?: string;
}

/** Collects console bytes and notices the marker without rescanning everything printed. */
class MarkerWatch {
  private text = "";
  seen = false;

  constructor(private readonly marker: string) {}

  push(chunk: string): boolean {
    if (this.seen) return true;
    this.text = (this.text + chunk).slice(-(this.marker.length + 4096));
    this.seen = this.text.includes(this.marker);
    return this.seen;
  }

  tail(): string {
    return this.text.slice(-200).replace(/\s+/g, " ").trim();
  }
}

/** Boots on a native board of `harts` harts, from building the board to the marker (Node's own start-up excluded). */
export async function bootNativeToMarker(images: BootImages, harts: number, memSize: number, marker: string, timeoutSeconds: number): Promise<BootRun> {
  const start = performance.now();
  const watch = new MarkerWatch(marker);
  let markedAt = 0;
  const board = new Board({
    harts,
    memSize,
    clock: "real",
    output: (b) => {
      if (!watch.seen && watch.push(String.fromCharCode(b))) markedAt = performance.now();
    },
  });
  board.boot(images);
  // The run loop polls `interrupted` between slices: it stops within one slice of the marker.
  const r = await runBoard(board, { timeoutSeconds, interrupted: () => watch.seen });
  if (!watch.seen) return { failure: `${r.outcome} (exit ${r.exitCode}) before the marker; last output: ${watch.tail()}` };
  return { seconds: (markedAt - start) / 1000, instructions: r.instructions };
}

/** Boots in a VM of `vcpus` vCPUs under the hypervisor (--wait poll, exits handled where `exitHandler` says), from creating the VM to the marker. */
export async function bootTrapToMarker(
  images: VmImages,
  vcpus: number,
  exitHandler: ExitHandlerPlace,
  memSize: number,
  marker: string,
  timeoutSeconds: number,
): Promise<BootRun> {
  const start = performance.now();
  const watch = new MarkerWatch(marker);
  let markedAt = 0;
  const hv = new Hypervisor({ machineMemory: memSize + MACHINE_MEMORY_SLACK });
  const vm = hv.createVm({
    name: "bench-boot",
    vcpus,
    memSize,
    images,
    wait: "poll",
    exitHandler,
    output: (b) => {
      if (watch.seen || !watch.push(String.fromCharCode(b))) return;
      markedAt = performance.now();
      vm.stop("stopped", 0, "marker");
    },
  });
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), timeoutSeconds * 1000);
  const r = await vm.result;
  clearTimeout(timer);
  if (!watch.seen) return { failure: `${r.outcome} (${r.message ?? `exit ${r.exitCode}`}) before the marker; last output: ${watch.tail()}` };
  const instructions = r.reports.reduce((sum, report) => sum + report.stats.instructions, 0);
  return { seconds: (markedAt - start) / 1000, instructions };
}

export function qemuInstalled(): boolean {
  return spawnSync(QEMU, ["--version"], { stdio: "ignore" }).status === 0;
}

/** Runs QEMU (its whole process, start-up included) until the marker is printed, then kills it. */
export function bootQemuToMarker(args: readonly string[], marker: string, timeoutSeconds: number): Promise<BootRun> {
  const start = performance.now();
  const watch = new MarkerWatch(marker);
  const qemu = spawn(QEMU, ["-machine", "virt", "-nographic", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve) => {
    let done = false;
    const finish = (run: BootRun): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      qemu.kill("SIGKILL");
      resolve(run);
    };
    const timer = setTimeout(() => finish({ failure: `timeout after ${timeoutSeconds} s; last output: ${watch.tail()}` }), timeoutSeconds * 1000);
    qemu.stdout.setEncoding("latin1");
    qemu.stdout.on("data", (chunk: string) => {
      if (watch.push(chunk)) finish({ seconds: (performance.now() - start) / 1000 });
    });
    qemu.stderr.setEncoding("latin1");
    qemu.stderr.on("data", (chunk: string) => watch.push(chunk));
    qemu.on("error", (e) => finish({ failure: `${QEMU}: ${e.message}` }));
    qemu.on("exit", (code) => finish({ failure: `${QEMU} exited with ${code} before the marker; last output: ${watch.tail()}` }));
  });
}

/**
 * Median wall seconds of `node ARGS` and of bare `node -e 0`, runs alternating so both see the same
 * load. A first pair is run and dropped: both then start with their files in the page cache.
 */
export function timeStartup(args: readonly string[], rounds: number): { popek: number; node: number } {
  const popek: number[] = [];
  const node: number[] = [];
  timeProcess(["-e", "0"]);
  timeProcess(args);
  for (let i = 0; i < rounds; i++) {
    node.push(timeProcess(["-e", "0"]));
    popek.push(timeProcess(args));
  }
  return { popek: median(popek), node: median(node) };
}

function timeProcess(args: readonly string[]): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], timeout: 60_000 });
  if (r.status !== 0) throw new Error(`bench boot: node ${args.join(" ")} exited with ${r.status}: ${String(r.stderr).trim()}`);
  return (performance.now() - start) / 1000;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}
