/*
 * A traced run, end to end: VMs run with a TraceFile attached, the file is
 * read back, exported for Perfetto and summarized. Every exit the VM
 * counted is in the trace, once; the Perfetto JSON has a track per vCPU
 * whose slices are those exits; the swtlb lesson's flow (issue 13) reads
 * in order: miss reflected, TLB write with its install, sret.
 */

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import type { VmImages } from "../../src/hypervisor/vm-boot.ts";
import type { ExitHandlerPlace, VmResult } from "../../src/hypervisor/vm.ts";
import type { MmuMode } from "../../src/machine/swtlb.ts";
import { toPerfetto } from "../../src/trace/perfetto.ts";
import { readTrace, type Trace } from "../../src/trace/read.ts";
import { formatSummary } from "../../src/trace/summary.ts";
import { TraceFile } from "../../src/trace/trace-file.ts";
import { mImage, sImage } from "../helpers/vm.ts";

const dir = mkdtempSync(join(tmpdir(), "popek-trace-"));
const MB = 2 ** 20;

interface TracedRun {
  readonly output: string;
  readonly result: VmResult;
  readonly trace: Trace;
}

async function tracedRun(name: string, images: VmImages, opts: { vcpus: number; exitHandler: ExitHandlerPlace; mmu?: MmuMode; ringRecords?: number }): Promise<TracedRun> {
  const path = join(dir, `${name}.trace`);
  const file = TraceFile.open(path, { ringRecords: opts.ringRecords });
  const hv = new Hypervisor({ machineMemory: 64 * MB + 16 * MB });
  let output = "";
  const vm = hv.createVm({ name, vcpus: opts.vcpus, memSize: 64 * MB, images, wait: "poll", exitHandler: opts.exitHandler, mmu: opts.mmu, output: (b) => (output += String.fromCharCode(b)) });
  file.attach(vm);
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), 120_000);
  const result = await vm.result;
  clearTimeout(timer);
  await file.close();
  return { output, result, trace: readTrace(path) };
}

describe("a trace round trip", () => {
  for (const exitHandler of ["main", "vcpu"] as const) {
    it(`records every counted exit once, and exports one Perfetto track per vCPU (kernel-mini, 2 vCPUs, --exit-handler ${exitHandler})`, async () => {
      const run = await tracedRun(`km-${exitHandler}`, sImage("guests/bin/kernel-mini.elf"), { vcpus: 2, exitHandler });
      expect(run.output).toMatch(/kernel-mini: PASS/);
      const { trace } = run;
      expect(trace.vms).toEqual([expect.objectContaining({ vm: 0, vcpus: 2, exitHandler })]);
      expect(trace.dropped).toEqual([]);
      // The VM's totals, written when it stopped, agree with its counters and with the records.
      const end = trace.ends[0];
      const exitRecords = (v: number): number => trace.records.filter((r) => r.vcpu === v && r.where !== "vcpu-after-main" && r.cause >= 0).length;
      for (const v of [0, 1]) {
        expect(end.vcpus[v].exits).toBeGreaterThanOrEqual(run.result.reports[v].stats.exits);
        expect(end.vcpus[v].recorded).toBe(exitRecords(v));
        // Every exit the vCPU counted is recorded, but for at most one: a vCPU handles one exit at a
        // time, and the VM's stop can cut the other vCPU's current one short (counted, not finished).
        expect(end.vcpus[v].exits - exitRecords(v)).toBeGreaterThanOrEqual(0);
        expect(end.vcpus[v].exits - exitRecords(v)).toBeLessThanOrEqual(1);
      }
      if (exitHandler === "vcpu") expect(trace.records.some((r) => r.where === "vcpu")).toBe(true);
      expect(trace.records.some((r) => r.where === "main")).toBe(true);
      for (let i = 1; i < trace.records.length; i++) expect(trace.records[i].t).toBeGreaterThanOrEqual(trace.records[i - 1].t);

      const json = JSON.parse(JSON.stringify(toPerfetto(trace))) as { traceEvents: { ph: string; name: string; tid?: number; dur?: number; args: Record<string, unknown> }[] };
      const tracks = json.traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => e.args.name);
      expect(tracks).toEqual(["vcpu0", "vcpu1"]);
      const slices = json.traceEvents.filter((e) => e.ph === "X");
      for (const v of [0, 1]) {
        const mine = slices.filter((e) => e.tid === v + 1 && (e.args.cause as number) >= 0);
        expect(mine.length).toBe(exitRecords(v));
      }
      // The vCPU that stopped the VM (its shutdown call) has every exit it counted in the trace.
      expect(exitRecords(0)).toBe(end.vcpus[0].exits);
      expect(slices.every((e) => (e.dur ?? -1) >= 0)).toBe(true);
      expect(json.traceEvents.some((e) => e.ph === "C" && e.name === "exits/s")).toBe(true);

      const summary = formatSummary(trace);
      expect(summary).toMatch(/csr_exit\s+illegal instruction/);
      expect(summary).toMatch(/^vcpu1\s+\d+/m);
    }, 180_000);
  }

  it("shows the swtlb flow in order: miss reflected, TLB write and install, sret", async () => {
    const run = await tracedRun("swtlb", mImage("guests/bin/swtlb.elf"), { vcpus: 1, exitHandler: "vcpu", mmu: "swtlb" });
    expect(run.output).toMatch(/swtlb: PASS/);
    const reasons = run.trace.records.map((r) => r.reason);
    const miss = reasons.indexOf("swtlb_miss_exit");
    expect(miss).toBeGreaterThanOrEqual(0);
    const missRecord = run.trace.records[miss];
    expect(missRecord.cause).toBeGreaterThanOrEqual(24); // a TLB refill cause, 24..26
    expect(missRecord.effects).toContain("reflected_exceptions");
    const write = reasons.indexOf("swtlb_write_exit", miss);
    expect(write).toBeGreaterThan(miss);
    expect(run.trace.records[write].cause).toBe(2);
    expect(run.trace.records[write].effects).toContain("swtlb_install");
    const sret = reasons.indexOf("xret_exit", write);
    expect(sret).toBeGreaterThan(write);
    const summary = formatSummary(run.trace);
    for (const r of ["swtlb_miss_exit", "swtlb_write_exit", "xret_exit", "swtlb_install"]) expect(summary).toContain(r);
  }, 180_000);

  it("counts what overflows a small ring, and says so in the file and the summary", async () => {
    const run = await tracedRun("small", mImage("guests/bin/swtlb.elf"), { vcpus: 1, exitHandler: "vcpu", mmu: "swtlb", ringRecords: 16 });
    const dropped = run.trace.dropped.reduce((a, d) => a + d.total, 0);
    expect(dropped).toBeGreaterThan(0);
    const end = run.trace.ends[0].vcpus[0];
    expect(end.dropped).toBe(dropped);
    // Nothing vanishes: every counted exit is recorded or counted as dropped.
    expect(end.recorded + end.dropped).toBeGreaterThanOrEqual(end.exits);
    expect(formatSummary(run.trace)).toMatch(/dropped: \d+ records/);
  }, 180_000);
});
