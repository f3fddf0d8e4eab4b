/*
 * labos (guests/labos, popek's teaching kernel) as the guest of a
 * benchmark: boots it natively behind Debian's OpenSBI, or under --virt trap
 * on the hypervisor's SBI, with the devices a run needs, and reads the
 * `result PROG.TEST key=value ...` lines its programs print (the format
 * guests/labos/README.md documents). A run that does not end with init's
 * "0 failed" is an error: its numbers would describe a broken experiment.
 */

import { existsSync } from "node:fs";
import { ConfigError } from "../src/errors.ts";
import { Hypervisor } from "../src/hypervisor/hypervisor.ts";
import type { ExitHandlerPlace, VmResult } from "../src/hypervisor/vm.ts";
import type { DeviceSpec } from "../src/machine/board-devices.ts";
import { Board } from "../src/machine/board.ts";
import { readImageFile } from "../src/machine/image.ts";
import { runBoard } from "../src/machine/runner.ts";

const LABOS_IMAGE = "guests/bin/labos.elf";
const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const MEM = 64 * 2 ** 20;
const TIMEOUT_S = 600;
const TIMED_OUT = 124;

/** One `result PROG.TEST key=value ...` line (guests/labos/README.md): its name (`nanobench.page_fault`) and its numeric fields. */
export interface LabosResult {
  readonly name: string;
  readonly fields: Readonly<Record<string, number>>;
}

export interface LabosRun {
  readonly output: string;
  readonly results: LabosResult[];
  /** Under --virt trap: the VM's result (exit counters per vCPU). */
  readonly vm?: VmResult;
  /** Under --virt trap: the device models, for their own counters. */
  readonly devices?: readonly unknown[];
}

/** Every `result` line of a labos run's output, in order. */
export function parseLabosResults(output: string): LabosResult[] {
  const out: LabosResult[] = [];
  for (const m of output.matchAll(/^result (\w+\.\w+)((?: \w+=\d+)+)\s*$/gm)) {
    const fields: Record<string, number> = {};
    for (const f of m[2].trim().split(" ")) {
      const [k, v] = f.split("=");
      fields[k] = Number(v);
    }
    out.push({ name: m[1], fields });
  }
  return out;
}

function checked(what: string, output: string, vm?: VmResult, devices?: readonly unknown[]): LabosRun {
  if (!/^init: \d+ programs, 0 failed$/m.test(output)) {
    const tail = output.trim().split(/\r?\n/).slice(-4).join(" | ");
    const why = vm?.exitCode === TIMED_OUT ? `stopped after ${TIMEOUT_S} s` : "did not run cleanly";
    throw new Error(`labos (${what}) ${why}: ${tail}`);
  }
  return { output, results: parseLabosResults(output), vm, devices };
}

/** labos on the native board, behind Debian's OpenSBI (which it needs for SBI). */
export async function runLabosNative(append: string, devices?: readonly DeviceSpec[]): Promise<LabosRun> {
  if (!existsSync(OPENSBI)) throw new ConfigError(`--guest labos runs natively behind OpenSBI: ${OPENSBI} is not installed (apt install opensbi)`);
  let output = "";
  const board = new Board({ harts: 1, memSize: MEM, clock: "real", devices, output: (b) => (output += String.fromCharCode(b)) });
  board.boot({ firmware: readImageFile(OPENSBI, "bios"), kernel: readImageFile(LABOS_IMAGE, "kernel"), append });
  await runBoard(board, { timeoutSeconds: TIMEOUT_S });
  return checked(`natively, "${append}"`, output);
}

/** labos under --virt trap on the hypervisor's SBI, one vCPU. */
export async function runLabosTrap(append: string, exitHandler: ExitHandlerPlace, devices?: readonly DeviceSpec[]): Promise<LabosRun> {
  let output = "";
  const hv = new Hypervisor({ machineMemory: MEM + 16 * 2 ** 20 });
  const vm = hv.createVm({
    name: "labos",
    vcpus: 1,
    memSize: MEM,
    images: { bios: { kind: "hv" }, kernel: readImageFile(LABOS_IMAGE, "kernel"), append },
    wait: "poll",
    exitHandler,
    devices,
    output: (b) => (output += String.fromCharCode(b)),
  });
  const models = vm.devices.instances.map((i) => i.device);
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", TIMED_OUT, "timeout"), TIMEOUT_S * 1000);
  const r = await vm.result;
  clearTimeout(timer);
  return checked(`under --virt trap (${exitHandler}), "${append}"`, output, r, models);
}
