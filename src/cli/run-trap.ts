/*
 * `popek run --virt trap`: the image runs deprivileged — every virtual
 * privilege level in the real U-mode of a hart in a worker thread per vCPU,
 * every trap a VM exit handled by the hypervisor.
 */

import { ConfigError } from "../errors.ts";
import { Hypervisor } from "../hypervisor/hypervisor.ts";
import { EXIT_STATS } from "../hypervisor/stats.ts";
import type { VmImages } from "../hypervisor/vm-boot.ts";
import type { VcpuReport, Vm, VmResult } from "../hypervisor/vm.ts";
import { parseWaitPolicy } from "../hypervisor/wait.ts";
import { readImageFile } from "../machine/image.ts";
import { attachConsole, stdoutSink } from "./console.ts";
import { parseChoice, parseCount, parseMemSize, parseSeconds } from "./options.ts";
import type { RunFlags } from "./run.ts";
import { kernelPathFrom } from "./run.ts";
import { formatTable } from "./table.ts";

/** Most vCPUs per VM. */
export const MAX_VCPUS = 8;
/** Machine memory beyond the guest's RAM: its page tables and slack. */
const MACHINE_MEMORY_SLACK = 16 * 2 ** 20;

export function vmImagesFrom(image: string | undefined, flags: RunFlags): VmImages {
  const kernelPath = kernelPathFrom(image, flags);
  const bios = flags.bios ?? "hv";
  const choice: VmImages["bios"] =
    bios === "hv" ? { kind: "hv" } : bios === "none" ? { kind: "none" } : { kind: "firmware", bytes: readImageFile(bios, "bios") };
  if (kernelPath === undefined && choice.kind !== "firmware") {
    throw new ConfigError("nothing to run: give an IMAGE (or --kernel PATH, or --bios PATH)");
  }
  return {
    bios: choice,
    kernel: kernelPath === undefined ? undefined : readImageFile(kernelPath, "kernel"),
    initrd: flags.initrd === undefined ? undefined : readImageFile(flags.initrd, "initrd"),
    append: flags.append,
  };
}

export async function runTrapCommand(image: string | undefined, flags: RunFlags): Promise<number> {
  if (flags.harts !== undefined) throw new ConfigError("--harts is the native board's; under --virt trap use --vcpus N");
  if (flags.clock !== "real") throw new ConfigError("--clock icount is not available under --virt trap (vCPUs run in parallel threads)");
  const vcpus = flags.vcpus === undefined ? 1 : parseCount("--vcpus", flags.vcpus, 1, MAX_VCPUS);
  const memSize = parseMemSize(flags.mem);
  const wait = parseWaitPolicy(flags.wait);
  const exitHandler = parseChoice("--exit-handler", flags.exitHandler, ["main", "vcpu"] as const);
  const timeoutSeconds = flags.timeout === undefined ? undefined : parseSeconds("--timeout", flags.timeout);
  const images = vmImagesFrom(image, flags);

  const out = stdoutSink();
  const hv = new Hypervisor({ machineMemory: memSize + MACHINE_MEMORY_SLACK });
  const boot = (): Vm => hv.createVm({ name: "vm0", vcpus, memSize, images, wait, exitHandler, output: out.write });
  let vm = boot();
  let stoppedByHost: { code: number; reason?: string } | undefined;
  const stop = (code: number, reason?: string): void => {
    stoppedByHost = { code, reason };
    vm.stop("stopped", code, reason);
  };
  const console = attachConsole((bytes) => vm.input(bytes));
  const flusher = setInterval(out.flush, 30);
  const quitter = setInterval(() => {
    if (console.quit()) stop(0);
  }, 50);
  const timer = timeoutSeconds === undefined ? undefined : setTimeout(() => stop(124, "timeout"), timeoutSeconds * 1000);
  hv.start(vm);
  let result: VmResult;
  try {
    result = await vm.result;
    // A guest reset (SBI SRST reboot, the finisher's 0x7777) boots the same images again in a
    // fresh VM, as QEMU resets its machine and the native board reboots: the run goes on.
    while (result.outcome === "reboot" && stoppedByHost === undefined) {
      vm = boot();
      hv.start(vm);
      result = await vm.result;
    }
  } finally {
    clearInterval(flusher);
    clearInterval(quitter);
    if (timer !== undefined) clearTimeout(timer);
    out.flush();
    console.close();
  }
  if (stoppedByHost !== undefined && result.outcome === "reboot") {
    // Stopped between a reset and the next boot: report the stop, not the reset.
    result = { ...result, outcome: "stopped", exitCode: stoppedByHost.code, message: stoppedByHost.reason };
  }
  if (result.message === "timeout") process.stderr.write(`\npopek: timeout after ${timeoutSeconds} s\n`);
  else if (result.outcome === "error") process.stderr.write(`popek: vm0: ${result.message}\n`);
  if (flags.stats) process.stderr.write(formatStats(result.reports));
  return result.exitCode;
}

/** The exit table: one row per counter, one column per vCPU, then round-trip latency. */
export function formatStats(reports: readonly VcpuReport[]): string {
  const total = reports.length > 1;
  const header = ["counter", ...reports.map((r) => `vcpu${r.hart}`), ...(total ? ["vm"] : [])];
  const rows: string[][] = [header];
  for (const s of EXIT_STATS) {
    const values = reports.map((r) => r.stats[s.name]);
    rows.push([s.name, ...values.map(String), ...(total ? [String(values.reduce((a, b) => a + b, 0))] : [])]);
  }
  const lat = (pick: (r: VcpuReport) => number | undefined): string[] =>
    reports.map((r) => {
      const v = pick(r);
      return v === undefined || r.latency === undefined || r.latency.count === 0 ? "-" : `${(v / 1000).toFixed(2)}us`;
    });
  const pad = total ? ["-"] : [];
  rows.push(["exit_rtt_p50", ...lat((r) => r.latency?.p50Ns), ...pad]);
  rows.push(["exit_rtt_p99", ...lat((r) => r.latency?.p99Ns), ...pad]);
  return "\n" + formatTable(rows) + "\n";
}
