/*
 * --virt hw: the guest's S and U run in the hart's VS and VU modes over the
 * VM's guest-physical table as the G-stage; virtual M stays
 * trap-and-emulate. Every guest prints what it prints under --virt trap,
 * and a guest kernel exits far less often: its CSR accesses, sret,
 * sfence.vma and its own page faults stay on the hart.
 */

import { describe, expect, it } from "vitest";
import { mImage, runVm, sImage, type VmOutcome } from "../helpers/vm.ts";
import type { VmImages } from "../../src/hypervisor/vm-boot.ts";

const GUESTS: readonly (readonly [string, () => VmImages])[] = [
  ["hello (virtual M only)", () => mImage("guests/bin/hello.elf")],
  ["sbi-hello (S on the hypervisor's SBI)", () => sImage("guests/bin/sbi-hello.elf")],
  ["selftest (M dropping to S and U, Sv39, MPRV)", () => mImage("guests/bin/selftest.elf")],
  ["kernel-mini (an S kernel with paging and user processes)", () => sImage("guests/bin/kernel-mini.elf")],
];

function exits(r: VmOutcome): number {
  return r.result.reports.reduce((n, rep) => n + rep.stats.exits, 0);
}

describe("--virt hw runs what --virt trap runs, with the same output", () => {
  for (const [name, images] of GUESTS) {
    it(name, async () => {
      const [trap, hw] = await Promise.all([runVm(images(), { timeoutSeconds: 90 }), runVm(images(), { hw: true, timeoutSeconds: 90 })]);
      expect(hw.result.message).toBeUndefined();
      expect(trap.result.exitCode).toBe(0);
      const want = trap.output.split("\n");
      const got = hw.output.split("\n");
      const first = want.findIndex((l, i) => l !== got[i]);
      expect(first === -1 ? "" : `line ${first}: hw "${got[first]}"`, `trap: "${want[first]}"`).toBe("");
      expect(got.length).toBe(want.length);
      expect(hw.result.exitCode).toBe(trap.result.exitCode);
    }, 120_000);
  }

  it("a guest kernel exits far less: kernel-mini's CSR, sret and sfence traffic stays on the hart", async () => {
    const [trap, hw] = await Promise.all([runVm(sImage("guests/bin/kernel-mini.elf"), { timeoutSeconds: 90 }), runVm(sImage("guests/bin/kernel-mini.elf"), { hw: true, timeoutSeconds: 90 })]);
    expect(hw.output).toBe(trap.output);
    const statsOf = (r: VmOutcome, name: "csr_exit" | "xret_exit" | "sfence_exit"): number => r.result.reports.reduce((n, rep) => n + rep.stats[name], 0);
    expect(statsOf(trap, "csr_exit")).toBeGreaterThan(0);
    expect(statsOf(hw, "xret_exit")).toBe(0);
    expect(statsOf(hw, "sfence_exit")).toBe(0);
    expect(exits(hw) * 4).toBeLessThan(exits(trap));
  }, 120_000);

  it("with exits handled on the vCPU thread and two vCPUs", async () => {
    const images = sImage("guests/bin/kernel-mini.elf");
    const [trap, hw] = await Promise.all([
      runVm(images, { vcpus: 2, exitHandler: "vcpu", timeoutSeconds: 90 }),
      runVm(sImage("guests/bin/kernel-mini.elf"), { vcpus: 2, exitHandler: "vcpu", hw: true, timeoutSeconds: 90 }),
    ]);
    expect(hw.result.message).toBeUndefined();
    expect(hw.result.exitCode).toBe(trap.result.exitCode);
    expect(hw.output).toBe(trap.output);
  }, 120_000);
});
