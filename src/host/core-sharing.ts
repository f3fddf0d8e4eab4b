/*
 * Whether a vCPU thread and the main thread that answers its exits sit on
 * one host core, looked at now and then (--stats host_cpu_samples and
 * host_cpu_shared): the scheduler's placement, made visible. Two threads on
 * one core hand every exit over through a context switch, or one spins while
 * the other waits behind it; on cores of their own a handoff is a cache line
 * (README, "`poll` pinned apart"). Each look reads two /proc files, ~10 µs,
 * so it is taken every SAMPLE_EVERY_MS at most.
 */

import { currentThreadId, lastCpuOf } from "./affinity.ts";

const SAMPLE_EVERY_MS = 100;

/** This thread's Linux thread id, for a CoreSharingSampler on another thread; undefined where the host cannot say. */
export function samplerThreadId(): number | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    return currentThreadId();
  } catch {
    return undefined; // no /proc/thread-self (Linux before 3.17)
  }
}

export class CoreSharingSampler {
  private self = -1;
  private nextAt = 0;
  /** False once /proc has failed to answer (not Linux, or a thread gone): no more looks. */
  private working = false;

  /** `mainThreadId` absent: nobody to compare with, no looks. */
  constructor(private readonly mainThreadId: number | undefined) {
    const self = samplerThreadId();
    if (mainThreadId === undefined || self === undefined) return;
    this.self = self;
    this.working = true;
  }

  /**
   * At `now` (performance.now()): undefined when it is not time for a look
   * (or the host cannot say), else whether both threads last ran on one core.
   */
  sample(now: number): boolean | undefined {
    if (!this.working || now < this.nextAt || this.mainThreadId === undefined) return undefined;
    this.nextAt = now + SAMPLE_EVERY_MS;
    try {
      return lastCpuOf(this.self) === lastCpuOf(this.mainThreadId);
    } catch {
      this.working = false;
      return undefined;
    }
  }
}
