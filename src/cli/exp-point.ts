/*
 * One run of an experiment point: its VMs booted as `popek run` boots them
 * (the same images, device flags and hypervisor; native VMs on the board),
 * on one virtual network, until the file's condition; then its record:
 * exits by reason, exit latency from the vCPUs' HDR histograms, sink
 * throughput, main-thread busy time, cores used, and what the guest said.
 * A run that fails or times out is a failed record, never an exception:
 * the sweep goes on.
 */

import { pinLayout } from "../host/affinity.ts";
import { performance } from "node:perf_hooks";
import { Hypervisor } from "../hypervisor/hypervisor.ts";
import { defaultShadowPages } from "../hypervisor/shadow/shadow-state.ts";
import { EXIT_STATS, readStats, type ExitStatName } from "../hypervisor/stats.ts";
import type { Vm, VmResult } from "../hypervisor/vm.ts";
import type { Point } from "../lab/experiment-file.ts";
import type { Experiment } from "../lab/experiment-schema.ts";
import { encodeHistogram, mergeHistograms, percentilesOf, type RunRecord } from "../lab/results.ts";
import { Board } from "../machine/board.ts";
import { runBoard } from "../machine/runner.ts";
import { VirtualNetwork } from "../net/netdevs.ts";
import { boardDevicesFrom } from "./devices.ts";
import { guestMetrics } from "./exp-metrics.ts";
import { runConfig, vmFlags, vmPorts, vmRemotePorts } from "./exp-vm.ts";
import { parseMemSize } from "./options.ts";
import { bootImagesFrom } from "./run-flags.ts";
import { mmuFrom } from "./run-flags.ts";
import { machineMemoryFor, vmImagesFrom } from "./run-trap.ts";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { TraceFile } from "../trace/trace-file.ts";

/** What a running run reports, a few times a second. */
export interface RunProgress {
  readonly elapsed: number;
  /** Seconds the run may take: its duration, else its timeout. */
  readonly limit: number;
  readonly exits: number;
}

/** How often progress is reported, ms. */
const PROGRESS_MS = 250;

/** A VM of the run, whichever way it runs. */
interface Guest {
  readonly name: string;
  output: string;
  /** Resolves with how it ended: null when it ended cleanly (or was stopped by the run), else why it failed. */
  readonly ended: Promise<string | null>;
  readonly vm?: Vm;
  stop(): void;
}

function emptyExits(): Record<ExitStatName, number> {
  return Object.fromEntries(EXIT_STATS.map((s) => [s.name, 0])) as Record<ExitStatName, number>;
}

/**
 * The sinks' throughput: bytes after each sink's first frame over the time from the first frame
 * to the last (the sinks note both), so the rate covers the traffic, not the boot or the idle after.
 */
function sinkThroughput(net: VirtualNetwork): { mbps: number | null; frames: number | null } {
  const sinks = [...net.sinks.values()].filter((k) => k.frames > 0);
  if (net.sinks.size === 0) return { mbps: null, frames: null };
  if (sinks.length === 0) return { mbps: 0, frames: 0 };
  const span = (Math.max(...sinks.map((k) => k.lastAt)) - Math.min(...sinks.map((k) => k.firstAt))) / 1000;
  const bytes = sinks.reduce((s, k) => s + k.bytes - k.firstBytes, 0);
  return { mbps: span > 0 ? (bytes * 8) / span / 1e6 : 0, frames: sinks.reduce((s, k) => s + k.frames, 0) };
}

/** The run's trace file when the experiment asks for one (`trace: true`) and there is a directory to put it in. */
function traceFileFor(point: Point, rep: number, out: string | undefined): TraceFile | undefined {
  if (!point.experiment.trace || out === undefined) return undefined;
  const dir = join(out, "traces");
  mkdirSync(dir, { recursive: true });
  return TraceFile.open(join(dir, `point-${point.index}-rep-${rep}.trace`));
}

