/*
 * End to end: every committed guest boots on the native board and prints what
 * it prints on QEMU's virt board (-bios none), with the same exit status.
 */

import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bootFile, bootImages } from "../helpers/boot.ts";
import { readImageFile } from "../../src/machine/image.ts";

const BIN = "guests/bin";
const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";

describe("hello", () => {
  it("prints the greeting and exits 0 through the finisher", async () => {
    const r = await bootFile(`${BIN}/hello.elf`);
    expect(r.output).toBe("hello from popek\n");
    expect(r.outcome).toBe("finisher");
    expect(r.exitCode).toBe(0);
  });

  it("parks secondary harts and still exits 0 with 4 harts", async () => {
    const r = await bootFile(`${BIN}/hello.elf`, { harts: 4 });
    expect(r.output).toBe("hello from popek\n");
    expect(r.exitCode).toBe(0);
  });

  it("runs identically on the deterministic clock", async () => {
    const a = await bootFile(`${BIN}/hello.elf`, { clock: "icount" });
    const b = await bootFile(`${BIN}/hello.elf`, { clock: "icount" });
    expect(a.instructions).toBe(b.instructions);
    expect(a.output).toBe(b.output);
  });
});

describe.runIf(existsSync(`${BIN}/selftest.elf`))("selftest", () => {
  for (const harts of [1, 2, 4]) {
    it(`passes every group with ${harts} hart(s)`, async () => {
      const r = await bootFile(`${BIN}/selftest.elf`, { harts, timeoutSeconds: 60 });
      expect(r.output).not.toMatch(/FAIL/);
      expect(r.output).toMatch(/selftest: PASS/);
      expect(r.output).toMatch(new RegExp(`selftest: smp ${harts} harts ok`));
      expect(r.exitCode).toBe(0);
    }, 90_000);
  }
});

describe("cpubench", () => {
  it("computes QEMU's checksum and reports instructions retired", async () => {
    const r = await bootFile(`${BIN}/cpubench.elf`, { timeoutSeconds: 60 });
    // The checksum QEMU 7.2 prints for the same image.
    expect(r.output).toContain("cpubench: checksum 0xb077efac61603df9");
    const instret = Number(/instret (\d+)/.exec(r.output)?.[1]);
    expect(instret).toBeGreaterThan(290_000_000);
    expect(r.exitCode).toBe(0);
  }, 90_000);
});

describe("HTIF test programs (tohost)", () => {
  it("a write of 1 to tohost passes", async () => {
    const r = await bootFile(`${BIN}/htif-pass.elf`);
    expect(r.outcome).toBe("htif");
    expect(r.exitCode).toBe(0);
  });
  it("a write of (3 << 1) | 1 fails with exit code 3", async () => {
    const r = await bootFile(`${BIN}/htif-fail.elf`);
    expect(r.outcome).toBe("htif");
    expect(r.exitCode).toBe(3);
  });
});

describe.runIf(existsSync(OPENSBI) || process.env.CI === "true")("Debian's OpenSBI (fw_jump.elf)", () => {
  for (const harts of [1, 2]) {
    it(`boots with ${harts} hart(s) and hands over to an S-mode kernel`, async () => {
      const r = await bootImages(
        { firmware: readImageFile(OPENSBI, "bios"), kernel: readImageFile(`${BIN}/sbi-hello.elf`, "kernel") },
        { harts, timeoutSeconds: 60 },
      );
      expect(r.output).toContain("OpenSBI v");
      expect(r.output).toContain(`Platform HART Count       : ${harts}`);
      expect(r.output).toContain("Domain0 Next Mode         : S-mode");
      expect(r.output).toContain("hello from S-mode via SBI");
      expect(r.outcome).toBe("finisher");
      expect(r.exitCode).toBe(0);
    }, 90_000);
  }
});

describe("timeouts", () => {
  it("a guest that never exits stops at the timeout with status 124", async () => {
    // A flat image of one instruction: `j .` (c.j 0).
    const spin = Uint8Array.of(0x01, 0xa0);
    const r = await bootImages({ kernel: spin }, { timeoutSeconds: 0.3 });
    expect(r.outcome).toBe("timeout");
    expect(r.exitCode).toBe(124);
  });
});
