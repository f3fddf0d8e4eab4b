/*
 * Differential: each committed guest prints the same console output and
 * exits with the same status natively (--virt none) and deprivileged under
 * the hypervisor (--virt trap), for one and several vCPUs, wherever exits
 * are handled. Guest paging runs under shadow page tables, so selftest's
 * sv39 group must print the same "sv39 ok" in both worlds: no difference is
 * tolerated.
 */

import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readImageFile } from "../../src/machine/image.ts";
import { bootFile, bootImages } from "../helpers/boot.ts";
import { mImage, runVm, sImage } from "../helpers/vm.ts";


/** Native output, once per (image, harts). */
const native = new Map<string, Promise<{ output: string; exitCode: number }>>();
function nativeRun(path: string, harts: number): Promise<{ output: string; exitCode: number }> {
  const key = `${path}/${harts}`;
  let run = native.get(key);
  if (run === undefined) {
    run = bootFile(path, { harts, timeoutSeconds: 60 }).then((r) => ({ output: r.output, exitCode: r.exitCode }));
    native.set(key, run);
  }
  return run;
}

const CASES: { image: string; vcpus: number[] }[] = [
  { image: "guests/bin/hello.elf", vcpus: [1, 2] },
  { image: "guests/bin/selftest.elf", vcpus: [1, 2, 4] },
];

describe("--virt trap matches --virt none (M-mode guests, --bios none)", () => {
  for (const { image, vcpus } of CASES) {
    for (const n of vcpus) {
      for (const exitHandler of ["main", "vcpu"] as const) {
        it(`${image} with ${n} vCPU(s), exits handled on ${exitHandler}`, async () => {
          const expected = await nativeRun(image, n);
          const got = await runVm(mImage(image), { vcpus: n, exitHandler, wait: "poll" });
          expect(got.result.message).toBeUndefined();
          expect(got.output).toBe(expected.output);
          if (image.includes("selftest")) expect(got.output).toContain("selftest: sv39 ok");
          expect(got.result.exitCode).toBe(expected.exitCode);
        }, 90_000);
      }
    }
  }

  it("cpubench computes the same checksum under the hypervisor", async () => {
    const got = await runVm(mImage("guests/bin/cpubench.elf"), { exitHandler: "vcpu", wait: "poll" });
    expect(got.output).toContain("cpubench: checksum 0xb077efac61603df9");
    expect(got.result.exitCode).toBe(0);
  }, 90_000);
});

describe("--virt trap --bios hv matches Debian's OpenSBI natively (S-mode kernels)", () => {
  const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
  /** The kernel's own lines: OpenSBI's banner dropped, its \r\n made \n. */
  const kernelLines = (output: string, prefix: string): string =>
    output
      .replace(/\r\n/g, "\n")
      .split("\n")
      .filter((l) => l.startsWith(prefix))
      .join("\n");
  const S_CASES = [
    { image: "guests/bin/sbi-hello.elf", prefix: "hello from", vcpus: [1] },
    { image: "guests/bin/kernel-mini.elf", prefix: "kernel-mini", vcpus: [1, 2] },
  ].filter((c) => existsSync(c.image));
  for (const { image, prefix, vcpus } of S_CASES) {
    for (const n of vcpus) {
      it.runIf(existsSync(OPENSBI) || process.env.CI === "true")(`${image} with ${n} vCPU(s)`, async () => {
        const native = await bootImages(
          { firmware: readImageFile(OPENSBI, "bios"), kernel: readImageFile(image, "kernel") },
          { harts: n, timeoutSeconds: 60 },
        );
        for (const exitHandler of ["main", "vcpu"] as const) {
          const got = await runVm(sImage(image), { vcpus: n, exitHandler });
          expect(got.result.message).toBeUndefined();
          expect(kernelLines(got.output, prefix)).toBe(kernelLines(native.output, prefix));
          expect(kernelLines(got.output, prefix)).not.toBe("");
          expect(got.result.exitCode).toBe(native.exitCode);
        }
      }, 90_000);
    }
  }
});

describe("firmware virtualized: Debian's OpenSBI in virtual M-mode under --virt trap", () => {
  const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
  it.runIf(existsSync(OPENSBI) || process.env.CI === "true")("boots and hands over to kernel-mini on 2 vCPUs, which passes", async () => {
    const got = await runVm(
      { bios: { kind: "firmware", bytes: readImageFile(OPENSBI, "bios") }, kernel: readImageFile("guests/bin/kernel-mini.elf", "kernel") },
      { vcpus: 2, exitHandler: "vcpu" },
    );
    expect(got.result.message).toBeUndefined();
    expect(got.output).toContain("Platform HART Count       : 2");
    expect(got.output).toContain("kernel-mini: smp 2 harts started");
    expect(got.output).toContain("kernel-mini: 3 processes in separate address spaces, fork copied their pages");
    expect(got.output).toContain("kernel-mini: PASS");
    expect(got.result.exitCode).toBe(0);
  }, 90_000);
});
