/*
 * `popek bench boot`: real software booted to a marker line natively, under
 * --virt trap and under QEMU (qemu-system-riscv64 -machine virt, the same
 * images and the same marker), all in this invocation, so the ratios hold on
 * any machine however loaded it is. Plus start-up: `popek run hello.elf`
 * against bare `node -e 0`, their runs alternating.
 *
 * Instructions are popek's own count when the marker was printed. QEMU 7.2
 * as Debian ships it has no instruction-count plugin and -icount does not
 * report a count, so QEMU's effective MIPS divides popek's native count for
 * the same boot by QEMU's time (the issue's profile found the two counts
 * within a few percent on a Linux boot).
 *
 * popek's time runs from building the board (or VM) to the marker, in one
 * process, rows in table order (the interpreter is warm after the first);
 * QEMU's is its whole process to the marker, its start-up (~0.03-0.1 s)
 * included, which is what dominates the small guests' QEMU times.
 */

import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../src/errors.ts";
import type { VmImages } from "../src/hypervisor/vm-boot.ts";
import type { ExitHandlerPlace } from "../src/hypervisor/vm.ts";
import type { BootImages } from "../src/machine/board.ts";
import { readImageFile } from "../src/machine/image.ts";
import { formatTable } from "../src/report/table.ts";
import { bootNativeToMarker, bootQemuToMarker, bootTrapToMarker, qemuInstalled, timeStartup, type BootRun } from "./boot-runners.ts";

const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const LINUX_INITRAMFS = "guests/bin/linux-initramfs.cpio";
const LINUX_MARKER = "hello from Linux user space";
const MB = 2 ** 20;
/** Alternating rounds of the start-up measurement (~0.25 s each). */
const STARTUP_ROUNDS = 11;

/** One thing to boot: the same files for all three runners. */
interface Workload {
  readonly name: string;
  /** Firmware in M-mode (OpenSBI); none: the kernel is an M-mode program at 0x80000000. */
  readonly firmware?: string;
  readonly kernel: string;
  readonly initrd?: string;
  readonly append?: string;
  readonly memSize: number;
  readonly marker: string;
  /** Harts on the native board, vCPUs under trap, -smp under QEMU (1 unless said). */
  readonly harts?: number;
}

const GUESTS: readonly Workload[] = [
  { name: "hello", kernel: "guests/bin/hello.elf", memSize: 128 * MB, marker: "hello from popek" },
  { name: "selftest", kernel: "guests/bin/selftest.elf", memSize: 128 * MB, marker: "selftest: PASS" },
  { name: "opensbi+sbi-hello", firmware: OPENSBI, kernel: "guests/bin/sbi-hello.elf", memSize: 128 * MB, marker: "hello from S-mode via SBI" },
  { name: "opensbi+kernel-mini", firmware: OPENSBI, kernel: "guests/bin/kernel-mini.elf", memSize: 128 * MB, marker: "kernel-mini: PASS" },
];

export type BootMode = "native" | "trap" | "qemu";

/**
 * Where a trap row's exits are handled (always with --wait poll): on each
 * vCPU's own thread (CSRs, xRET, wfi, SBI and reflections), as KVM handles
 * them in the kernel; MMIO still crosses to the main thread. A Linux boot
 * makes ~1 M CSR exits (the guest kernel toggling sstatus.SIE runs in real
 * U-mode): with `main`, each crosses threads, and on a 2-core host waits for
 * a main thread that shares the cores with the vCPUs (one vCPU: ~18 s
 * against ~15 s with `vcpu`, quiet host; two: 2-8x slower). `bench exits`
 * measures the two places side by side.
 */
export const TRAP_EXIT_HANDLER: ExitHandlerPlace = "vcpu";

export interface BootResult {
  readonly workload: string;
  readonly mode: BootMode;
  /** Wall seconds to the marker; absent when it never came (see failure). */
  readonly seconds?: number;
  /** popek's count when the marker was printed (the native count on QEMU's row). */
  readonly instructions?: number;
  readonly mips?: number;
  /** seconds over QEMU's seconds for the same workload. */
  readonly ratioToQemu?: number;
  /** Trap rows: where exits were handled (TRAP_EXIT_HANDLER). */
  readonly exitHandler?: ExitHandlerPlace;
  readonly failure?: string;
}

export interface BootReport {
  readonly results: BootResult[];
  /** Median wall seconds of `popek run guests/bin/hello.elf` and of `node -e 0`, alternating. */
  readonly startup?: { readonly popekSeconds: number; readonly nodeSeconds: number; readonly ratio: number; readonly rounds: number };
  readonly skipped: string[];
  readonly cores: number;
}

