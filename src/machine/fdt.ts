/*
 * Flattened device tree (DTB, version 17): a builder, a bounded reader and a
 * DTS printer. Devicetree Specification v0.4, chapter 5 "Flattened Devicetree
 * (DTB) Format":
 *
 *   +---------------------+ 0
 *   | header (40 bytes)   |   big-endian u32 fields, see HDR_* below
 *   +---------------------+ 40 (8-aligned)
 *   | memory reservation  |   {u64 address, u64 size}..., ended by {0, 0}
 *   +---------------------+
 *   | structure block     |   tokens, each 4-aligned:
 *   |                     |     BEGIN_NODE name\0 pad | PROP len nameoff value pad
 *   |                     |     END_NODE | NOP | END
 *   +---------------------+
 *   | strings block       |   property names, NUL-terminated, shared
 *   +---------------------+ totalsize
 *
 * All values are big-endian. A cell is one u32; a 64-bit number is two cells,
 * high first.
 */

import { GuestImageError } from "../errors.ts";

export interface FdtProperty {
  readonly name: string;
  readonly value: Uint8Array;
}

export interface FdtNode {
  /** Node name with its unit address ("serial@10000000"); "" for the root. */
  readonly name: string;
  readonly properties: FdtProperty[];
  readonly children: FdtNode[];
}

export interface FdtReservation {
  readonly addr: number;
  readonly size: number;
}

export interface FdtBuildOptions {
  /** Physical id of the boot CPU (header field boot_cpuid_phys). */
  readonly bootCpuid?: number;
  /** Memory reservation block entries. */
  readonly reserve?: readonly FdtReservation[];
}

export interface ParsedFdt {
  readonly root: FdtNode;
  readonly version: number;
  readonly bootCpuid: number;
  readonly reserve: FdtReservation[];
}

export const FDT_MAGIC = 0xd00dfeed;
const FDT_VERSION = 17;
/** Oldest version a v17 blob is backwards compatible with (spec 5.2). */
const FDT_LAST_COMP_VERSION = 16;

/* header field offsets (spec 5.2) */
const HDR_MAGIC = 0;
const HDR_TOTALSIZE = 4;
const HDR_OFF_STRUCT = 8;
const HDR_OFF_STRINGS = 12;
const HDR_OFF_RSVMAP = 16;
const HDR_VERSION = 20;
const HDR_LAST_COMP = 24;
const HDR_BOOT_CPUID = 28;
const HDR_SIZE_STRINGS = 32;
const HDR_SIZE_STRUCT = 36;
const HEADER_SIZE = 40;
const RSV_ENTRY_SIZE = 16;

/* structure block tokens (spec 5.4.1) */
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;

/** Deepest nesting the reader accepts: a bound on hostile blobs (real trees nest < 8). */
const MAX_DEPTH = 64;
const CELL_BYTES = 4;
const TWO_32 = 2 ** 32;

/* ---------- building a tree ---------- */

export function fdtNode(name: string, properties: FdtProperty[] = [], children: FdtNode[] = []): FdtNode {
  return { name, properties, children };
}

/** Encode 32-bit cells, big-endian. */
function encodeCells(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * CELL_BYTES);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v >= TWO_32) throw new RangeError(`fdt: cell value ${v} is not a u32`);
    view.setUint32(i * CELL_BYTES, v);
  });
  return out;
}

/** Split a number into `count` cells, most significant first (count 1 or 2). */
function numberCells(value: number, count: number): number[] {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`fdt: ${value} is not an address or size`);
  if (count === 1) {
    if (value >= TWO_32) throw new RangeError(`fdt: ${value} does not fit in one cell`);
    return [value];
  }
  if (count === 2) return [Math.floor(value / TWO_32), value % TWO_32];
  throw new RangeError(`fdt: ${count} cells per number is not supported`);
}

