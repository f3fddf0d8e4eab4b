/*
 * The control plane (comlink to each vCPU thread): pause, read and write
 * registers, resume — while the exit path stays on the run page.
 */

import { describe, expect, it } from "vitest";
import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import { enc } from "../../src/isa/encode.ts";
import { STAT } from "../../src/hypervisor/stats.ts";
import { until } from "../helpers/until.ts";
import { mImage, startVm } from "../helpers/vm.ts";

const MB = 2 ** 20;

describe("control plane", () => {
  it("pauses a running VM, reads its registers, resumes it, and it still computes the right answer", async () => {
    const hv = new Hypervisor({ machineMemory: 80 * MB });
    const g = startVm(hv, mImage("guests/bin/cpubench.elf"), { memSize: 64 * MB });
    await until("cpubench to retire instructions", () => g.vm.pages[0].stats[STAT.instructions] > 0);
    await g.vm.pause();
    const before = g.vm.pages[0].stats[STAT.instructions];
    // Proving that nothing happens needs a window of time; a loaded host only makes it less
    // likely to catch a vCPU that keeps running, never makes a correct one fail.
    await new Promise((r) => setTimeout(r, 100));
    expect(g.vm.pages[0].stats[STAT.instructions]).toBe(before); // no instructions while paused
    const regs = await g.vm.registers(0);
    expect(regs.pc).toBeGreaterThanOrEqual(0x8000_0000);
    expect(regs.x).toHaveLength(32);
    expect(regs.x[0]).toBe("0x0");
    await g.vm.resume();
    const r = await g.vm.result;
    expect(g.output()).toContain("cpubench: checksum 0xb077efac61603df9");
    expect(r.exitCode).toBe(0);
  }, 60_000);

  it("writes registers of a paused vCPU: a guest spinning on a0 == 0 exits with the code put in a1", async () => {
    // lui t4, 0x100 (the finisher); loop: beq a0, zero, loop; sw a1, 0(t4); j .
    const words = [enc.lui(29, 0x100), enc.beq(10, 0, 0), enc.sw(11, 29, 0), enc.jal(0, 0)];
    const hv = new Hypervisor({ machineMemory: 80 * MB });
    const g = startVm(hv, { bios: { kind: "none" }, kernel: new Uint8Array(new Uint32Array(words).buffer) }, { memSize: 16 * MB });
    // Wait until the vCPU spins in the loop (its pc, published after every slice), so it is running.
    await until("the guest to reach its loop", () => g.vm.pages[0].pc[0] === 0x8000_0004);
    await expect(g.vm.setRegister(0, 10, 1n)).rejects.toThrow(/pause it/);
    await g.vm.pause();
    await g.vm.setRegister(0, 11, (5n << 16n) | 0x3333n);
    await g.vm.setRegister(0, 10, 1n);
    await g.vm.resume();
    const r = await g.vm.result;
    expect(r.outcome).toBe("finisher");
    expect(r.exitCode).toBe(5);
  }, 90_000);
});