/** Runs `point`'s repetition `rep`; with `trace: true` its exits are traced into OUT/traces. */
export async function runOnce(point: Point, rep: number, progress: (p: RunProgress) => void = () => {}, out?: string): Promise<RunRecord> {
  const e = point.experiment;
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const net = new VirtualNetwork();
  const guests: Guest[] = [];
  const results: VmResult[] = [];
  const duration = e.until !== "exit" && "duration" in e.until ? e.until.duration : undefined;
  const marker = e.until !== "exit" && "output" in e.until ? new RegExp(e.until.output, "m") : undefined;
  let timedOut = false;
  const stopAll = () => guests.forEach((g) => g.stop());
  const reporter = setInterval(() => {
    const now = performance.now();
    const exits = guests.reduce((s, g) => s + (g.vm?.pages.reduce((t, p) => t + readStats(p).exits, 0) ?? 0), 0);
    progress({ elapsed: (now - t0) / 1000, limit: duration ?? e.timeout, exits });
  }, PROGRESS_MS);
  const timers = [
    setTimeout(() => {
      timedOut = true;
      stopAll();
    }, e.timeout * 1000),
    ...(duration === undefined ? [] : [setTimeout(stopAll, duration * 1000)]),
  ];
  let failure: string | null = null;
  const trace = traceFileFor(point, rep, out);
  let traced: RunRecord["trace"];
  try {
    bootGuests(e, net, results, guests, trace, (g) => {
      if (marker?.test(g.output)) stopAll();
    });
    net.start();
    failure = (await Promise.all(guests.map((g) => g.ended))).find((x) => x !== null) ?? null;
  } catch (err) {
    failure = (err as Error).message;
  } finally {
    clearInterval(reporter);
    timers.forEach(clearTimeout);
    net.close();
    stopAll();
  }
  if (trace !== undefined) {
    try {
      traced = await trace.close();
    } catch (err) {
      failure ??= `trace: ${(err as Error).message}`;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const busy = performance.eventLoopUtilization(elu0);
  if (timedOut) failure = `timeout after ${e.timeout} s`;
  let metrics: Record<string, number> = {};
  if (failure === null) {
    try {
      metrics = guestMetrics(e, guests.map((g) => g.output));
    } catch (err) {
      failure = (err as Error).message;
    }
  }
  const exits = emptyExits();
  for (const r of results) for (const v of r.reports) for (const s of EXIT_STATS) exits[s.name] += v.stats[s.name];
  const hist = mergeHistograms(results.flatMap((r) => r.reports.map((v) => v.latency?.histogram)));
  const sinks = sinkThroughput(net);
  return {
    point: point.index,
    rep,
    params: point.params,
    config: runConfig(e),
    status: failure === null ? "ok" : "failed",
    ...(failure === null ? {} : { error: failure }),
    seconds,
    throughputMbps: sinks.mbps,
    frames: sinks.frames,
    exits,
    latency: hist === null ? null : percentilesOf(hist),
    histogram: hist === null ? null : encodeHistogram(hist),
    mainBusyPct: busy.utilization * 100,
    mainBusyMs: busy.active,
    coresUsed: (cpu.user + cpu.system) / 1e6 / seconds,
    metrics,
    ...(traced === undefined ? {} : { trace: traced }),
  };
}

/**
 * Boots every VM of the run into `guests` (as each starts, so a VM that fails to
 * build leaves the ones before it there to stop); `results` receives each trap VM's result.
 */
function bootGuests(e: Experiment, net: VirtualNetwork, results: VmResult[], guests: Guest[], trace: TraceFile | undefined, onOutput: (g: Guest) => void): void {
  const trapVms = e.vms.filter((v) => v.virt !== "none");
  const machineMemory = trapVms.reduce((s, v) => {
    const memSize = parseMemSize(v.mem);
    return s + machineMemoryFor({ vcpus: v.vcpus, memSize, shadowPages: defaultShadowPages(memSize) });
  }, 0);
  const hv = trapVms.length > 0 ? new Hypervisor({ machineMemory }) : undefined;
  for (const spec of e.vms) {
    const flags = vmFlags(spec, e);
    const devices = boardDevicesFrom(flags, vmPorts(spec.name, net), vmRemotePorts(spec.name, net));
    const mmu = mmuFrom(flags);
    const memSize = parseMemSize(spec.mem);
    let guest: Guest;
    const write = (b: number) => {
      guest.output += String.fromCharCode(b);
      if (b === 10) onOutput(guest);
    };
    if (spec.virt !== "none") {
      const images = vmImagesFrom(spec.image, flags);
      const vm = hv!.createVm({ name: spec.name, vcpus: spec.vcpus, memSize, images, wait: spec.wait, exitHandler: spec.handler, output: write, mmu, devices, hw: spec.virt === "hw", pin: spec.pin === undefined ? undefined : pinLayout(spec.pin, spec.vcpus) });
      guest = {
        name: spec.name,
        output: "",
        vm,
        stop: () => vm.stop("stopped", 0, "stopped by the experiment"),
        ended: vm.result.then((r) => {
          results.push(r);
          return vmFailure(spec.name, r);
        }),
      };
      trace?.attach(vm);
      hv!.start(vm);
    } else {
      const board = new Board({ harts: spec.vcpus, memSize, clock: "real", output: write, mmu, devices });
      board.boot(bootImagesFrom(spec.image, flags));
      let stop = false;
      guest = {
        name: spec.name,
        output: "",
        stop: () => (stop = true),
        ended: runBoard(board, { interrupted: () => stop }).then((r) =>
          r.outcome === "interrupted" || r.exitCode === 0 ? null : `${spec.name}: exit status ${r.exitCode}`,
        ),
      };
    }
    guests.push(guest);
  }
}

function vmFailure(name: string, r: VmResult): string | null {
  if (r.outcome === "error") return `${name}: ${r.message ?? "error"}`;
  if (r.outcome === "stopped") return null;
  return r.exitCode === 0 ? null : `${name}: exit status ${r.exitCode}`;
}