export interface BootOptions {
  /** A Linux kernel to boot behind OpenSBI with guests/bin/linux-initramfs.cpio. */
  readonly kernel?: string;
  /** Only these workloads (names as in the table). */
  readonly only?: readonly string[];
  readonly trap: boolean;
  readonly qemu: boolean;
  readonly startup: boolean;
  readonly timeoutSeconds: number;
  /** `node` arguments that run `popek run guests/bin/hello.elf` (the start-up row). */
  readonly popekRunHello: readonly string[];
  readonly progress?: (line: string) => void;
}

/** The workloads to boot: the committed guests, and Linux when a kernel is given; `only` filters by name. */
export function workloadsFor(kernel: string | undefined, only: readonly string[] | undefined): Workload[] {
  const all = [...GUESTS];
  if (kernel !== undefined) {
    const linux = { firmware: OPENSBI, kernel, initrd: LINUX_INITRAMFS, append: "console=ttyS0", memSize: 512 * MB, marker: LINUX_MARKER };
    // The goal holds with one hart and with two: an SMP boot also brings up the second hart and its IPIs.
    all.push({ name: "opensbi+linux", ...linux }, { name: "opensbi+linux-2harts", ...linux, harts: 2 });
  }
  if (only === undefined) return all;
  const unknown = only.filter((name) => !all.some((w) => w.name === name));
  if (unknown.length > 0) throw new ConfigError(`--only: no workload ${unknown.join(", ")} (have: ${all.map((w) => w.name).join(", ")})`);
  return all.filter((w) => only.includes(w.name));
}

function nativeImages(w: Workload): BootImages {
  return {
    firmware: w.firmware === undefined ? undefined : readImageFile(w.firmware, "bios"),
    kernel: readImageFile(w.kernel, "kernel"),
    initrd: w.initrd === undefined ? undefined : readImageFile(w.initrd, "initrd"),
    append: w.append,
  };
}

function trapImages(w: Workload): VmImages {
  return {
    bios: w.firmware === undefined ? { kind: "none" } : { kind: "firmware", bytes: readImageFile(w.firmware, "bios") },
    kernel: readImageFile(w.kernel, "kernel"),
    initrd: w.initrd === undefined ? undefined : readImageFile(w.initrd, "initrd"),
    append: w.append,
  };
}

function qemuArgs(w: Workload): string[] {
  const args = ["-smp", String(w.harts ?? 1), "-m", `${w.memSize / MB}M`, "-bios", w.firmware ?? "none", "-kernel", w.kernel];
  if (w.initrd !== undefined) args.push("-initrd", w.initrd);
  if (w.append !== undefined) args.push("-append", w.append);
  return args;
}

function resultOf(workload: string, mode: BootMode, run: BootRun, instructions: number | undefined): BootResult {
  if (run.seconds === undefined) return { workload, mode, failure: run.failure };
  const mips = instructions === undefined ? undefined : instructions / run.seconds / 1e6;
  return { workload, mode, seconds: run.seconds, instructions, mips };
}

export async function benchBoot(opts: BootOptions): Promise<BootReport> {
  const progress = opts.progress ?? (() => {});
  const skipped: string[] = [];
  const withQemu = opts.qemu && qemuInstalled();
  if (opts.qemu && !withQemu) skipped.push("qemu: qemu-system-riscv64 not installed (apt-get install qemu-system-misc)");
  const results: BootResult[] = [];
  for (const w of workloadsFor(opts.kernel, opts.only)) {
    if (w.firmware !== undefined && !existsSync(w.firmware)) {
      skipped.push(`${w.name}: ${w.firmware} not installed (apt-get install opensbi)`);
      continue;
    }
    const native = await bootNativeToMarker(nativeImages(w), w.harts ?? 1, w.memSize, w.marker, opts.timeoutSeconds);
    const rows = [resultOf(w.name, "native", native, native.instructions)];
    progress(`${w.name} native: ${native.seconds?.toFixed(3) ?? native.failure}`);
    if (opts.trap) {
      const exitHandler = TRAP_EXIT_HANDLER;
      const trap = await bootTrapToMarker(trapImages(w), w.harts ?? 1, exitHandler, w.memSize, w.marker, opts.timeoutSeconds);
      rows.push({ ...resultOf(w.name, "trap", trap, trap.instructions), exitHandler });
      progress(`${w.name} trap: ${trap.seconds?.toFixed(3) ?? trap.failure}`);
    }
    if (withQemu) {
      const qemu = await bootQemuToMarker(qemuArgs(w), w.marker, opts.timeoutSeconds);
      const qemuRow = resultOf(w.name, "qemu", qemu, native.instructions);
      progress(`${w.name} qemu: ${qemu.seconds?.toFixed(3) ?? qemu.failure}`);
      for (const row of rows) {
        if (row.seconds !== undefined && qemuRow.seconds !== undefined) results.push({ ...row, ratioToQemu: row.seconds / qemuRow.seconds });
        else results.push(row);
      }
      results.push(qemuRow);
    } else {
      results.push(...rows);
    }
  }
  let startup: BootReport["startup"];
  if (opts.startup) {
    const t = timeStartup(opts.popekRunHello, STARTUP_ROUNDS);
    startup = { popekSeconds: t.popek, nodeSeconds: t.node, ratio: t.popek / t.node, rounds: STARTUP_ROUNDS };
  }
  return { results, startup, skipped, cores: cpus().length };
}