/** Cells of a `reg` property: (address, size) pairs in the parent's #address-cells/#size-cells. */
function regCells(entries: readonly FdtReservation[], addressCells = 2, sizeCells = 2): number[] {
  return entries.flatMap((e) => [...numberCells(e.addr, addressCells), ...numberCells(e.size, sizeCells)]);
}

/** Cells of a `ranges` property: (child address, parent address, size) triples. */
export function rangesCells(
  entries: readonly { child: number; parent: number; size: number }[],
  childCells = 2,
  parentCells = 2,
  sizeCells = 2,
): number[] {
  return entries.flatMap((e) => [
    ...numberCells(e.child, childCells),
    ...numberCells(e.parent, parentCells),
    ...numberCells(e.size, sizeCells),
  ]);
}

export function propBytes(name: string, value: Uint8Array): FdtProperty {
  return { name, value };
}

export function propCells(name: string, cells: readonly number[]): FdtProperty {
  return { name, value: encodeCells(cells) };
}

export function propU32(name: string, value: number): FdtProperty {
  return propCells(name, [value]);
}

/** A 64-bit value as two cells (e.g. linux,initrd-start above 4 GiB). */
export function propU64(name: string, value: number): FdtProperty {
  return propCells(name, numberCells(value, 2));
}

export function propReg(entries: readonly FdtReservation[], addressCells = 2, sizeCells = 2): FdtProperty {
  return propCells("reg", regCells(entries, addressCells, sizeCells));
}

/** A boolean property: present with no value (e.g. interrupt-controller, ranges for identity). */
export function propEmpty(name: string): FdtProperty {
  return { name, value: new Uint8Array(0) };
}

export function propString(name: string, value: string): FdtProperty {
  return propStrings(name, [value]);
}

/** A string list: each string NUL-terminated, concatenated (e.g. compatible). */
export function propStrings(name: string, values: readonly string[]): FdtProperty {
  const encoder = new TextEncoder();
  const parts = values.map((v) => {
    if (v.includes("\0")) throw new RangeError(`fdt: string ${JSON.stringify(v)} contains NUL`);
    return encoder.encode(`${v}\0`);
  });
  return { name, value: concat(parts) };
}

