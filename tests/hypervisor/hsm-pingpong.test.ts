/*
 * SBI HSM hart_stop / hart_start, 200 rounds (guests/hsm-pingpong):
 * the boot hart starts its partner with a new 64-bit opaque value each
 * round, the partner records a0/a1 and stops itself, and half the rounds
 * start it again at once, retrying while the firmware refuses. Regression
 * for the fuzz's findings (issue 12): under --exit-handler main the code
 * after hart_stop's ecall ran, and a hart read STOPPED before its thread
 * had stopped writing its registers, so a quick hart_start lost a1 or
 * resumed old code. Every exit-handler place and wait policy, and natively
 * behind Debian's OpenSBI to show the guest itself is right.
 */

import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ExitHandlerPlace } from "../../src/hypervisor/vm.ts";
import type { WaitPolicy } from "../../src/hypervisor/wait.ts";
import { readImageFile } from "../../src/machine/image.ts";
import { bootImages } from "../helpers/boot.ts";
import { runVm, sImage } from "../helpers/vm.ts";

const IMAGE = "guests/bin/hsm-pingpong.elf";
const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const PASSED = "hsm-pingpong: 200 rounds, a0 = hartid and a1 = opaque each time, nothing ran after hart_stop";

/** The guest's own lines (OpenSBI's banner dropped, \r\n made \n). */
function guestLines(output: string): string[] {
  return output
    .replace(/\r\n/g, "\n")
    .split("\n")
    .filter((l) => l.startsWith("hsm-pingpong"));
}

describe("SBI HSM stop/start ping-pong under the hypervisor (--bios hv, 2 vCPUs)", () => {
  const configs: [ExitHandlerPlace, WaitPolicy][] = [
    ["main", "spin"],
    ["main", "poll"],
    ["vcpu", "spin"],
    ["vcpu", "poll"],
  ];
  it.each(configs)("--exit-handler %s --wait %s: 200 rounds, a1 = opaque, nothing after hart_stop", async (exitHandler, wait) => {
    // Spinning vCPUs on a loaded two-core machine are slow, not wrong: the VM's own timeout is generous,
    // and the test ends as soon as the guest shuts down.
    const got = await runVm(sImage(IMAGE), { vcpus: 2, exitHandler, wait, timeoutSeconds: 150 });
    expect(got.result.message).toBeUndefined();
    expect(guestLines(got.output)).toEqual(["hsm-pingpong: start", PASSED]);
    expect(got.result.outcome).toBe("shutdown");
    expect(got.result.exitCode).toBe(0);
  }, 180_000);
});

describe.runIf(existsSync(OPENSBI) || process.env.CI === "true")("the same guest natively behind Debian's OpenSBI", () => {
  it("passes with 2 harts (fw_jump: the boot hart may be either)", async () => {
    const got = await bootImages({ firmware: readImageFile(OPENSBI, "bios"), kernel: readImageFile(IMAGE, "kernel") }, { harts: 2, timeoutSeconds: 150 });
    expect(guestLines(got.output)).toEqual(["hsm-pingpong: start", PASSED]);
    expect(got.exitCode).toBe(0);
  }, 180_000);

  it("fails clearly with 1 hart: there is no partner", async () => {
    const got = await bootImages({ firmware: readImageFile(OPENSBI, "bios"), kernel: readImageFile(IMAGE, "kernel") }, { harts: 1, timeoutSeconds: 150 });
    expect(guestLines(got.output)).toEqual(["hsm-pingpong: start", "hsm-pingpong: FAIL round 0: needs two harts (--vcpus 2 / --harts 2) (1)"]);
    expect(got.exitCode).toBe(1);
  }, 180_000);
});
