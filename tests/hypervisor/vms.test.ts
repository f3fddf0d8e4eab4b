/*
 * Several VMs on one hypervisor share machine memory and the main thread,
 * and nothing else: both finish correctly side by side, and a VM whose vCPU
 * thread dies stops with a clear error while the other runs on.
 */

import { describe, expect, it } from "vitest";
import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import { STAT } from "../../src/hypervisor/stats.ts";
import { until } from "../helpers/until.ts";
import { mImage, startVm, type StartedVm } from "../helpers/vm.ts";

const MB = 2 ** 20;

describe("two VMs at once", () => {
  it("each with two vCPUs, both finish with the right output", async () => {
    const hv = new Hypervisor({ machineMemory: 160 * MB });
    const a = startVm(hv, mImage("guests/bin/selftest.elf"), { vcpus: 2, memSize: 64 * MB });
    const b = startVm(hv, mImage("guests/bin/selftest.elf"), { vcpus: 2, memSize: 64 * MB, exitHandler: "vcpu" });
    const [ra, rb] = await Promise.all([a.vm.result, b.vm.result]);
    for (const [r, out] of [
      [ra, a.output()],
      [rb, b.output()],
    ] as const) {
      expect(r.message).toBeUndefined();
      expect(out).toContain("selftest: smp 2 harts ok");
      expect(out).toContain("selftest: PASS");
      expect(r.exitCode).toBe(0);
    }
    // Their frames went back to the allocator.
    expect(hv.frames.allocated).toBe(0);
  }, 60_000);

  it("killing one VM's vCPU thread stops that VM with an error and leaves the other running", async () => {
    const hv = new Hypervisor({ machineMemory: 160 * MB });
    const victim = startVm(hv, mImage("guests/bin/cpubench.elf"), { vcpus: 2, memSize: 64 * MB });
    const survivor = startVm(hv, mImage("guests/bin/cpubench.elf"), { vcpus: 2, memSize: 64 * MB });
    // Both guests must be running when the victim's thread dies: each has retired a slice.
    const retired = (g: StartedVm): number => g.vm.pages[0].stats[STAT.instructions];
    await until("both VMs to run guest code", () => retired(victim) > 0 && retired(survivor) > 0);
    await victim.vm.killVcpu(0);
    const rv = await victim.vm.result;
    expect(rv.outcome).toBe("error");
    expect(rv.message).toMatch(/vcpu 0/);
    // The survivor runs on to its own end: still running now, or (cpubench is short, and the victim's
    // teardown waits for its threads) already ended by its own finisher, never by the victim's error.
    const rs = await survivor.vm.result;
    expect(rs.outcome).toBe("finisher");
    expect(rs.message).toBeUndefined();
    expect(survivor.output()).toContain("cpubench: checksum 0xb077efac61603df9");
    expect(rs.exitCode).toBe(0);
  }, 60_000);
});
