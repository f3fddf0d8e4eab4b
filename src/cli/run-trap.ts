/*
 * `popek run --virt trap`: the image runs deprivileged — every virtual
 * privilege level in the real U-mode of a hart in a worker thread per vCPU,
 * every trap a VM exit handled by the hypervisor.
 */

import { pinLayout, type PinLayout } from "../host/affinity.ts";
import { ConfigError } from "../errors.ts";
import { Hypervisor } from "../hypervisor/hypervisor.ts";
import type { VmImages } from "../hypervisor/vm-boot.ts";
import type { ExitHandlerPlace, Vm, VmResult } from "../hypervisor/vm.ts";
import { parseWaitPolicy, type WaitPolicy } from "../hypervisor/wait.ts";
import { readImageFile } from "../machine/image.ts";
import { PAGE_SIZE } from "../machine/memlayout.ts";
import { defaultShadowPages, MAX_SHADOW_PAGES, MIN_SHADOW_PAGES, SHADOW_COHERENCE, type ShadowCoherence } from "../hypervisor/shadow/shadow-state.ts";
import { formatStats } from "../report/exit-table.ts";
import { attachConsole } from "./console.ts";
import { VirtualNetwork } from "../net/netdevs.ts";
import { boardDevicesFrom } from "./devices.ts";
import { netdevPorts, netdevRemotePorts } from "./netdev.ts";
import { trapFirmwareDefault } from "./firmware-default.ts";
import { parseChoice, parseCount, parseMemSize, parseSeconds } from "./options.ts";
import { isaVariantFrom, kernelPathFrom, mmuFrom, nonvirtFixFrom, readUserImage, type RunFlags } from "./run-flags.ts";
import type { IsaVariant } from "../machine/isa-variant.ts";
import type { NonvirtFix } from "../hypervisor/nonvirt/code-scanner.ts";
import { EXIT_STDOUT_CLOSED, stdoutClosed, stdoutSink } from "./stdout.ts";
import { RunObservers } from "./run-observe.ts";
import { wantsGdb } from "./run-gdb.ts";

/** Most vCPUs per VM. */
export const MAX_VCPUS = 8;
/** Machine memory beyond the guest's RAM: its page tables and slack. */
const MACHINE_MEMORY_SLACK = 16 * 2 ** 20;

/**
 * Turns the command line into a VM's images. Without --bios the firmware
 * follows the image (firmware-default.ts), and `note` receives the one line
 * that says which was chosen.
 */
export function vmImagesFrom(image: string | undefined, flags: RunFlags, note: (line: string) => void = () => {}): VmImages {
  const kernelPath = kernelPathFrom(image, flags);
  let bios = flags.bios;
  if (bios === undefined && kernelPath !== undefined) {
    const chosen = trapFirmwareDefault(image);
    note(chosen.note);
    bios = chosen.bios;
  }
  bios ??= "hv";
  const choice: VmImages["bios"] =
    bios === "hv" ? { kind: "hv" } : bios === "none" ? { kind: "none" } : { kind: "firmware", bytes: readUserImage(bios, "bios", note) };
  if (kernelPath === undefined && choice.kind !== "firmware") {
    throw new ConfigError("nothing to run: give an IMAGE (or --kernel PATH, or --bios PATH)");
  }
  return {
    bios: choice,
    kernel: kernelPath === undefined ? undefined : readUserImage(kernelPath, "kernel", note),
    initrd: flags.initrd === undefined ? undefined : readImageFile(flags.initrd, "initrd"),
    append: flags.append,
  };
}

interface TrapConfig {
  readonly vcpus: number;
  readonly memSize: number;
  readonly wait: WaitPolicy;
  readonly exitHandler: ExitHandlerPlace;
  readonly shadowPages: number;
  readonly isaVariant: IsaVariant;
  readonly nonvirtFix: NonvirtFix;
  readonly shadowCoherence: ShadowCoherence;
  readonly pin: PinLayout | undefined;
}

/** What a VM is built with, from the command line. */
function trapConfigFrom(flags: RunFlags): TrapConfig {
  if (flags.harts !== undefined) throw new ConfigError("--harts is the native board's; under --virt trap use --vcpus N");
  if (flags.cpu !== undefined) throw new ConfigError("--cpu is the native board's: under --virt trap the guest runs deprivileged, under --virt hw on a hart with H");
  if (flags.virt === "hw" && flags.mmu === "swtlb") throw new ConfigError("--virt hw needs the Sv39 walker (the H extension's two-stage translation), not --mmu swtlb");
  if (flags.clock !== "real") throw new ConfigError("--clock icount is not available under --virt trap (vCPUs run in parallel threads)");
  const memSize = parseMemSize(flags.mem);
  const vcpus = flags.vcpus === undefined ? 1 : parseCount("--vcpus", flags.vcpus, 1, MAX_VCPUS);
  const nonvirtFix = nonvirtFixFrom(flags, "trap");
  if (nonvirtFix === "scan" && vcpus > 1) throw new ConfigError("--nonvirt-fix scan: the code scanner keeps its patches per vCPU; run with --vcpus 1");
  return {
    vcpus,
    memSize,
    wait: parseWaitPolicy(flags.wait),
    exitHandler: parseChoice("--exit-handler", flags.exitHandler, ["main", "vcpu"] as const),
    isaVariant: isaVariantFrom(flags),
    nonvirtFix,
    shadowCoherence: parseChoice("--shadow-coherence", flags.shadowCoherence ?? "tlb", SHADOW_COHERENCE),
    pin: flags.pin === undefined || flags.pin === false ? undefined : pinLayout(flags.pin, vcpus),
    shadowPages: flags.shadowPages === undefined ? defaultShadowPages(memSize) : parseCount("--shadow-pages", flags.shadowPages, MIN_SHADOW_PAGES, MAX_SHADOW_PAGES),
  };
}

