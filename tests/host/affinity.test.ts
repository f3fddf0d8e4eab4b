/*
 * --pin (src/host/affinity.ts): CPU lists and layouts as a user gives them,
 * and real pinning on this host — the thread that pins, the worker threads
 * it starts (which inherit its one core and take the process's back), and a
 * pinned VM's vCPU thread.
 */

import { readdirSync, readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.ts";
import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import { MainThreadPin, currentThreadId, formatCpuList, lastCpuOf, parseCpuList, pinLayout, pinningUnavailable, threadCpus } from "../../src/host/affinity.ts";
import { sImage, startVm } from "../helpers/vm.ts";
import { until } from "../helpers/until.ts";

describe("CPU lists", () => {
  it("reads Linux's list syntax: single CPUs and ranges, sorted, without repeats", () => {
    expect(parseCpuList("0-2,5", "t")).toEqual([0, 1, 2, 5]);
    expect(parseCpuList("3", "t")).toEqual([3]);
    expect(parseCpuList("4,1-2,2", "t")).toEqual([1, 2, 4]);
    expect(formatCpuList([0, 1, 5])).toBe("0,1,5");
  });

  it.each(["", "a", "1-", "2-1", "1,,2", "-3"])("refuses %j with the list in the message", (text) => {
    expect(() => parseCpuList(text, "--x")).toThrow(ConfigError);
    expect(() => parseCpuList(text, "--x")).toThrow(/--x/);
  });
});

describe("pin layouts", () => {
  it("--pin alone: the main thread on the first core, the vCPUs on the others in turn", () => {
    expect(pinLayout(true, 1, [0, 1])).toEqual({ main: 0, vcpus: [1] });
    expect(pinLayout(true, 3, [0, 1])).toEqual({ main: 0, vcpus: [1, 1, 1] });
    expect(pinLayout(true, 3, [2, 4, 6])).toEqual({ main: 2, vcpus: [4, 6, 4] });
  });

  it("--pin LIST: the main thread's core, then each vCPU's", () => {
    expect(pinLayout("1,0,0", 2, [0, 1])).toEqual({ main: 1, vcpus: [0, 0] });
  });

  it.each([
    [true, 1, [0], /two cores/],
    ["0", 1, [0, 1], /expected 2 CPUs/],
    ["0,1,1", 1, [0, 1], /expected 2 CPUs/],
    ["0,7", 1, [0, 1], /CPU 7 is not one this process may use/],
    ["0,x", 1, [0, 1], /expected CPU numbers/],
  ] as const)("refuses --pin %j for %i vCPU(s) on CPUs %j", (spec, vcpus, allowed, why) => {
    expect(() => pinLayout(spec, vcpus, allowed)).toThrow(ConfigError);
    expect(() => pinLayout(spec, vcpus, allowed)).toThrow(why);
  });

  it("a VM refuses a layout that does not give every vCPU a core", () => {
    const hv = new Hypervisor({ machineMemory: 80 * 2 ** 20 });
    expect(() => startVm(hv, sImage("guests/bin/hello.elf"), { vcpus: 2, pin: { main: 0, vcpus: [1] } })).toThrow(/--pin gives 1 vCPU core\(s\) for 2 vCPU\(s\)/);
  });
});

const unavailable = pinningUnavailable();

/** The cores each thread of this process may run on, by thread id. */
function threadsCpus(): Map<number, string> {
  const out = new Map<number, string>();
  for (const tid of readdirSync("/proc/self/task")) {
    const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/self/task/${tid}/status`, "utf8"));
    if (m !== null) out.set(Number(tid), m[1]);
  }
  return out;
}

describe.skipIf(unavailable !== undefined)(`pinning on this host${unavailable === undefined ? "" : ` (skipped: ${unavailable})`}`, () => {
  it("pins the calling thread, lets a worker it starts take the process's cores back, and restores its own", async () => {
    const before = threadCpus();
    const pin = new MainThreadPin();
    pin.acquire(before[0]);
    try {
      expect(threadCpus()).toEqual([before[0]]);
      // A second VM may share the main thread's core, not move it.
      pin.acquire(before[0]);
      expect(() => pin.acquire(before[1])).toThrow(/pinned to CPU/);
      pin.release();
      expect(threadCpus()).toEqual([before[0]]);
      const worker = new Worker(new URL("../helpers/ts-worker.js", import.meta.url), { workerData: { entry: new URL("../helpers/cpus-worker.ts", import.meta.url).href } });
      const seen = await new Promise<{ inherited: number[]; after: number[] }>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      await worker.terminate();
      expect(seen.inherited).toEqual([before[0]]);
      expect(seen.after).toEqual(before);
    } finally {
      pin.release();
    }
    expect(threadCpus()).toEqual(before);
  });

  it("lays out a second pinned VM while the first holds the main thread's core: both run, then the core is given back", async () => {
    const before = threadCpus();
    const hv = new Hypervisor({ machineMemory: 160 * 2 ** 20 });
    const image = { ...sImage("guests/bin/exitbench.elf"), append: "iters=1/200" };
    const first = startVm(hv, image, { pin: pinLayout(true, 1), wait: "poll" });
    expect(threadCpus()).toEqual([before[0]]);
    const second = startVm(hv, image, { pin: pinLayout(true, 1), wait: "poll" });
    await Promise.all([first.vm.result, second.vm.result]);
    expect(first.output()).toContain("exitbench: done");
    expect(second.output()).toContain("exitbench: done");
    expect(threadCpus()).toEqual(before);
  });

  it("reads the core a thread last ran on: the one it is pinned to", () => {
    const before = threadCpus();
    const pin = new MainThreadPin();
    pin.acquire(before[1]);
    try {
      expect(lastCpuOf(currentThreadId())).toBe(before[1]);
    } finally {
      pin.release();
    }
  });

  it.each([
    ["apart", false],
    ["on one core", true],
  ] as const)("host_cpu_shared counts the looks that found the vCPU and the main thread on one core: pinned %s", async (_, together) => {
    const cpus = threadCpus();
    const layout = { main: cpus[0], vcpus: [together ? cpus[0] : cpus[1]] };
    const hv = new Hypervisor({ machineMemory: 80 * 2 ** 20 });
    const started = startVm(hv, { ...sImage("guests/bin/exitbench.elf"), append: "iters=1/200" }, { pin: layout, wait: "poll" });
    const result = await started.vm.result;
    expect(started.output()).toContain("exitbench: done");
    const stats = result.reports[0]!.stats;
    expect(stats.host_cpu_samples).toBeGreaterThan(0);
    expect(stats.host_cpu_shared).toBe(together ? stats.host_cpu_samples : 0);
  });

  it("a pinned VM's vCPU thread runs on its core and the main thread on its own, until the VM ends", async () => {
    const before = threadCpus();
    const layout = pinLayout(true, 1, before);
    const hv = new Hypervisor({ machineMemory: 80 * 2 ** 20 });
    const started = startVm(hv, { ...sImage("guests/bin/exitbench.elf"), append: "iters=1/50" }, { pin: layout, wait: "poll" });
    await until("exitbench's first figures", () => started.output().includes("exitbench: "));
    await started.vm.pause();
    try {
      expect(threadCpus()).toEqual([layout.main]);
      const pinnedToVcpuCore = [...threadsCpus().values()].filter((list) => list === String(layout.vcpus[0]));
      expect(pinnedToVcpuCore.length).toBeGreaterThanOrEqual(1);
    } finally {
      await started.vm.resume();
    }
    const result = await started.vm.result;
    expect(result.outcome).not.toBe("error");
    expect(started.output()).toContain("exitbench: done");
    expect(threadCpus()).toEqual(before);
  });
});
