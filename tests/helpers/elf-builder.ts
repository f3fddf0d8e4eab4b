/*
 * A tiny ELF64 little-endian writer for loader tests: builds a well-formed
 * RISC-V executable from a few segments and symbols, laid out as
 *
 *   ehdr (64) | phdrs (56 each) | segment bytes... | .symtab | .strtab | shdrs
 *
 * and exposes field offsets so a test can corrupt exactly one field.
 */

export const EHDR = {
  class: 4,
  data: 5,
  version: 6,
  type: 16,
  machine: 18,
  entry: 24,
  phoff: 32,
  shoff: 40,
  phentsize: 54,
  phnum: 56,
  shentsize: 58,
  shnum: 60,
} as const;
const EHDR_SIZE = 64;

export const PHDR = { type: 0, flags: 4, offset: 8, vaddr: 16, paddr: 24, filesz: 32, memsz: 40, align: 48 } as const;
const PHDR_SIZE = 56;

const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const STB_LOCAL = 0;
const STB_GLOBAL = 1;
const STT_OBJECT = 1;

interface TestSegment {
  readonly paddr: bigint;
  /** Defaults to paddr. */
  readonly vaddr?: bigint;
  readonly data: Uint8Array;
  /** Defaults to data.length. */
  readonly memSize?: bigint;
  readonly flags?: number;
  /** Defaults to PT_LOAD. */
  readonly type?: number;
}

interface TestSymbol {
  readonly name: string;
  readonly value: bigint;
  readonly local?: boolean;
  /** Section index; defaults to 1 (any defined section); 0 = undefined symbol. */
  readonly shndx?: number;
}

export interface TestElf {
  readonly entry: bigint;
  readonly segments: readonly TestSegment[];
  readonly symbols?: readonly TestSymbol[];
  readonly machine?: number;
  readonly type?: number;
}

/** Offset of program header `i`, for tests that corrupt one. */
export function phdrAt(i: number): number {
  return EHDR_SIZE + i * PHDR_SIZE;
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function stringTable(names: readonly string[]): { bytes: Uint8Array; offsets: number[] } {
  const enc = new TextEncoder();
  const parts = [new Uint8Array(1)]; // offset 0 is the empty name
  const offsets: number[] = [];
  let size = 1;
  for (const n of names) {
    offsets.push(size);
    const b = enc.encode(`${n}\0`);
    parts.push(b);
    size += b.length;
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, offsets };
}

/** Build the ELF. Section headers (null, .symtab, .strtab) are written only when symbols are given. */
export function buildElf(spec: TestElf): Uint8Array {
  const segs = spec.segments;
  let at = EHDR_SIZE + segs.length * PHDR_SIZE;
  const segOffsets = segs.map((s) => {
    const off = align8(at);
    at = off + s.data.length;
    return off;
  });
  const syms = spec.symbols;
  const strtab = stringTable(syms?.map((s) => s.name) ?? []);
  const symtabOff = align8(at);
  const symtabSize = syms === undefined ? 0 : (syms.length + 1) * SYM_SIZE;
  const strtabOff = symtabOff + symtabSize;
  const shoff = align8(strtabOff + (syms === undefined ? 0 : strtab.bytes.length));
  const total = syms === undefined ? at : shoff + 3 * SHDR_SIZE;

  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]); // magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT
  v.setUint16(EHDR.type, spec.type ?? 2, true);
  v.setUint16(EHDR.machine, spec.machine ?? 243, true);
  v.setUint32(20, 1, true); // e_version
  v.setBigUint64(EHDR.entry, BigInt.asUintN(64, spec.entry), true);
  v.setBigUint64(EHDR.phoff, BigInt(EHDR_SIZE), true);
  v.setUint16(52, EHDR_SIZE, true); // e_ehsize
  v.setUint16(EHDR.phentsize, PHDR_SIZE, true);
  v.setUint16(EHDR.phnum, segs.length, true);

  segs.forEach((s, i) => {
    const ph = phdrAt(i);
    v.setUint32(ph + PHDR.type, s.type ?? PT_LOAD, true);
    v.setUint32(ph + PHDR.flags, s.flags ?? 5, true);
    v.setBigUint64(ph + PHDR.offset, BigInt(segOffsets[i]!), true);
    v.setBigUint64(ph + PHDR.vaddr, BigInt.asUintN(64, s.vaddr ?? s.paddr), true);
    v.setBigUint64(ph + PHDR.paddr, s.paddr, true);
    v.setBigUint64(ph + PHDR.filesz, BigInt(s.data.length), true);
    v.setBigUint64(ph + PHDR.memsz, s.memSize ?? BigInt(s.data.length), true);
    v.setBigUint64(ph + PHDR.align, 8n, true);
    out.set(s.data, segOffsets[i]!);
  });

  if (syms !== undefined) {
    syms.forEach((s, i) => {
      const e = symtabOff + (i + 1) * SYM_SIZE; // entry 0 is the null symbol
      v.setUint32(e, strtab.offsets[i]!, true);
      v.setUint8(e + 4, ((s.local === true ? STB_LOCAL : STB_GLOBAL) << 4) | STT_OBJECT);
      v.setUint16(e + 6, s.shndx ?? 1, true);
      v.setBigUint64(e + 8, BigInt.asUintN(64, s.value), true);
    });
    out.set(strtab.bytes, strtabOff);
    v.setBigUint64(EHDR.shoff, BigInt(shoff), true);
    v.setUint16(EHDR.shentsize, SHDR_SIZE, true);
    v.setUint16(EHDR.shnum, 3, true);
    const symSh = shoff + SHDR_SIZE;
    v.setUint32(symSh + 4, SHT_SYMTAB, true);
    v.setBigUint64(symSh + 24, BigInt(symtabOff), true);
    v.setBigUint64(symSh + 32, BigInt(symtabSize), true);
    v.setUint32(symSh + 40, 2, true); // sh_link: .strtab
    v.setBigUint64(symSh + 56, BigInt(SYM_SIZE), true);
    const strSh = shoff + 2 * SHDR_SIZE;
    v.setUint32(strSh + 4, SHT_STRTAB, true);
    v.setBigUint64(strSh + 24, BigInt(strtabOff), true);
    v.setBigUint64(strSh + 32, BigInt(strtab.bytes.length), true);
  }
  return out;
}

/** Overwrite one little-endian field of a built ELF (returns the same array). */
export function poke(elf: Uint8Array, offset: number, width: 1 | 2 | 4 | 8, value: bigint | number): Uint8Array {
  const v = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (width === 1) v.setUint8(offset, Number(value));
  else if (width === 2) v.setUint16(offset, Number(value), true);
  else if (width === 4) v.setUint32(offset, Number(value), true);
  else v.setBigUint64(offset, BigInt.asUintN(64, BigInt(value)), true);
  return elf;
}

/** Offset of the section header table of a built ELF with symbols. */
export function shoffOf(elf: Uint8Array): number {
  return Number(new DataView(elf.buffer, elf.byteOffset, elf.byteLength).getBigUint64(EHDR.shoff, true));
}
