/*
 * A VM's vCPU threads: one worker per vCPU, started from its VcpuConfig, and
 * the control plane to each (comlink: pause, resume, registers, latency).
 * What the threads report back (a crash, an early end) goes to the VM
 * through the callbacks it gives.
 */

import * as Comlink from "comlink";
import { Worker } from "node:worker_threads";
import { comlinkWrap, nodeEndpoint } from "./comlink-node.ts";
import type { LatencySummary, VcpuConfig, VcpuControl } from "./vcpu-runner.ts";
import type { VcpuFinished } from "./vcpu-finished.ts";

/**
 * Compiled (dist/, this file is .js): the compiled worker starts directly. From the sources
 * (tsx, vitest): a small boot file registers tsx in the new thread first.
 */
const WORKER_ENTRY = import.meta.url.endsWith(".js")
  ? new URL("../../workers/vcpu.js", import.meta.url)
  : new URL("../../workers/vcpu-boot.js", import.meta.url);
/** How long a stopping VM waits for a vCPU's latency summary, in ms. */
const REPORT_TIMEOUT_MS = 500;

export interface VcpuThreadEvents {
  /** Something went wrong on a vCPU thread: the VM stops with this message. */
  fail(message: string): void;
  /** False once the VM has stopped: a thread's exit is then expected. */
  readonly running: boolean;
}

export class VcpuThreads {
  private readonly workers: Worker[] = [];
  private readonly controls: Comlink.Remote<VcpuControl>[] = [];

  constructor(
    private readonly vmName: string,
    private readonly events: VcpuThreadEvents,
  ) {}

  /** Spawns one worker thread per config, in hart order. */
  start(configs: readonly VcpuConfig[]): void {
    for (const config of configs) {
      const h = config.hartId;
      const worker = new Worker(WORKER_ENTRY, { workerData: config });
      worker.on("message", (m: unknown) => this.onMessage(h, m));
      worker.on("error", (e: Error) => this.events.fail(`vcpu ${h} crashed: ${e.message}`));
      worker.on("exit", (code) => {
        if (this.events.running) this.events.fail(`vcpu ${h} thread exited unexpectedly (code ${code})`);
      });
      this.workers.push(worker);
      this.controls.push(comlinkWrap<VcpuControl>(nodeEndpoint(worker)));
    }
  }

  /** Parks every vCPU at its next slice boundary; resolves when all are parked. */
  async pause(): Promise<void> {
    await Promise.all(this.controls.map((c) => c.pause()));
  }

  async resume(): Promise<void> {
    await Promise.all(this.controls.map((c) => c.resume()));
  }

  control(hart: number): Comlink.Remote<VcpuControl> {
    const c = this.controls[hart];
    if (c === undefined) throw new RangeError(`${this.vmName}: no vCPU ${hart}`);
    return c;
  }

  /** Each vCPU's exit latency summary, or undefined for one that does not answer in time. */
  async latencies(): Promise<(LatencySummary | undefined)[]> {
    const out: (LatencySummary | undefined)[] = [];
    for (const c of this.controls) {
      try {
        out.push(await withTimeout(c.latency(), REPORT_TIMEOUT_MS));
      } catch {
        out.push(undefined);
      }
    }
    return out;
  }

  /** Ends every thread. */
  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate().catch(() => 0)));
  }

  /** Ends one vCPU's thread abruptly, as a crash would. */
  async kill(hart: number): Promise<void> {
    await this.workers[hart]?.terminate();
  }

  private onMessage(hart: number, m: unknown): void {
    if (typeof m !== "object" || m === null || (m as { popek?: unknown }).popek !== "vcpu-finished") return;
    const done = m as VcpuFinished;
    if (done.error !== undefined) this.events.fail(`vcpu ${hart} crashed: ${done.error.message}`);
    else if (done.stopReason !== "") this.events.fail(done.stopReason);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref())]);
}
