import { describe, expect, it } from "vitest";
import { GuestImageError } from "../../src/errors.ts";
import { parseElf, PF_R, PF_W, PF_X } from "../../src/machine/elf.ts";
import { buildElf, EHDR, phdrAt, PHDR, poke, shoffOf, type TestElf } from "../helpers/elf-builder.ts";

const TEXT = new Uint8Array([0x13, 0x00, 0x00, 0x00, 0x6f, 0x00, 0x00, 0x00]); // nop; j .
const DATA = new Uint8Array([1, 2, 3, 4]);

/** A firmware-like image: text at 0x8000_0000, data + bss at 0x8000_1000, HTIF symbols. */
const GOOD: TestElf = {
  entry: 0x8000_0000n,
  segments: [
    { paddr: 0x8000_0000n, data: TEXT, flags: PF_R | PF_X },
    { paddr: 0x8000_1000n, data: DATA, memSize: 0x100n, flags: PF_R | PF_W },
  ],
  symbols: [
    { name: "tohost", value: 0x8000_1000n },
    { name: "fromhost", value: 0x8000_1040n },
    { name: "counter", value: 0x8000_1080n, local: true },
    { name: "printf", value: 0n, shndx: 0 },
  ],
};

function expectImageError(bytes: Uint8Array, message: RegExp): void {
  expect(() => parseElf(bytes)).toThrow(GuestImageError);
  expect(() => parseElf(bytes)).toThrow(message);
}

describe("parseElf: a well-formed RISC-V executable", () => {
  it("yields each PT_LOAD segment with its paddr, file bytes, memory size and flags", () => {
    const elf = parseElf(buildElf(GOOD));
    expect(elf.entry).toBe(0x8000_0000);
    expect(elf.segments).toHaveLength(2);
    const [text, data] = elf.segments;
    expect(text).toMatchObject({ paddr: 0x8000_0000, vaddr: 0x8000_0000, memSize: TEXT.length, flags: PF_R | PF_X });
    expect(Array.from(text!.data)).toEqual(Array.from(TEXT));
    expect(data).toMatchObject({ paddr: 0x8000_1000, memSize: 0x100, flags: PF_R | PF_W });
    expect(Array.from(data!.data)).toEqual(Array.from(DATA));
  });

  it("finds the HTIF tohost/fromhost symbols in .symtab", () => {
    const { symbols } = parseElf(buildElf(GOOD));
    expect(symbols.get("tohost")).toBe(0x8000_1000);
    expect(symbols.get("fromhost")).toBe(0x8000_1040);
    expect(symbols.get("counter")).toBe(0x8000_1080);
  });

  it("leaves out undefined symbols", () => {
    expect(parseElf(buildElf(GOOD)).symbols.has("printf")).toBe(false);
  });

  it("prefers a global definition over a local one of the same name", () => {
    const elf = buildElf({
      ...GOOD,
      symbols: [
        { name: "x", value: 0x10n, local: true },
        { name: "x", value: 0x20n },
        { name: "x", value: 0x30n, local: true },
      ],
    });
    expect(parseElf(elf).symbols.get("x")).toBe(0x20);
  });

  it("skips non-PT_LOAD headers and PT_LOAD segments with memsz 0", () => {
    const elf = parseElf(
      buildElf({
        entry: 0x8000_0000n,
        segments: [
          { paddr: 0n, data: new Uint8Array(4), type: 0x7000_0003 }, // PT_RISCV_ATTRIBUTES
          { paddr: 0x8000_0000n, data: TEXT },
          { paddr: 0x9000_0000n, data: new Uint8Array(0) },
        ],
      }),
    );
    expect(elf.segments.map((s) => s.paddr)).toEqual([0x8000_0000]);
  });

  it("loads at p_paddr and enters at the physical address of a high-linked e_entry", () => {
    // A kernel linked at 0xffffffff80000000 but loaded at 0x80200000.
    const elf = parseElf(
      buildElf({
        entry: 0xffff_ffff_8000_0004n,
        segments: [{ paddr: 0x8020_0000n, vaddr: 0xffff_ffff_8000_0000n, data: TEXT }],
      }),
    );
    expect(elf.segments[0]!.paddr).toBe(0x8020_0000);
    expect(elf.segments[0]!.vaddr).toBe(-0x8000_0000); // signed, exact
    expect(elf.entry).toBe(0x8020_0004);
  });

  it("accepts ET_DYN and loads it where it is linked", () => {
    const elf = parseElf(buildElf({ ...GOOD, type: 3 }));
    expect(elf.segments[0]!.paddr).toBe(0x8000_0000);
  });

  it("has no symbols, and no error, when there is no section header table", () => {
    expect(parseElf(buildElf({ ...GOOD, symbols: undefined })).symbols.size).toBe(0);
  });
});

