/*
 * guests/hext-test: a bare-metal hypervisor on the native board with the H
 * extension (--cpu rv64,h=true) — G-stage table, VS and VU guests,
 * guest-page faults, a VS page fault delegated by hedeleg, HLV/HSV, virtual
 * interrupts, HFENCE.GVMA — printing every result. The guest checks itself
 * (PASS); where QEMU is installed its output under `-cpu rv64,h=true` must
 * be the same, byte for byte.
 */

import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { bootFile } from "../helpers/boot.ts";

const IMAGE = "guests/bin/hext-test.elf";
const QEMU = "qemu-system-riscv64";
const HAVE_QEMU = spawnSync(QEMU, ["--version"]).status === 0;

describe("guests/hext-test on the H extension", () => {
  const withH = bootFile(IMAGE, { h: true, timeoutSeconds: 60 });

  it("passes its own checks natively with --cpu rv64,h=true", async () => {
    const r = await withH;
    expect(r.output).toContain("hext-test: misa.H=1\n");
    expect(r.output).toContain("gpf-load: scause=0x15 stval=0xd0000000 htval=0x34000000 GVA=0x1\n");
    expect(r.output).toContain("vs-interrupt: scause=0xa vscause=0x8000000000000001\n");
    expect(r.output).toMatch(/hext-test: PASS\n$/);
    expect(r.exitCode).toBe(0);
  }, 90_000);

  it("says so and fails on a hart without H (the default)", async () => {
    const r = await bootFile(IMAGE, { timeoutSeconds: 60 });
    expect(r.output).toContain("this hart has no H extension");
    expect(r.exitCode).toBe(1);
  }, 90_000);

  it.skipIf(!HAVE_QEMU)(`prints exactly what ${QEMU} -cpu rv64,h=true prints`, async () => {
    const q = spawnSync(QEMU, ["-machine", "virt", "-cpu", "rv64,h=true", "-bios", "none", "-nographic", "-kernel", IMAGE], {
      encoding: "latin1",
      timeout: 60_000,
    });
    expect(q.status).toBe(0);
    const popek = (await withH).output.split("\n");
    const qemu = q.stdout.split("\n");
    const first = qemu.findIndex((l, i) => l !== popek[i]);
    expect(first === -1 ? "" : `line ${first}: popek "${popek[first]}"`, `qemu: "${qemu[first]}"`).toBe("");
    expect(popek.length).toBe(qemu.length);
  }, 90_000);
});
