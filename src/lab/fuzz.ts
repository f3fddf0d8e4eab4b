/*
 * The fuzzer: random guests (src/lab/fuzz-guest.ts) run natively and under
 * --virt trap, compared. For each seed:
 *
 *   M-mode guest   natively (icount clock) and under trap with exits handled
 *                  on the main thread and on the vCPU thread: the ending
 *                  (finisher, code) and the console output (its register
 *                  checksum included) must be the same; with `lockstep`,
 *                  also compared at every exit (src/lab/lockstep.ts)
 *   SBI guest      under trap only (natively SBI is OpenSBI's, not ours):
 *                  the VM must end, or stop cleanly when told to
 *
 * Whatever the guest does, the hypervisor must not crash (a VM "error"
 * ending) or hang (a VM that does not stop within STOP_GRACE_MS of being
 * told to). A finding names its seed: `popek fuzz --seed N --count 1`
 * replays it.
 */

import { Hypervisor } from "../hypervisor/hypervisor.ts";
import type { VmImages } from "../hypervisor/vm-boot.ts";
import type { ExitHandlerPlace, VmResult } from "../hypervisor/vm.ts";
import { Board } from "../machine/board.ts";
import { runBoard } from "../machine/runner.ts";
import { fuzzGuest, fuzzSbiGuest } from "./fuzz-guest.ts";
import { lockstep } from "./lockstep.ts";

interface FuzzOptions {
  readonly seed: number;
  readonly count: number;
  /** Items per M-mode guest. */
  readonly items?: number;
  /** Also compare each M-mode guest at every exit (slower). */
  readonly lockstep?: boolean;
  /** Where the trap runs handle exits. */
  readonly exitHandlers?: readonly ExitHandlerPlace[];
  /** Generate device accesses at aligned offsets only (see fuzz-guest.ts). */
  readonly alignedMmioOnly?: boolean;
  /** Wall-clock limit per run, in seconds. */
  readonly timeoutSeconds?: number;
  /** Called after each seed (progress). */
  readonly onCase?: (seed: number, findings: readonly FuzzFinding[]) => void;
}

export interface FuzzFinding {
  readonly seed: number;
  readonly guest: "m-mode" | "sbi";
  readonly kind: "mismatch" | "divergence" | "crash" | "hang";
  readonly detail: string;
}

/** How long a VM may take to stop after being told to before it counts as hung. */
const STOP_GRACE_MS = 10_000;
const MEM = 32 * 2 ** 20;
/** Limit for an SBI guest: most end within a fraction of it; one that parked its only hart is stopped by it. */
const SBI_TIMEOUT_SECONDS = 3;

interface Ending {
  readonly outcome: string;
  readonly exitCode: number;
  readonly output: string;
}

export async function fuzz(opts: FuzzOptions): Promise<FuzzFinding[]> {
  const all: FuzzFinding[] = [];
  for (let i = 0; i < opts.count; i++) {
    const seed = (opts.seed + i) >>> 0;
    const found = await fuzzSeed(seed, opts);
    all.push(...found);
    opts.onCase?.(seed, found);
  }
  return all;
}

