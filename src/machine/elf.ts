/*
 * ELF64 loader: reads a RISC-V executable into loadable segments.
 *
 * The file is untrusted input: every offset, size and count it states is
 * checked against the file and against 2^53 (the largest address a JS number
 * holds exactly) before it is used, and each failure is a GuestImageError
 * with a one-line message. The symbol table is optional and best-effort: a
 * missing or malformed one yields no symbols, never an error.
 *
 * Load addresses are p_paddr, as QEMU's load_elf uses them; nothing is
 * relocated. ET_DYN images are accepted and loaded at their p_paddr as linked
 * (OpenSBI and PIE kernels are linked at the address they run from).
 *
 * Layouts: System V gABI, "ELF Header", "Program Header", "Section Header",
 * "Symbol Table"; RISC-V psABI for EM_RISCV.
 */

import { GuestImageError } from "../errors.ts";

interface ElfSegment {
  /** Physical load address (p_paddr). */
  readonly paddr: number;
  /**
   * Virtual address (p_vaddr) read as a signed 64-bit value, so that an
   * upper-half kernel address such as 0xffffffff80000000 is held exactly
   * (as -0x80000000). Informational: loading uses paddr.
   */
  readonly vaddr: number;
  /** The segment's bytes in the file (p_filesz of them); a view, not a copy. */
  readonly data: Uint8Array;
  /** Bytes the segment occupies in memory; the tail past data is zero (.bss). */
  readonly memSize: number;
  /** PF_X | PF_W | PF_R. */
  readonly flags: number;
}

export interface ElfImage {
  /** Physical entry address: e_entry translated through the segment holding it. */
  readonly entry: number;
  readonly segments: ElfSegment[];
  /** Defined symbols by name, values read as signed 64-bit (see ElfSegment.vaddr). */
  readonly symbols: ReadonlyMap<string, number>;
}

/* e_ident */
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const; // "\x7fELF"
const EI_CLASS = 4;
const EI_DATA = 5;
const EI_VERSION = 6;
const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ELFDATA2MSB = 2;
const EV_CURRENT = 1;

/* ELF64 header field offsets */
const EHDR_SIZE = 64;
const E_TYPE = 16;
const E_MACHINE = 18;
const E_ENTRY = 24;
const E_PHOFF = 32;
const E_SHOFF = 40;
const E_PHENTSIZE = 54;
const E_PHNUM = 56;
const E_SHENTSIZE = 58;
const E_SHNUM = 60;

const ET_EXEC = 2;
const ET_DYN = 3;
const EM_RISCV = 243;
/** e_phnum value meaning "the real count is elsewhere" (gABI extended numbering). */
const PN_XNUM = 0xffff;

/* ELF64 program header */
const PHDR_SIZE = 56;
const P_TYPE = 0;
const P_FLAGS = 4;
const P_OFFSET = 8;
const P_VADDR = 16;
const P_PADDR = 24;
const P_FILESZ = 32;
const P_MEMSZ = 40;
const PT_LOAD = 1;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

/* ELF64 section header */
const SHDR_SIZE = 64;
const SH_TYPE = 4;
const SH_OFFSET = 24;
const SH_SIZE = 32;
const SH_LINK = 40;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_DYNSYM = 11;

/* ELF64 symbol */
const SYM_SIZE = 24;
const ST_NAME = 0;
const ST_INFO = 4;
const ST_SHNDX = 6;
const ST_VALUE = 8;
const SHN_UNDEF = 0;
const STB_LOCAL = 0;
const STT_SECTION = 3;
const STT_FILE = 4;
/** psABI mapping symbols ($x, $d, $xrv64i2p1...) mark code/data runs, not addresses to look up. */
const MAPPING_SYMBOL_PREFIX = "$";
/** Longest symbol name read; longer ones are skipped (a bound on hostile strtabs). */
const MAX_SYMBOL_NAME = 1024;

const UTF8 = new TextDecoder();
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_53 = 1n << 53n;
const TWO_64 = 1n << 64n;