describe("parseElf: malformed headers are GuestImageErrors", () => {
  it("rejects a file shorter than the ELF header", () => {
    expectImageError(buildElf(GOOD).subarray(0, 40), /too short: 40 bytes/);
  });

  it("rejects a file without the ELF magic", () => {
    expectImageError(poke(buildElf(GOOD), 0, 1, 0x7e), /not an ELF file \(bad magic\)/);
  });

  it("rejects a 32-bit ELF", () => {
    expectImageError(poke(buildElf(GOOD), EHDR.class, 1, 1), /32-bit ELF \(ELFCLASS32\)/);
  });

  it("rejects a big-endian ELF", () => {
    expectImageError(poke(buildElf(GOOD), EHDR.data, 1, 2), /big-endian/);
  });

  it("names the machine an ELF was built for", () => {
    expectImageError(buildElf({ ...GOOD, machine: 62 }), /ELF is for x86-64, not RISC-V \(e_machine 62/);
    expectImageError(buildElf({ ...GOOD, machine: 183 }), /ELF is for AArch64/);
    expectImageError(buildElf({ ...GOOD, machine: 9999 }), /ELF is for machine 9999/);
  });

  it("rejects a relocatable object", () => {
    expectImageError(buildElf({ ...GOOD, type: 1 }), /relocatable object \(ET_REL\)/);
  });

  it("rejects program headers that lie outside the file", () => {
    expectImageError(poke(buildElf(GOOD), EHDR.phoff, 8, 0xffff_0000n), /program headers .* outside the file/);
    expectImageError(poke(buildElf(GOOD), EHDR.phoff, 8, 0xffff_ffff_ffff_fff0n), /program headers .* outside the file/);
  });

  it("rejects a file with no program headers", () => {
    expectImageError(poke(buildElf(GOOD), EHDR.phnum, 2, 0), /no program headers/);
  });

  it("rejects a program header size other than 56", () => {
    expectImageError(poke(buildElf(GOOD), EHDR.phentsize, 2, 32), /program header size 32/);
  });

  it("rejects a file whose only segments are not loadable", () => {
    const elf = buildElf(GOOD);
    poke(elf, phdrAt(0) + PHDR.type, 4, 4);
    poke(elf, phdrAt(1) + PHDR.type, 4, 4);
    expectImageError(elf, /no loadable \(PT_LOAD\) segments/);
  });
});

describe("parseElf: malformed segments are GuestImageErrors", () => {
  it("rejects a segment whose file range runs past the end of the file", () => {
    expectImageError(poke(buildElf(GOOD), phdrAt(1) + PHDR.offset, 8, 0x10_0000), /segment 1: file range 0x100000-0x100004 lies outside the file/);
    expectImageError(poke(buildElf(GOOD), phdrAt(1) + PHDR.offset, 8, 0xffff_ffff_ffff_fffen), /segment 1: file range .* outside the file/);
  });

  it("rejects p_filesz larger than p_memsz", () => {
    expectImageError(poke(buildElf(GOOD), phdrAt(1) + PHDR.memsz, 8, 2), /segment 1: p_filesz 0x4 exceeds p_memsz 0x2/);
  });

  it("rejects a physical range beyond 2^53", () => {
    expectImageError(poke(buildElf(GOOD), phdrAt(1) + PHDR.paddr, 8, 1n << 53n), /segment 1: physical range .* beyond 2\^53/);
  });

  it("rejects p_paddr + p_memsz that overflows 64 bits", () => {
    const elf = buildElf(GOOD);
    poke(elf, phdrAt(1) + PHDR.paddr, 8, 0xffff_ffff_ffff_f000n);
    poke(elf, phdrAt(1) + PHDR.memsz, 8, 0x2000n);
    expectImageError(elf, /segment 1: p_paddr 0xfffffffffffff000 \+ p_memsz 0x2000 overflows 64 bits/);
  });

  it("rejects a virtual address that is not exact as a number", () => {
    expectImageError(poke(buildElf(GOOD), phdrAt(0) + PHDR.vaddr, 8, 0x8000_0000_0000_0000n), /p_vaddr 0x8000000000000000 lies beyond 2\^53/);
  });

  it("rejects segments that overlap in physical memory", () => {
    expectImageError(poke(buildElf(GOOD), phdrAt(1) + PHDR.paddr, 8, 0x8000_0004n), /segments 0 and 1 overlap at 0x80000004/);
  });

  it("rejects an entry point outside every segment and beyond 2^53", () => {
    expectImageError(poke(buildElf(GOOD), EHDR.entry, 8, 1n << 60n), /entry point 0x1000000000000000 lies in no segment/);
  });
});

describe("parseElf: a broken symbol table means no symbols, never an error", () => {
  it("ignores a section header table outside the file", () => {
    const elf = poke(buildElf(GOOD), EHDR.shoff, 8, 0xffff_ffffn);
    expect(parseElf(elf).symbols.size).toBe(0);
  });

  it("ignores a symtab whose sh_link is not a string table", () => {
    const elf = buildElf(GOOD);
    poke(elf, shoffOf(elf) + 64 + 40, 4, 1); // .symtab links to itself
    expect(parseElf(elf).symbols.size).toBe(0);
  });

  it("ignores a symtab whose data lies outside the file", () => {
    const elf = buildElf(GOOD);
    poke(elf, shoffOf(elf) + 64 + 32, 8, 0xffff_ffff_ffffn); // sh_size
    expect(parseElf(elf).symbols.size).toBe(0);
  });

  it("skips a symbol whose name offset lies outside the string table", () => {
    const elf = buildElf(GOOD);
    const symtabOff = Number(new DataView(elf.buffer).getBigUint64(shoffOf(elf) + 64 + 24, true));
    poke(elf, symtabOff + 24, 4, 0xffff); // first real symbol's st_name
    const { symbols } = parseElf(elf);
    expect(symbols.has("tohost")).toBe(false);
    expect(symbols.get("fromhost")).toBe(0x8000_1040);
  });

  it("skips a name that runs off the end of an unterminated string table", () => {
    const elf = buildElf({ ...GOOD, symbols: [{ name: "tohost", value: 0x8000_1000n }] });
    const strSh = shoffOf(elf) + 2 * 64;
    poke(elf, strSh + 32, 8, 4); // .strtab ends inside "tohost"
    expect(parseElf(elf).symbols.size).toBe(0);
  });
});
