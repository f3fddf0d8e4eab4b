/*
 * `--trace FILE`: the main thread drains every traced vCPU's rings
 * (buffers.ts) every DRAIN_MS, without stopping the vCPUs, and writes the
 * records as a msgpackr stream (its record extension: each message's shape
 * is sent once). The messages, in order of writing:
 *
 *   { type: "popek-trace", version, stats, where, record }
 *        stats: counter names (a record's reason and effect bits index them);
 *        where: names of the where field; record: the record layout (bytes, fields with kind and offset)
 *   { type: "vm", vm, name, vcpus, exitHandler, wait, mmu, startMs }
 *   { type: "exits", vm, vcpu, records }
 *        records: the bytes of a batch of records as the ring held them (record.ts, little-endian),
 *        one message per ring per drain: a memcpy, where a message per exit would cost microseconds each
 *   { type: "dropped", vm, vcpu, ring, total }       a ring's drop count grew (ring: "vcpu" or "main")
 *   { type: "vm-end", vm, vcpus: [{ vcpu, exits, recorded, dropped }] }
 *
 * Exit records are in ring order, not time order across rings: the reader
 * (read.ts) sorts them by t. `exits` in vm-end is the VM's own counter, so a
 * reader can check that every counted exit was recorded or dropped.
 */

import { createWriteStream, openSync } from "node:fs";
import { PackrStream } from "msgpackr";
import { ConfigError } from "../errors.ts";
import { EXIT_STATS, STAT } from "../hypervisor/stats.ts";
import type { Vm } from "../hypervisor/vm.ts";
import { checkRingRecords, createVcpuTraceBuffer, DEFAULT_RING_RECORDS, RING_MAIN, RING_VCPU, ringsOf } from "./buffers.ts";
import { MainTracer } from "./main-tracer.ts";
import { RecordBatch, recordLayout, WHERE_NAMES, WHERE_VCPU_AFTER_MAIN } from "./record.ts";
import type { TraceRing } from "./ring.ts";
import { clockOffsetMs } from "./vcpu-tracer.ts";

export const TRACE_FORMAT = "popek-trace";
export const TRACE_VERSION = 1;
/** How often the rings are drained, in ms: a ring of DEFAULT_RING_RECORDS holds ~3 M exits/s at this pace. */
const DRAIN_MS = 20;
const RING_NAMES = ["vcpu", "main"] as const;

export interface TraceOptions {
  /** Records per ring (a power of two); DEFAULT_RING_RECORDS by default. */
  readonly ringRecords?: number;
}

/** What a finished trace holds, per VM and vCPU. */
export interface TraceTotals {
  readonly file: string;
  /** Exit records written (vCPU and main thread, interrupts and after-main records included). */
  readonly records: number;
  /** Records dropped because a ring was full. */
  readonly dropped: number;
}

interface Attached {
  readonly id: number;
  readonly vm: Vm;
  readonly rings: (readonly [TraceRing, TraceRing])[];
  readonly main: MainTracer;
  /** Per vCPU: trap exits recorded (vCPU or main thread), and each ring's drop count as last reported. */
  readonly recorded: number[];
  readonly droppedSeen: [number, number][];
  /** Resolves once the VM has stopped and its rings are drained for the last time. */
  readonly finished: Promise<void>;
}