/** A few e_machine values users meet, so the error names what they handed us. */
const MACHINE_NAMES: ReadonlyMap<number, string> = new Map([
  [2, "SPARC"],
  [3, "x86 (i386)"],
  [8, "MIPS"],
  [20, "PowerPC"],
  [21, "PowerPC64"],
  [22, "S/390"],
  [40, "ARM"],
  [43, "SPARC V9"],
  [62, "x86-64"],
  [183, "AArch64"],
  [247, "BPF"],
  [258, "LoongArch"],
]);

function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}

function fail(message: string): never {
  throw new GuestImageError(message);
}

/** True when the bytes start with the ELF magic. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= ELF_MAGIC.length && ELF_MAGIC.every((b, i) => bytes[i] === b);
}

/** Parse a RISC-V ELF64 executable. Throws GuestImageError on anything malformed. */
export function parseElf(bytes: Uint8Array): ElfImage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkIdent(bytes);
  checkHeader(view);
  const segments = readSegments(bytes, view);
  checkNoOverlap(segments);
  return {
    entry: physicalEntry(view.getBigInt64(E_ENTRY, true), segments),
    segments: segments.map((s) => s.segment),
    symbols: readSymbols(bytes, view),
  };
}

/** e_ident: magic, class, byte order, version. */
function checkIdent(bytes: Uint8Array): void {
  if (bytes.length < EHDR_SIZE) {
    if (!isElf(bytes)) fail(`not an ELF file (${bytes.length} bytes, no ELF magic)`);
    fail(`ELF file too short: ${bytes.length} bytes, the ELF64 header alone is ${EHDR_SIZE}`);
  }
  if (!isElf(bytes)) fail("not an ELF file (bad magic)");
  const cls = bytes[EI_CLASS];
  if (cls === ELFCLASS32) fail("32-bit ELF (ELFCLASS32): popek runs RV64 images, rebuild for rv64");
  if (cls !== ELFCLASS64) fail(`bad ELF class ${cls} (expected ELFCLASS64)`);
  const data = bytes[EI_DATA];
  if (data === ELFDATA2MSB) fail("big-endian ELF: RISC-V images are little-endian");
  if (data !== ELFDATA2LSB) fail(`bad ELF data encoding ${data} (expected little-endian)`);
  if (bytes[EI_VERSION] !== EV_CURRENT) fail(`unsupported ELF version ${bytes[EI_VERSION]}`);
}

/** e_machine, e_type, program header table geometry. */
function checkHeader(view: DataView): void {
  const machine = view.getUint16(E_MACHINE, true);
  if (machine !== EM_RISCV) {
    const name = MACHINE_NAMES.get(machine) ?? `machine ${machine}`;
    fail(`ELF is for ${name}, not RISC-V (e_machine ${machine}, expected ${EM_RISCV})`);
  }
  const type = view.getUint16(E_TYPE, true);
  if (type !== ET_EXEC && type !== ET_DYN) {
    const what = type === 1 ? "a relocatable object (ET_REL): link it first" : type === 4 ? "a core dump" : `e_type ${type}`;
    fail(`ELF is ${what}; popek loads executables (ET_EXEC or ET_DYN)`);
  }
  const phnum = view.getUint16(E_PHNUM, true);
  if (phnum === PN_XNUM) fail("ELF uses extended program header numbering (e_phnum = 0xffff): not supported");
  if (phnum === 0) fail("ELF has no program headers: nothing to load");
  const phentsize = view.getUint16(E_PHENTSIZE, true);
  if (phentsize !== PHDR_SIZE) fail(`bad ELF program header size ${phentsize} (expected ${PHDR_SIZE})`);
  const phoff = view.getBigUint64(E_PHOFF, true);
  const end = phoff + BigInt(phnum * PHDR_SIZE);
  if (end > BigInt(view.byteLength)) {
    fail(`ELF program headers ${hex(phoff)}-${hex(end)} lie outside the file (${view.byteLength} bytes)`);
  }
}

