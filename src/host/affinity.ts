/*
 * Which cores the hypervisor's threads may run on (--pin), as libvirt's
 * <emulatorpin> and <vcpupin> set them for QEMU's threads.
 *
 * Why popek offers it: when more threads want to run than there are cores,
 * Linux may put a vCPU thread and the main thread that answers its exits on
 * one core (a woken thread goes beside its waker when no core is idle) and
 * leave them there, since the runqueues look balanced; each exit then waits
 * for the other thread to be switched in. Measured beside `stress-ng --cpu 2`
 * on a 2-core host (exitbench, --wait poll, --exit-handler main): the sampled
 * round trips' p99 was 5.8, 53 and 235 µs in three passes unpinned, 4.5–19 µs
 * in six passes with the two threads pinned apart. Pinned apart, each thread
 * shares its core with whatever else runs there, and a round trip is slow
 * only when it straddles the end of a time slice.
 *
 * Node has no sched_setaffinity: util-linux's taskset makes the call, for one
 * thread id (a Linux thread's affinity is its own; setting one thread's
 * leaves the rest of the process alone). Reading it needs no process:
 * /proc/thread-self/status. A thread created by a pinned thread inherits its
 * pin, so the main thread leaves the mask it had in the environment while
 * pinned, and worker threads that are not pinned themselves take it back
 * (unpinInherited).
 */

import { spawnSync } from "node:child_process";
import { readFileSync, readlinkSync } from "node:fs";
import { ConfigError } from "../errors.ts";

/** Where a pinned main thread leaves the mask it had, for the threads it starts (a CPU list). */
const INHERITED_ENV = "POPEK_CPUS_BEFORE_PIN";

/** Where each thread of a pinned VM runs: the main thread's core, and each vCPU's. */
export interface PinLayout {
  readonly main: number;
  readonly vcpus: readonly number[];
}

