/*
 * What goes into RAM at boot may not land on itself (src/machine/boot-layout.ts):
 * firmware, kernel, initrd and device tree, each checked against the others,
 * natively and under the hypervisor alike.
 */

import { describe, expect, it } from "vitest";
import { checkBootRegions, imageRegions } from "../../src/machine/boot-layout.ts";
import { ConfigError } from "../../src/errors.ts";
import { Board } from "../../src/machine/board.ts";
import { readImageFile, loadGuestImage } from "../../src/machine/image.ts";
import { runVm, mImage } from "../helpers/vm.ts";

const MiB = 2 ** 20;

describe("checkBootRegions", () => {
  it("accepts pieces that touch but do not overlap, and an image's own segments", () => {
    expect(() =>
      checkBootRegions([
        { what: "bios", start: 0x8000_0000, end: 0x8002_0000 },
        { what: "kernel", start: 0x8020_0000, end: 0x8030_0000 },
        { what: "kernel", start: 0x8030_0000, end: 0x8031_0000 },
        { what: "device tree", start: 0x8031_0000, end: 0x8031_1000 },
      ]),
    ).not.toThrow();
  });

  it("names both pieces of an overlap and their addresses", () => {
    const regions = [
      { what: "kernel", start: 0x8000_0000, end: 0x8002_0310 },
      { what: "device tree", start: 0x8000_0000, end: 0x8000_06fd },
    ];
    expect(() => checkBootRegions(regions)).toThrow(ConfigError);
    expect(() => checkBootRegions(regions)).toThrow("kernel (0x80000000-0x80020310) and device tree (0x80000000-0x800006fd) overlap in RAM (try a larger --mem)");
  });

  it("counts an ELF's bss, not only its file bytes", () => {
    const hello = loadGuestImage(readImageFile("guests/bin/hello.elf", "kernel"), 0x8000_0000);
    const end = Math.max(...imageRegions(hello, "kernel").map((r) => r.end));
    expect(end).toBeGreaterThan(Math.max(...hello.chunks.map((c) => c.addr + c.data.length)));
  });
});

describe("a board too small for its kernel and device tree", () => {
  it("natively: refused at boot, not run over a device tree written on its code", () => {
    const board = new Board({ harts: 1, memSize: 2 * MiB, clock: "real", output: () => {} });
    expect(() => board.boot({ kernel: readImageFile("guests/bin/hello.elf", "kernel") })).toThrow(/kernel .* and device tree .* overlap in RAM/);
  });

  it("under the hypervisor: the VM is refused the same way", async () => {
    await expect(runVm(mImage("guests/bin/hello.elf"), { memSize: 2 * MiB })).rejects.toThrow(/kernel .* and device tree .* overlap in RAM/);
  });
});