/** Machine memory is a WebAssembly.Memory: whole 64 KiB pages. */
const WASM_PAGE = 65536;

/** Machine memory for a VM of this much RAM, with its shadow page-table pools (also `popek exp`'s, per VM). */
export function machineMemoryFor(c: Pick<TrapConfig, "vcpus" | "memSize" | "shadowPages">): number {
  const shadow = c.vcpus * (c.shadowPages + 1) * PAGE_SIZE;
  return c.memSize + MACHINE_MEMORY_SLACK + Math.ceil(shadow / WASM_PAGE) * WASM_PAGE;
}

export async function runTrapCommand(image: string | undefined, flags: RunFlags): Promise<number> {
  const config = trapConfigFrom(flags);
  const { vcpus, memSize, wait, exitHandler, shadowPages, isaVariant, nonvirtFix, shadowCoherence, pin } = config;
  const timeoutSeconds = flags.timeout === undefined ? undefined : parseSeconds("--timeout", flags.timeout);
  const images = vmImagesFrom(image, flags, (line) => process.stderr.write(`${line}\n`));
  const net = new VirtualNetwork();
  const devices = boardDevicesFrom(flags, netdevPorts(net), netdevRemotePorts(net));
  const observers = RunObservers.from(flags);

  // A reader that went away (EPIPE) stops the VM, like Ctrl-A x but with SIGPIPE's status.
  const out = stdoutSink(() => stop(EXIT_STDOUT_CLOSED));
  const hv = new Hypervisor({ machineMemory: machineMemoryFor(config) });
  const output = observers.output(out.write);
  const boot = (): Vm => {
    const created = hv.createVm({ name: "vm0", vcpus, memSize, images, wait, exitHandler, shadowPages, output, mmu: mmuFrom(flags), isaVariant, nonvirtFix, shadowCoherence, devices, hw: flags.virt === "hw", pin });
    observers.attach(created);
    return created;
  };
  let vm = boot();
  let stoppedByHost: { code: number; reason?: string } | undefined;
  const stop = (code: number, reason?: string): void => {
    stoppedByHost = { code, reason };
    vm.stop("stopped", code, reason);
  };
  // Loaded on demand, as on the native board; GDB's kill ends the run as the board's does (status 0).
  const gdb = wantsGdb(flags) ? await (await import("./run-trap-gdb.ts")).startVmGdb(vm, flags, () => stop(0)) : undefined;
  // Under --top the terminal's keys are the view's (q quits), not the guest's.
  const console = observers.top === undefined ? attachConsole((bytes) => vm.input(bytes)) : { quit: () => false, close: () => {} };
  observers.top?.start(() => vm, () => stop(0));
  const flusher = setInterval(out.flush, 30);
  const quitter = setInterval(() => {
    if (console.quit()) stop(0);
  }, 50);
  const timer = timeoutSeconds === undefined ? undefined : setTimeout(() => stop(124, "timeout"), timeoutSeconds * 1000);
  hv.start(vm);
  net.start();
  let result: VmResult;
  try {
    result = await vm.result;
    // A guest reset (SBI SRST reboot, the finisher's 0x7777) boots the same images again in a
    // fresh VM, as QEMU resets its machine and the native board reboots: the run goes on.
    // Under a debugger the session ends with the VM it debugged: a reset ends the run.
    while (result.outcome === "reboot" && stoppedByHost === undefined && gdb === undefined) {
      vm = boot();
      hv.start(vm);
      result = await vm.result;
    }
  } finally {
    await gdb?.finish(vm.running ? undefined : (await vm.result).exitCode);
    net.close();
    clearInterval(flusher);
    clearInterval(quitter);
    if (timer !== undefined) clearTimeout(timer);
    out.flush();
    out.close();
    console.close();
    for (const line of await observers.close()) process.stderr.write(`${line}\n`);
  }
  if (stdoutClosed()) return EXIT_STDOUT_CLOSED;
  if (stoppedByHost !== undefined && result.outcome === "reboot") {
    // Stopped between a reset and the next boot: report the stop, not the reset.
    result = { ...result, outcome: "stopped", exitCode: stoppedByHost.code, message: stoppedByHost.reason };
  }
  if (result.message === "timeout") process.stderr.write(`\npopek: timeout after ${timeoutSeconds} s\n`);
  else if (result.outcome === "error") process.stderr.write(`popek: vm0: ${result.message}\n`);
  if (flags.stats) process.stderr.write(formatStats(result.reports));
  return result.exitCode;
}