/** Parses a CPU list as Linux writes one ("0-3,6"). */
export function parseCpuList(text: string, what: string): number[] {
  const cpus = new Set<number>();
  for (const part of text.trim().split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) throw new ConfigError(`${what}: "${text}" is not a CPU list (like 0,1 or 0-3)`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first || last > 4095) throw new ConfigError(`${what}: "${part}" is not a CPU range`);
    for (let c = first; c <= last; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** A CPU list as taskset takes it (no ranges: plain and short for the few cores these hosts have). */
export function formatCpuList(cpus: readonly number[]): string {
  return cpus.join(",");
}

/** This thread's Linux thread id. */
export function currentThreadId(): number {
  // "/proc/thread-self" links to "<pid>/task/<tid>".
  return Number(readlinkSync("/proc/thread-self").split("/").pop());
}

/** The cores this thread may run on. */
export function threadCpus(): number[] {
  return cpusInStatus(readFileSync("/proc/thread-self/status", "utf8"));
}

/**
 * The cores this process's threads may use: this thread's, or, while this
 * thread is pinned for a VM (MainThreadPin), the ones it had before.
 */
function processCpus(): number[] {
  const before = process.env[INHERITED_ENV];
  return before === undefined ? threadCpus() : parseCpuList(before, INHERITED_ENV);
}

/** The core thread `tid` of this process last ran on (what `ps -L -o psr` shows). */
export function lastCpuOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
  // Field 39, "processor", counted from the state (field 3) after the command name, which may hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[39 - 3]);
}

function cpusInStatus(status: string): number[] {
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(status);
  if (m === null) throw new Error("/proc status without Cpus_allowed_list");
  return parseCpuList(m[1], "Cpus_allowed_list");
}

/** Lets thread `tid` run only on `cpus`. */
function setThreadCpus(tid: number, cpus: readonly number[]): void {
  const list = formatCpuList(cpus);
  const r = spawnSync("taskset", ["-p", "-c", list, String(tid)], { encoding: "utf8" });
  if (r.error !== undefined) {
    const why = (r.error as NodeJS.ErrnoException).code === "ENOENT" ? "taskset is not installed (util-linux)" : r.error.message;
    throw new ConfigError(`--pin: cannot pin threads: ${why}`);
  }
  if (r.status !== 0) throw new ConfigError(`--pin: taskset could not pin thread ${tid} to CPU ${list}: ${r.stderr.trim()}`);
}

/** Why --pin cannot work on this host (not Linux, no taskset, one core), or undefined if it can. */
export function pinningUnavailable(): string | undefined {
  if (process.platform !== "linux") return `threads are pinned through Linux's sched_setaffinity, and this is ${process.platform}`;
  const r = spawnSync("taskset", ["--version"], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) return "taskset (util-linux) is not installed";
  const cpus = processCpus();
  if (cpus.length < 2) return `this process may use one core only (CPU ${formatCpuList(cpus)})`;
  return undefined;
}

/** Pins the calling thread to one core. */
export function pinThisThread(cpu: number): void {
  setThreadCpus(currentThreadId(), [cpu]);
}

/**
 * A worker thread that is not pinned itself: takes back the mask the main
 * thread had before it was pinned, if it was started by a pinned main
 * thread (and so inherited that one core).
 */
export function unpinInherited(): void {
  if (process.env[INHERITED_ENV] === undefined) return;
  const cpus = processCpus();
  if (formatCpuList(threadCpus()) !== formatCpuList(cpus)) setThreadCpus(currentThreadId(), cpus);
}

/**
 * The layout for --pin: `spec` true places the main thread on the first core
 * this process may use and the vCPUs on the others in turn (sharing them when
 * there are more vCPUs than other cores); a list gives the main thread's core
 * and then each vCPU's. Every core must be one this process may use
 * (processCpus: a main thread pinned for one VM may lay out the next).
 */
export function pinLayout(spec: true | string, vcpus: number, allowed: readonly number[] = processCpus()): PinLayout {
  if (spec === true) {
    if (allowed.length < 2) throw new ConfigError(`--pin: needs two cores or more to keep the vCPUs off the main thread's, and this process may use ${allowed.length === 1 ? "one" : "none"} (CPU ${formatCpuList(allowed)})`);
    const others = allowed.slice(1);
    return { main: allowed[0], vcpus: Array.from({ length: vcpus }, (_, h) => others[h % others.length]) };
  }
  const cpus = spec.split(",").map((s) => {
    if (!/^\d+$/.test(s.trim())) throw new ConfigError(`--pin: "${spec}": expected CPU numbers, the main thread's then one per vCPU (like 0,1)`);
    return Number(s);
  });
  if (cpus.length !== vcpus + 1) throw new ConfigError(`--pin ${spec}: expected ${vcpus + 1} CPUs (the main thread's, then one per vCPU), got ${cpus.length}`);
  for (const c of cpus) if (!allowed.includes(c)) throw new ConfigError(`--pin ${spec}: CPU ${c} is not one this process may use (${formatCpuList(allowed)})`);
  return { main: cpus[0], vcpus: cpus.slice(1) };
}

/**
 * The main thread's pin while pinned VMs run (one per Hypervisor): the first
 * VM to start pins it, the last to end gives back the mask it had.
 */
export class MainThreadPin {
  private holders = 0;
  private cpu = -1;
  private before: number[] = [];

  acquire(cpu: number): void {
    if (this.holders > 0) {
      if (cpu !== this.cpu) throw new ConfigError(`--pin: the main thread is pinned to CPU ${this.cpu} by a running VM; another cannot pin it to CPU ${cpu}`);
      this.holders++;
      return;
    }
    this.before = threadCpus();
    pinThisThread(cpu);
    this.cpu = cpu;
    this.holders = 1;
    process.env[INHERITED_ENV] = formatCpuList(this.before);
  }

  release(): void {
    if (this.holders === 0 || --this.holders > 0) return;
    delete process.env[INHERITED_ENV];
    setThreadCpus(currentThreadId(), this.before);
  }
}