export function propPhandle(phandle: number): FdtProperty {
  return propU32("phandle", phandle);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/* ---------- serialising ---------- */

/** Node names: spec 2.2.1, [0-9a-zA-Z,._+-] then an optional @unit-address. */
const NODE_NAME = /^[0-9a-zA-Z,._+-]+(@[0-9a-zA-Z,._+-]+)?$/;
/** Property names: spec 2.2.4. */
const PROP_NAME = /^[0-9a-zA-Z,._+?#-]+$/;

/** A growable big-endian byte buffer for the structure block. */
class BlobWriter {
  private bytes = new Uint8Array(4096);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  u32(v: number): void {
    this.reserve(CELL_BYTES);
    new DataView(this.bytes.buffer).setUint32(this.length, v);
    this.length += CELL_BYTES;
  }

  /** Raw bytes, then zero padding to the next 4-byte boundary (spec 5.4.2). */
  padded(b: Uint8Array): void {
    const n = align(b.length, CELL_BYTES);
    this.reserve(n);
    this.bytes.set(b, this.length);
    this.bytes.fill(0, this.length + b.length, this.length + n);
    this.length += n;
  }

  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** Property names, each stored once; returns offsets into the strings block. */
class StringTable {
  private readonly offsets = new Map<string, number>();
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  offsetOf(name: string): number {
    const known = this.offsets.get(name);
    if (known !== undefined) return known;
    const bytes = new TextEncoder().encode(`${name}\0`);
    const at = this.size;
    this.offsets.set(name, at);
    this.parts.push(bytes);
    this.size += bytes.length;
    return at;
  }

  result(): Uint8Array {
    return concat(this.parts);
  }
}

function writeNode(node: FdtNode, isRoot: boolean, out: BlobWriter, strings: StringTable): void {
  if (!isRoot && !NODE_NAME.test(node.name)) throw new RangeError(`fdt: bad node name ${JSON.stringify(node.name)}`);
  if (isRoot && node.name !== "") throw new RangeError("fdt: the root node's name must be empty");
  out.u32(FDT_BEGIN_NODE);
  out.padded(new TextEncoder().encode(`${node.name}\0`));
  const seen = new Set<string>();
  for (const p of node.properties) {
    if (!PROP_NAME.test(p.name)) throw new RangeError(`fdt: bad property name ${JSON.stringify(p.name)}`);
    if (seen.has(p.name)) throw new RangeError(`fdt: property ${p.name} appears twice in ${node.name || "/"}`);
    seen.add(p.name);
    out.u32(FDT_PROP);
    out.u32(p.value.length);
    out.u32(strings.offsetOf(p.name));
    out.padded(p.value);
  }
  const names = new Set<string>();
  for (const child of node.children) {
    if (names.has(child.name)) throw new RangeError(`fdt: node ${child.name} appears twice in ${node.name || "/"}`);
    names.add(child.name);
    writeNode(child, false, out, strings);
  }
  out.u32(FDT_END_NODE);
}

/**
 * Serialise a tree to a DTB v17 blob laid out as dtc does: header, memory
 * reservation block, structure block, strings block. Throws RangeError for a
 * malformed tree (a bug in the caller, not in user input).
 */
export function buildFdt(root: FdtNode, opts: FdtBuildOptions = {}): Uint8Array {
  const struct = new BlobWriter();
  const strings = new StringTable();
  writeNode(root, true, struct, strings);
  struct.u32(FDT_END);
  const structBytes = struct.result();
  const stringBytes = strings.result();
  const reserve = opts.reserve ?? [];

  const offRsvmap = HEADER_SIZE; // 8-aligned, as the spec requires
  const offStruct = offRsvmap + (reserve.length + 1) * RSV_ENTRY_SIZE;
  const offStrings = offStruct + structBytes.length;
  const totalSize = offStrings + stringBytes.length;

  const blob = new Uint8Array(totalSize);
  const view = new DataView(blob.buffer);
  view.setUint32(HDR_MAGIC, FDT_MAGIC);
  view.setUint32(HDR_TOTALSIZE, totalSize);
  view.setUint32(HDR_OFF_STRUCT, offStruct);
  view.setUint32(HDR_OFF_STRINGS, offStrings);
  view.setUint32(HDR_OFF_RSVMAP, offRsvmap);
  view.setUint32(HDR_VERSION, FDT_VERSION);
  view.setUint32(HDR_LAST_COMP, FDT_LAST_COMP_VERSION);
  view.setUint32(HDR_BOOT_CPUID, opts.bootCpuid ?? 0);
  view.setUint32(HDR_SIZE_STRINGS, stringBytes.length);
  view.setUint32(HDR_SIZE_STRUCT, structBytes.length);
  reserve.forEach((r, i) => {
    const cellsOf = [...numberCells(r.addr, 2), ...numberCells(r.size, 2)];
    blob.set(encodeCells(cellsOf), offRsvmap + i * RSV_ENTRY_SIZE);
  }); // the terminating {0, 0} entry is already zero
  blob.set(structBytes, offStruct);
  blob.set(stringBytes, offStrings);
  return blob;
}

/* ---------- reading a blob (bounded; GuestImageError on garbage) ---------- */

function bad(message: string): never {
  throw new GuestImageError(`fdt: ${message}`);
}

interface Block {
  readonly start: number;
  readonly end: number;
}

/** Parse and validate a DTB. Every offset is checked; every loop is bounded by the blob size. */
export function parseFdtBlob(blob: Uint8Array): ParsedFdt {
  if (blob.length < HEADER_SIZE) bad(`blob too short (${blob.length} bytes)`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const magic = view.getUint32(HDR_MAGIC);
  if (magic !== FDT_MAGIC) bad(`bad magic 0x${magic.toString(16)} (expected 0xd00dfeed)`);
  const totalSize = view.getUint32(HDR_TOTALSIZE);
  if (totalSize < HEADER_SIZE || totalSize > blob.length) bad(`totalsize ${totalSize} does not fit the ${blob.length}-byte blob`);
  const version = view.getUint32(HDR_VERSION);
  if (version < FDT_LAST_COMP_VERSION || view.getUint32(HDR_LAST_COMP) > FDT_VERSION) {
    bad(`unsupported version ${version} (last compatible ${view.getUint32(HDR_LAST_COMP)})`);
  }
  const struct = block(view, HDR_OFF_STRUCT, HDR_SIZE_STRUCT, totalSize, "structure");
  const strings = block(view, HDR_OFF_STRINGS, HDR_SIZE_STRINGS, totalSize, "strings");
  if (struct.start % CELL_BYTES !== 0) bad("structure block is not 4-byte aligned");
  return {
    root: readStruct(blob, view, struct, strings),
    version,
    bootCpuid: view.getUint32(HDR_BOOT_CPUID),
    reserve: readReservations(view, totalSize),
  };
}

/** The root node of a DTB (see parseFdtBlob for the header fields). */
export function parseFdt(blob: Uint8Array): FdtNode {
  return parseFdtBlob(blob).root;
}

function block(view: DataView, offField: number, sizeField: number, totalSize: number, what: string): Block {
  const start = view.getUint32(offField);
  const size = view.getUint32(sizeField);
  if (start < HEADER_SIZE || start + size > totalSize) bad(`${what} block ${start}+${size} lies outside the blob`);
  return { start, end: start + size };
}

function readReservations(view: DataView, totalSize: number): FdtReservation[] {
  const out: FdtReservation[] = [];
  const start = view.getUint32(HDR_OFF_RSVMAP);
  if (start < HEADER_SIZE || start % 8 !== 0) bad("memory reservation block is misplaced");
  for (let at = start; ; at += RSV_ENTRY_SIZE) {
    if (at + RSV_ENTRY_SIZE > totalSize) bad("memory reservation block has no terminator");
    const addr = view.getBigUint64(at);
    const size = view.getBigUint64(at + 8);
    if (addr === 0n && size === 0n) return out;
    if (addr > BigInt(Number.MAX_SAFE_INTEGER) || size > BigInt(Number.MAX_SAFE_INTEGER)) bad("reservation beyond 2^53");
    out.push({ addr: Number(addr), size: Number(size) });
  }
}

/** NUL-terminated string starting at `at`, which must end before `limit`; also its byte length. */
function cString(blob: Uint8Array, at: number, limit: number, what: string): { text: string; bytes: number } {
  const nul = blob.subarray(at, limit).indexOf(0);
  if (nul < 0) bad(`${what} is not NUL-terminated`);
  return { text: new TextDecoder().decode(blob.subarray(at, at + nul)), bytes: nul };
}

/**
 * Walk the structure block. Each token consumes at least 4 bytes, so the walk
 * ends within size_dt_struct / 4 steps; nesting is capped at MAX_DEPTH.
 */
function readStruct(blob: Uint8Array, view: DataView, struct: Block, strings: Block): FdtNode {
  const stack: FdtNode[] = [];
  let root: FdtNode | undefined;
  let at = struct.start;
  const token = (): number => {
    if (at + CELL_BYTES > struct.end) bad("structure block ends without FDT_END");
    const t = view.getUint32(at);
    at += CELL_BYTES;
    return t;
  };
  for (;;) {
    const t = token();
    if (t === FDT_NOP) continue;
    if (t === FDT_BEGIN_NODE) {
      if (root !== undefined && stack.length === 0) bad("more than one root node");
      if (stack.length >= MAX_DEPTH) bad(`nodes nest deeper than ${MAX_DEPTH}`);
      const name = cString(blob, at, struct.end, "node name");
      at = align(at + name.bytes + 1, CELL_BYTES);
      const node = fdtNode(name.text);
      if (stack.length === 0) root = node;
      else stack[stack.length - 1]!.children.push(node);
      stack.push(node);
    } else if (t === FDT_PROP) {
      const node = stack[stack.length - 1];
      if (node === undefined) bad("property outside any node");
      const len = token();
      const nameoff = token();
      if (len > struct.end - at) bad("property value runs past the structure block");
      if (nameoff >= strings.end - strings.start) bad("property name offset outside the strings block");
      const name = cString(blob, strings.start + nameoff, strings.end, "property name").text;
      node.properties.push({ name, value: blob.slice(at, at + len) });
      at = align(at + len, CELL_BYTES);
    } else if (t === FDT_END_NODE) {
      if (stack.pop() === undefined) bad("FDT_END_NODE without a node");
    } else if (t === FDT_END) {
      if (root === undefined || stack.length !== 0) bad("FDT_END inside an open node");
      return root;
    } else {
      bad(`unknown token 0x${t.toString(16)} at offset ${at - CELL_BYTES}`);
    }
  }
}

/* ---------- looking things up ---------- */

/** Node at an absolute path such as "/soc/serial@10000000", or undefined. */
export function findNode(root: FdtNode, path: string): FdtNode | undefined {
  let node: FdtNode | undefined = root;
  for (const part of path.split("/").filter((p) => p !== "")) {
    node = node.children.find((c) => c.name === part);
    if (node === undefined) return undefined;
  }
  return node;
}

export function getProp(node: FdtNode, name: string): Uint8Array | undefined {
  return node.properties.find((p) => p.name === name)?.value;
}

export function decodeCells(value: Uint8Array): number[] {
  if (value.length % CELL_BYTES !== 0) throw new GuestImageError(`fdt: ${value.length}-byte value is not a cell list`);
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return Array.from({ length: value.length / CELL_BYTES }, (_, i) => view.getUint32(i * CELL_BYTES));
}

export function decodeStrings(value: Uint8Array): string[] {
  if (value.length === 0 || value[value.length - 1] !== 0) throw new GuestImageError("fdt: value is not a string list");
  return new TextDecoder().decode(value.subarray(0, value.length - 1)).split("\0");
}

export function decodeString(value: Uint8Array): string {
  const all = decodeStrings(value);
  if (all.length !== 1) throw new GuestImageError("fdt: value holds several strings");
  return all[0]!;
}

/* ---------- printing, the way `dtc -O dts` does ---------- */

/** True when the value reads as a NUL-terminated printable string list (dtc's guess). */
function looksLikeStrings(v: Uint8Array): boolean {
  if (v.length === 0 || v[v.length - 1] !== 0 || v[0] === 0) return false;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (b === 0) {
      if (v[i - 1] === 0) return false;
    } else if (b < 0x20 || b > 0x7e) {
      return false;
    }
  }
  return true;
}

function formatValue(v: Uint8Array): string {
  if (v.length === 0) return "";
  if (looksLikeStrings(v)) return ` = ${decodeStrings(v).map((s) => JSON.stringify(s)).join(", ")}`;
  if (v.length % CELL_BYTES === 0) return ` = <${decodeCells(v).map((c) => `0x${c.toString(16)}`).join(" ")}>`;
  return ` = [${Array.from(v, (b) => b.toString(16).padStart(2, "0")).join(" ")}]`;
}

/** Device tree source text of a tree, for `popek` dumps and for reading a blob by eye. */
export function fdtToDts(root: FdtNode): string {
  const lines = ["/dts-v1/;", ""];
  const walk = (node: FdtNode, depth: number): void => {
    const pad = "\t".repeat(depth);
    lines.push(`${pad}${node.name === "" && depth === 0 ? "/" : node.name} {`);
    for (const p of node.properties) lines.push(`${pad}\t${p.name}${formatValue(p.value)};`);
    for (const c of node.children) {
      lines.push("");
      walk(c, depth + 1);
    }
    lines.push(`${pad}};`);
  };
  walk(root, 0);
  return `${lines.join("\n")}\n`;
}