export function formatBoot(report: BootReport): string {
  const rows: string[][] = [["workload", "mode", "seconds", "instructions", "MIPS", "x QEMU"]];
  for (const r of report.results) {
    rows.push([
      r.workload,
      r.exitHandler === undefined ? r.mode : `${r.mode} (${r.exitHandler})`,
      r.seconds === undefined ? "failed" : r.seconds.toFixed(3),
      r.instructions === undefined ? "-" : r.instructions.toLocaleString("en-US"),
      r.mips === undefined ? "-" : r.mips.toFixed(1),
      r.ratioToQemu === undefined ? "-" : r.ratioToQemu.toFixed(2),
    ]);
  }
  const notes = [
    "seconds: wall time to the marker line. popek: from building the board/VM, in this process; qemu: its whole process.",
    "instructions: popek's count at the marker; the qemu row reuses the native count (no instruction-count plugin).",
    "trap (vcpu): --wait poll, exits handled on each vCPU's own thread (MMIO still crosses to the main thread).",
  ];
  for (const r of report.results) if (r.failure !== undefined) notes.push(`${r.workload} ${r.mode}: ${r.failure}`);
  if (report.startup !== undefined) {
    const s = report.startup;
    notes.push(
      `start-up: popek run guests/bin/hello.elf ${s.popekSeconds.toFixed(3)} s, node -e 0 ${s.nodeSeconds.toFixed(3)} s ` +
        `(${s.ratio.toFixed(2)}x; medians of ${s.rounds} alternating runs)`,
    );
  }
  for (const s of report.skipped) notes.push(`skipped: ${s}`);
  notes.push(`host: ${report.cores} cores; one hart / one vCPU everywhere but the -2harts rows (two harts, two vCPUs, QEMU -smp 2).`);
  return `${formatTable(rows)}\n\n${notes.join("\n")}\n`;
}

/** The CLI's flags for `popek bench boot`. */
export interface BootFlags {
  readonly json?: boolean;
  readonly kernel?: string;
  readonly only?: string;
  readonly trap: boolean;
  readonly qemu: boolean;
  readonly startup: boolean;
  readonly timeout: string;
}

/** `node` arguments for `popek run guests/bin/hello.elf` through this checkout's bin/popek.js. */
function popekRunHello(): string[] {
  // From dist/bench/boot.js the checkout is two levels up; from bench/boot.ts one.
  const bin = new URL(import.meta.url.endsWith(".js") ? "../../bin/popek.js" : "../bin/popek.js", import.meta.url);
  return [fileURLToPath(bin), "run", "guests/bin/hello.elf"];
}

export async function benchBootCommand(flags: BootFlags): Promise<number> {
  const timeoutSeconds = Number(flags.timeout);
  if (!(timeoutSeconds > 0)) throw new ConfigError(`--timeout: expected a positive number of seconds, got "${flags.timeout}"`);
  if (flags.kernel !== undefined && !existsSync(flags.kernel)) throw new ConfigError(`--kernel: ${flags.kernel}: no such file`);
  const report = await benchBoot({
    kernel: flags.kernel,
    only: flags.only?.split(",").map((s) => s.trim()),
    trap: flags.trap,
    qemu: flags.qemu,
    startup: flags.startup,
    timeoutSeconds,
    popekRunHello: popekRunHello(),
    progress: (l) => process.stderr.write(`  ${l}\n`),
  });
  process.stdout.write(formatBoot(report));
  if (flags.json) process.stdout.write(JSON.stringify(report) + "\n");
  return report.results.some((r) => r.failure !== undefined) ? 1 : 0;
}