/** Runs one seed's guests; returns what it found. */
async function fuzzSeed(seed: number, opts: Omit<FuzzOptions, "seed" | "count">): Promise<FuzzFinding[]> {
  const findings: FuzzFinding[] = [];
  const timeout = opts.timeoutSeconds ?? 20;
  const image = fuzzGuest(seed, { items: opts.items, alignedMmioOnly: opts.alignedMmioOnly });
  const native = await runNative(image, timeout);
  for (const handler of opts.exitHandlers ?? ["main", "vcpu"]) {
    const trap = await runTrap({ bios: { kind: "none" }, kernel: image }, handler, timeout);
    if (typeof trap === "string") {
      findings.push({ seed, guest: "m-mode", kind: "hang", detail: `--exit-handler ${handler}: ${trap}` });
      continue;
    }
    if (trap.outcome === "error") {
      findings.push({ seed, guest: "m-mode", kind: "crash", detail: `--exit-handler ${handler}: ${trap.output.slice(-200)}` });
      continue;
    }
    const diff = compareEndings(native, trap);
    if (diff !== undefined) findings.push({ seed, guest: "m-mode", kind: "mismatch", detail: `--exit-handler ${handler}: ${diff}` });
  }
  if (opts.lockstep) {
    const r = await lockstep(image, { memSize: MEM, timeoutSeconds: timeout });
    const d = r.divergence;
    if (d !== undefined) findings.push({ seed, guest: "m-mode", kind: "divergence", detail: `pc ${d.pc} ${d.instruction}: ${d.what}` });
  }
  for (const handler of opts.exitHandlers ?? ["main", "vcpu"]) {
    // A guest that stopped or suspended its only hart waits for ever, legitimately: a short limit.
    const sbi = await runTrap({ bios: { kind: "hv" }, kernel: fuzzSbiGuest(seed) }, handler, Math.min(timeout, SBI_TIMEOUT_SECONDS));
    if (typeof sbi === "string") findings.push({ seed, guest: "sbi", kind: "hang", detail: `--exit-handler ${handler}: ${sbi}` });
    else if (sbi.outcome === "error") findings.push({ seed, guest: "sbi", kind: "crash", detail: `--exit-handler ${handler}: ${sbi.output.slice(-200)}` });
  }
  return findings;
}

async function runNative(image: Uint8Array, timeoutSeconds: number): Promise<Ending> {
  let output = "";
  const board = new Board({ harts: 1, memSize: MEM, clock: "icount", output: (b) => (output += String.fromCharCode(b)) });
  board.boot({ kernel: image });
  const r = await runBoard(board, { timeoutSeconds });
  return { outcome: r.outcome === "timeout" ? "timeout" : r.outcome, exitCode: r.exitCode, output };
}

/** Runs a VM to its end (or the timeout); a string if it did not stop when told to. For "error", output ends with the message. */
async function runTrap(images: VmImages, exitHandler: ExitHandlerPlace, timeoutSeconds: number): Promise<Ending | string> {
  let output = "";
  const hv = new Hypervisor({ machineMemory: MEM + 16 * 2 ** 20 });
  const vm = hv.createVm({ name: "fuzz", vcpus: 1, memSize: MEM, images, wait: "poll", exitHandler, output: (b) => (output += String.fromCharCode(b)) });
  hv.start(vm);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    vm.stop("stopped", 124, "timeout");
  }, timeoutSeconds * 1000);
  const hung = new Promise<string>((resolve) => {
    const check = setTimeout(() => resolve(`the VM did not stop within ${STOP_GRACE_MS} ms of its timeout`), timeoutSeconds * 1000 + STOP_GRACE_MS);
    void vm.result.then(() => clearTimeout(check));
  });
  const r: VmResult | string = await Promise.race([vm.result, hung]);
  clearTimeout(timer);
  if (typeof r === "string") return r;
  if (r.outcome === "error") return { outcome: "error", exitCode: r.exitCode, output: `${output}\n[${r.message ?? ""}]` };
  return { outcome: timedOut ? "timeout" : r.outcome, exitCode: r.exitCode, output };
}

/** What differs between the native and the trap ending, or undefined. */
function compareEndings(native: Ending, trap: Ending): string | undefined {
  if (native.outcome !== trap.outcome || native.exitCode !== trap.exitCode) {
    return `ending: native ${native.outcome} ${native.exitCode}, trap ${trap.outcome} ${trap.exitCode}`;
  }
  if (native.output !== trap.output) {
    let i = 0;
    while (i < native.output.length && native.output[i] === trap.output[i]) i++;
    return `output from byte ${i}: native ${JSON.stringify(native.output.slice(i, i + 40))}, trap ${JSON.stringify(trap.output.slice(i, i + 40))}`;
  }
  return undefined;
}