interface CheckedSegment {
  readonly index: number;
  readonly segment: ElfSegment;
  /** Virtual start and end as signed 64-bit, for translating the entry point. */
  readonly vstart: bigint;
  readonly vend: bigint;
}

/** Every PT_LOAD with a non-zero memsz, checked against the file and 2^53. */
function readSegments(bytes: Uint8Array, view: DataView): CheckedSegment[] {
  const phoff = Number(view.getBigUint64(E_PHOFF, true));
  const phnum = view.getUint16(E_PHNUM, true);
  const out: CheckedSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * PHDR_SIZE;
    if (view.getUint32(ph + P_TYPE, true) !== PT_LOAD) continue;
    const memsz = view.getBigUint64(ph + P_MEMSZ, true);
    if (memsz === 0n) continue;
    out.push(checkSegment(bytes, view, ph, i, memsz));
  }
  if (out.length === 0) fail("ELF has no loadable (PT_LOAD) segments");
  return out;
}

function checkSegment(bytes: Uint8Array, view: DataView, ph: number, i: number, memsz: bigint): CheckedSegment {
  const offset = view.getBigUint64(ph + P_OFFSET, true);
  const filesz = view.getBigUint64(ph + P_FILESZ, true);
  const paddr = view.getBigUint64(ph + P_PADDR, true);
  const vaddr = view.getBigInt64(ph + P_VADDR, true);
  const what = `ELF segment ${i}`;
  if (filesz > memsz) fail(`${what}: p_filesz ${hex(filesz)} exceeds p_memsz ${hex(memsz)}`);
  if (offset + filesz > BigInt(bytes.length)) {
    fail(`${what}: file range ${hex(offset)}-${hex(offset + filesz)} lies outside the file (${bytes.length} bytes)`);
  }
  if (paddr + memsz > TWO_64) fail(`${what}: p_paddr ${hex(paddr)} + p_memsz ${hex(memsz)} overflows 64 bits`);
  if (paddr + memsz > TWO_53) {
    fail(`${what}: physical range ${hex(paddr)}-${hex(paddr + memsz)} lies beyond 2^53, which popek cannot address`);
  }
  if (vaddr <= -TWO_53 || vaddr + memsz > TWO_53) fail(`${what}: p_vaddr ${hex(BigInt.asUintN(64, vaddr))} lies beyond 2^53`);
  const start = Number(offset);
  return {
    index: i,
    vstart: vaddr,
    vend: vaddr + memsz,
    segment: {
      paddr: Number(paddr),
      vaddr: Number(vaddr),
      data: bytes.subarray(start, start + Number(filesz)),
      memSize: Number(memsz),
      flags: view.getUint32(ph + P_FLAGS, true),
    },
  };
}

/** Two segments loading over the same bytes are a broken image (QEMU refuses overlapping ROM blobs too). */
function checkNoOverlap(segs: readonly CheckedSegment[]): void {
  const sorted = [...segs].sort((a, b) => a.segment.paddr - b.segment.paddr);
  for (let k = 1; k < sorted.length; k++) {
    const prev = sorted[k - 1]!;
    const cur = sorted[k]!;
    if (cur.segment.paddr < prev.segment.paddr + prev.segment.memSize) {
      fail(`ELF segments ${prev.index} and ${cur.index} overlap at ${hex(cur.segment.paddr)}`);
    }
  }
}

/**
 * e_entry is a virtual address; when a segment's virtual range holds it,
 * the hart starts at the matching physical address (paddr + offset), which is
 * what a kernel linked high but loaded low needs. Otherwise e_entry is taken
 * as physical and must be a plain address below 2^53.
 */
function physicalEntry(entry: bigint, segs: readonly CheckedSegment[]): number {
  for (const s of segs) {
    if (entry >= s.vstart && entry < s.vend) return s.segment.paddr + Number(entry - s.vstart);
  }
  const unsigned = BigInt.asUintN(64, entry);
  if (unsigned > MAX_SAFE) fail(`ELF entry point ${hex(unsigned)} lies in no segment and beyond 2^53`);
  return Number(unsigned);
}