export class TraceFile {
  private readonly stream = new PackrStream();
  private readonly done: Promise<void>;
  private readonly attached: Attached[] = [];
  private readonly timer: NodeJS.Timeout;
  private nextVm = 0;
  private records = 0;
  private dropped = 0;
  private closed = false;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly ringRecords: number,
  ) {
    const file = createWriteStream("", { fd });
    this.stream.pipe(file);
    this.done = new Promise((resolve, reject) => {
      file.on("finish", resolve);
      file.on("error", reject);
    });
    // A write error (a full disk) surfaces from close(), not as an unhandled rejection in between.
    this.done.catch(() => {});
    this.stream.write({ type: TRACE_FORMAT, version: TRACE_VERSION, stats: EXIT_STATS.map((s) => s.name), where: [...WHERE_NAMES], record: recordLayout() });
    this.timer = setInterval(() => this.drainAll(), DRAIN_MS);
    this.timer.unref();
  }

  /** Creates (or truncates) FILE for a trace; a path that cannot be written is the user's error. */
  static open(path: string, options: TraceOptions = {}): TraceFile {
    const ringRecords = options.ringRecords ?? DEFAULT_RING_RECORDS;
    try {
      checkRingRecords(ringRecords);
    } catch (e) {
      throw new ConfigError(`--trace-ring: ${(e as Error).message}`);
    }
    let fd: number;
    try {
      fd = openSync(path, "w");
    } catch (e) {
      throw new ConfigError(`--trace: cannot write ${path}: ${(e as Error).message}`);
    }
    return new TraceFile(path, fd, ringRecords);
  }

  /**
   * Traces a VM: gives each vCPU its rings and watches the main thread's
   * exits. Call it after creating the VM and before starting it
   * (Hypervisor.start): the vCPU threads take their rings when they start.
   * It takes the VM's exit observer (the lockstep check uses the same slot).
   */
  attach(vm: Vm): void {
    if (this.closed) throw new Error("trace: attach after close");
    const buffers = vm.pages.map(() => createVcpuTraceBuffer(this.ringRecords));
    vm.traceBuffers = buffers;
    const main = new MainTracer(buffers, vm.pages, clockOffsetMs(vm.clock.startMs));
    vm.observer = main;
    const id = this.nextVm++;
    const c = vm.config;
    this.stream.write({ type: "vm", vm: id, name: c.name, vcpus: c.vcpus, exitHandler: c.exitHandler, wait: c.wait, mmu: c.mmu ?? "sv39", startMs: vm.clock.startMs });
    const entry: Attached = {
      id,
      vm,
      rings: buffers.map(ringsOf),
      main,
      recorded: buffers.map(() => 0),
      droppedSeen: buffers.map(() => [0, 0] as [number, number]),
      finished: vm.result.then(() => this.finishVm(entry)),
    };
    this.attached.push(entry);
  }

  /** Drains everything, writes the end of each VM still attached, and closes the file. */
  async close(): Promise<TraceTotals> {
    if (!this.closed) {
      this.closed = true;
      clearInterval(this.timer);
      // A VM that has stopped finishes on its own; one still running is drained as it is now.
      for (const a of [...this.attached]) if (a.vm.running) this.finishVm(a);
      await Promise.all(this.attached.map((a) => a.finished));
      this.stream.end();
    }
    try {
      await this.done;
    } catch (e) {
      throw new ConfigError(`--trace: writing ${this.path} failed: ${(e as Error).message}`);
    }
    return { file: this.path, records: this.records, dropped: this.dropped };
  }

  private drainAll(): void {
    for (const a of this.attached) this.drain(a);
  }

  private drain(a: Attached): void {
    for (let h = 0; h < a.rings.length; h++) {
      for (const which of [RING_VCPU, RING_MAIN]) {
        const ring = a.rings[h][which];
        const bytes = ring.take();
        if (bytes.length > 0) {
          this.count(a, h, new RecordBatch(bytes));
          this.stream.write({ type: "exits", vm: a.id, vcpu: h, records: bytes });
        }
        const dropped = ring.dropped();
        if (dropped !== a.droppedSeen[h][which]) {
          this.dropped += dropped - a.droppedSeen[h][which];
          a.droppedSeen[h][which] = dropped;
          this.stream.write({ type: "dropped", vm: a.id, vcpu: h, ring: RING_NAMES[which], total: dropped });
        }
      }
    }
  }

  /** Counts a batch's records: all of them, and the trap exits among them (what the VM's `exits` counter counts). */
  private count(a: Attached, vcpu: number, batch: RecordBatch): void {
    this.records += batch.count;
    for (let i = 0; i < batch.count; i++) {
      if (batch.w(i, "where") !== WHERE_VCPU_AFTER_MAIN && batch.w(i, "cause") >= 0) a.recorded[vcpu]++;
    }
  }

  /** The VM has stopped (or the trace closes): last drain, and its totals. */
  private finishVm(a: Attached): void {
    const i = this.attached.indexOf(a);
    if (i < 0) return;
    a.main.flushUnserved();
    this.drain(a);
    this.attached.splice(i, 1);
    const vcpus = a.vm.pages.map((page, h) => ({
      vcpu: h,
      exits: page.stats[STAT.exits] + page.mainStats[STAT.exits],
      recorded: a.recorded[h],
      dropped: a.droppedSeen[h][0] + a.droppedSeen[h][1],
    }));
    this.stream.write({ type: "vm-end", vm: a.id, vcpus });
  }
}
