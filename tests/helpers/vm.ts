/*
 * Runs an image under the trap-and-emulate hypervisor in-process and
 * collects its console output: the hypervisor tests' counterpart of boot.ts.
 */

import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import type { VmImages } from "../../src/hypervisor/vm-boot.ts";
import type { ExitHandlerPlace, Vm, VmResult } from "../../src/hypervisor/vm.ts";
import type { WaitPolicy } from "../../src/hypervisor/wait.ts";
import { readImageFile } from "../../src/machine/image.ts";
import type { MmuMode } from "../../src/machine/swtlb.ts";
import type { IsaVariant } from "../../src/machine/isa-variant.ts";
import type { NonvirtFix } from "../../src/hypervisor/nonvirt/code-scanner.ts";
import type { DeviceSpec } from "../../src/machine/board-devices.ts";
import type { PinLayout } from "../../src/host/affinity.ts";

export interface VmRunOptions {
  readonly vcpus?: number;
  readonly memSize?: number;
  readonly wait?: WaitPolicy;
  readonly exitHandler?: ExitHandlerPlace;
  readonly timeoutSeconds?: number;
  readonly mmu?: MmuMode;
  readonly isaVariant?: IsaVariant;
  readonly nonvirtFix?: NonvirtFix;
  /** --virt hw: guest S/U in the real hart's VS/VU (hw-mode.ts). */
  readonly hw?: boolean;
  /** The VM's device table (the popek board's by default). */
  readonly devices?: readonly DeviceSpec[];
  /** --pin: the main thread's core and each vCPU's (src/host/affinity.ts). */
  readonly pin?: PinLayout;
}

export interface VmOutcome {
  readonly output: string;
  readonly result: VmResult;
}

export interface StartedVm {
  readonly vm: Vm;
  output(): string;
}

/** Creates and starts a VM on a hypervisor (several may share one). */
export function startVm(hv: Hypervisor, images: VmImages, opts: VmRunOptions = {}): StartedVm {
  let output = "";
  const vm = hv.createVm({
    name: `vm${hv.vms.length}`,
    vcpus: opts.vcpus ?? 1,
    memSize: opts.memSize ?? 64 * 2 ** 20,
    images,
    wait: opts.wait ?? "poll",
    exitHandler: opts.exitHandler ?? "main",
    output: (b) => (output += String.fromCharCode(b)),
    mmu: opts.mmu,
    isaVariant: opts.isaVariant,
    nonvirtFix: opts.nonvirtFix,
    hw: opts.hw,
    devices: opts.devices,
    pin: opts.pin,
  });
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), (opts.timeoutSeconds ?? 60) * 1000);
  void vm.result.then(() => clearTimeout(timer));
  return { vm, output: () => output };
}

/** Boots one VM on its own hypervisor and waits for it to stop. */
export async function runVm(images: VmImages, opts: VmRunOptions = {}): Promise<VmOutcome> {
  const hv = new Hypervisor({ machineMemory: (opts.memSize ?? 64 * 2 ** 20) + 16 * 2 ** 20 });
  const started = startVm(hv, images, opts);
  const result = await started.vm.result;
  return { output: started.output(), result };
}

/** An M-mode image (runs with --bios none). */
export function mImage(path: string): VmImages {
  return { bios: { kind: "none" }, kernel: readImageFile(path, "kernel") };
}

/** An S-mode kernel on the hypervisor's SBI (--bios hv). */
export function sImage(path: string): VmImages {
  return { bios: { kind: "hv" }, kernel: readImageFile(path, "kernel") };
}
