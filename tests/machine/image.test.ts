import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, GuestImageError } from "../../src/errors.ts";
import { loadGuestImage, placeImage, readImageFile, type GuestImage } from "../../src/machine/image.ts";
import { DRAM_BASE, KERNEL_BASE } from "../../src/machine/memlayout.ts";
import { buildElf } from "../helpers/elf-builder.ts";

const RAM_SIZE = 0x4000;

function twoSegmentElf(): Uint8Array {
  return buildElf({
    entry: BigInt(DRAM_BASE + 0x10),
    segments: [
      { paddr: BigInt(DRAM_BASE), data: new Uint8Array([1, 2, 3, 4]) },
      { paddr: BigInt(DRAM_BASE + 0x1000), data: new Uint8Array([5, 6]), memSize: 0x10n },
    ],
    symbols: [{ name: "tohost", value: BigInt(DRAM_BASE + 0x1000) }],
  });
}

describe("loadGuestImage", () => {
  it("loads an ELF by its program headers", () => {
    const img = loadGuestImage(twoSegmentElf(), KERNEL_BASE);
    expect(img.kind).toBe("elf");
    expect(img.entry).toBe(DRAM_BASE + 0x10);
    expect(img.lowestAddr).toBe(DRAM_BASE);
    expect(img.chunks.map((c) => [c.addr, c.data.length, c.memSize])).toEqual([
      [DRAM_BASE, 4, 4],
      [DRAM_BASE + 0x1000, 2, 0x10],
    ]);
    expect(img.symbols.get("tohost")).toBe(DRAM_BASE + 0x1000);
  });

  it("places anything else as a flat binary at the default base and enters at its first byte", () => {
    const bytes = new Uint8Array([0x13, 0, 0, 0]);
    const img = loadGuestImage(bytes, KERNEL_BASE);
    expect(img).toMatchObject({ kind: "flat", entry: KERNEL_BASE, lowestAddr: KERNEL_BASE });
    expect(img.chunks).toEqual([{ addr: KERNEL_BASE, data: bytes, memSize: 4 }]);
    expect(img.symbols.size).toBe(0);
  });

  it("rejects an empty file", () => {
    expect(() => loadGuestImage(new Uint8Array(0), KERNEL_BASE, "kernel")).toThrow(GuestImageError);
    expect(() => loadGuestImage(new Uint8Array(0), KERNEL_BASE, "kernel")).toThrow("kernel: image is empty (0 bytes)");
  });

  it("prefixes ELF errors with what the image is", () => {
    const truncated = twoSegmentElf().subarray(0, 20);
    expect(() => loadGuestImage(truncated, KERNEL_BASE, "bios")).toThrow(/^bios: ELF file too short/);
  });
});

describe("placeImage", () => {
  it("copies file bytes and zero-fills up to memSize", () => {
    const ram = new Uint8Array(RAM_SIZE).fill(0xee);
    placeImage(loadGuestImage(twoSegmentElf(), KERNEL_BASE), ram, DRAM_BASE, "kernel");
    expect(Array.from(ram.subarray(0, 5))).toEqual([1, 2, 3, 4, 0xee]);
    expect(Array.from(ram.subarray(0x1000, 0x1011))).toEqual([5, 6, ...new Array(14).fill(0), 0xee]);
  });

  it("refuses a segment past the end of RAM, suggesting --mem, and writes nothing", () => {
    const img: GuestImage = {
      entry: DRAM_BASE,
      lowestAddr: DRAM_BASE,
      kind: "elf",
      symbols: new Map(),
      chunks: [
        { addr: DRAM_BASE, data: new Uint8Array([1]), memSize: 1 },
        { addr: DRAM_BASE + 0x3800, data: new Uint8Array(0), memSize: 0x1000 },
      ],
    };
    const ram = new Uint8Array(RAM_SIZE);
    expect(() => placeImage(img, ram, DRAM_BASE, "kernel")).toThrow(
      "kernel: segment 0x80003800-0x80004800 lies outside RAM 0x80000000-0x80004000 (try --mem)",
    );
    expect(ram[0]).toBe(0);
  });

  it("refuses a segment below RAM without suggesting --mem", () => {
    const img = loadGuestImage(new Uint8Array(16), DRAM_BASE - 8);
    expect(() => placeImage(img, new Uint8Array(RAM_SIZE), DRAM_BASE, "bios")).toThrow(
      /^bios: segment 0x7ffffff8-0x80000008 lies outside RAM 0x80000000-0x80004000$/,
    );
  });

  it("accepts a segment that ends exactly at the end of RAM", () => {
    const img = loadGuestImage(new Uint8Array(0x100).fill(7), DRAM_BASE + RAM_SIZE - 0x100);
    const ram = new Uint8Array(RAM_SIZE);
    placeImage(img, ram, DRAM_BASE, "kernel");
    expect(ram[RAM_SIZE - 1]).toBe(7);
  });
});

describe("readImageFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "popek-image-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("returns the file's bytes", () => {
    const path = join(dir, "k.bin");
    writeFileSync(path, new Uint8Array([9, 8, 7]));
    expect(Array.from(readImageFile(path, "kernel"))).toEqual([9, 8, 7]);
  });

  it("turns a missing file into a ConfigError naming the path", () => {
    const path = join(dir, "missing.elf");
    expect(() => readImageFile(path, "kernel")).toThrow(ConfigError);
    expect(() => readImageFile(path, "kernel")).toThrow(`kernel: cannot read ${path}: no such file`);
  });

  it("turns a directory into a ConfigError", () => {
    const path = join(dir, "sub");
    mkdirSync(path);
    expect(() => readImageFile(path, "bios")).toThrow(`bios: cannot read ${path}: is a directory`);
  });
});