/* ---------- symbols: best effort, bounded, never throws ---------- */

interface Range {
  readonly start: number;
  readonly end: number;
}

/** Section [offset, offset+size) of section `index`, or undefined when it is not inside the file. */
function sectionRange(view: DataView, shoff: number, shnum: number, index: number, type: number): Range | undefined {
  if (index <= 0 || index >= shnum) return undefined;
  const sh = shoff + index * SHDR_SIZE;
  if (view.getUint32(sh + SH_TYPE, true) !== type) return undefined;
  const off = view.getBigUint64(sh + SH_OFFSET, true);
  const size = view.getBigUint64(sh + SH_SIZE, true);
  if (off + size > BigInt(view.byteLength)) return undefined;
  return { start: Number(off), end: Number(off + size) };
}

/**
 * Symbols of .symtab (or .dynsym when the image is stripped), for finding
 * HTIF's tohost/fromhost. A global definition wins over a local of the same
 * name; undefined, section and file symbols are skipped.
 */
function readSymbols(bytes: Uint8Array, view: DataView): ReadonlyMap<string, number> {
  const symbols = new Map<string, number>();
  const shoffBig = view.getBigUint64(E_SHOFF, true);
  const shnum = view.getUint16(E_SHNUM, true);
  if (view.getUint16(E_SHENTSIZE, true) !== SHDR_SIZE || shnum === 0) return symbols;
  if (shoffBig + BigInt(shnum * SHDR_SIZE) > BigInt(bytes.length)) return symbols;
  const shoff = Number(shoffBig);
  const tableType = findSection(view, shoff, shnum, SHT_SYMTAB) !== undefined ? SHT_SYMTAB : SHT_DYNSYM;
  const tableIndex = findSection(view, shoff, shnum, tableType);
  if (tableIndex === undefined) return symbols;
  const table = sectionRange(view, shoff, shnum, tableIndex, tableType);
  const link = view.getUint32(shoff + tableIndex * SHDR_SIZE + SH_LINK, true);
  const strtab = sectionRange(view, shoff, shnum, link, SHT_STRTAB);
  if (table === undefined || strtab === undefined) return symbols;
  for (let sym = table.start; sym + SYM_SIZE <= table.end; sym += SYM_SIZE) {
    const info = view.getUint8(sym + ST_INFO);
    const type = info & 0xf;
    const local = info >> 4 === STB_LOCAL;
    if (view.getUint16(sym + ST_SHNDX, true) === SHN_UNDEF || type === STT_SECTION || type === STT_FILE) continue;
    const name = readString(bytes, strtab, view.getUint32(sym + ST_NAME, true));
    if (name === undefined || name === "" || name.startsWith(MAPPING_SYMBOL_PREFIX)) continue;
    if (local && symbols.has(name)) continue;
    const value = view.getBigInt64(sym + ST_VALUE, true);
    if (value > MAX_SAFE || value < -MAX_SAFE) continue;
    symbols.set(name, Number(value));
  }
  return symbols;
}

function findSection(view: DataView, shoff: number, shnum: number, type: number): number | undefined {
  for (let i = 1; i < shnum; i++) {
    if (view.getUint32(shoff + i * SHDR_SIZE + SH_TYPE, true) === type) return i;
  }
  return undefined;
}

/** NUL-terminated string at `offset` inside `strtab`, or undefined when unterminated or too long. */
function readString(bytes: Uint8Array, strtab: Range, offset: number): string | undefined {
  const start = strtab.start + offset;
  if (start >= strtab.end) return undefined;
  const limit = Math.min(strtab.end, start + MAX_SYMBOL_NAME);
  const nul = bytes.subarray(start, limit).indexOf(0);
  if (nul < 0) return undefined;
  return UTF8.decode(bytes.subarray(start, start + nul));
}
