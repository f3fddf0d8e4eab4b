/*
 * A minimal WebAssembly binary writer, just enough for the wasm block tier
 * (wasm-compiler.ts): one module with one imported shared memory, imported
 * functions, and exported functions whose bodies are raw instruction bytes.
 * Layout and opcodes: WebAssembly Core Specification 2.0, chapter 5
 * ("Binary Format"); integers are LEB128 (5.2.2).
 */

/** Opcodes the block tier emits (spec 5.4). */
export const W = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, brTable: 0x0e, return: 0x0f,
  call: 0x10, callIndirect: 0x11, drop: 0x1a,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i64Load: 0x29, f64Load: 0x2b,
  i64Load8S: 0x30, i64Load8U: 0x31, i64Load16S: 0x32, i64Load16U: 0x33, i64Load32S: 0x34, i64Load32U: 0x35,
  i32Load8U: 0x2d,
  i64Store: 0x37, f64Store: 0x39, i64Store8: 0x3c, i64Store16: 0x3d, i64Store32: 0x3e,
  i32Const: 0x41, i64Const: 0x42, f64Const: 0x44,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtS: 0x48, i32GtS: 0x4a, i32LeS: 0x4c,
  i64Eqz: 0x50, i64Eq: 0x51, i64Ne: 0x52, i64LtS: 0x53, i64LtU: 0x54, i64GtS: 0x55, i64GtU: 0x56, i64LeS: 0x57, i64LeU: 0x58, i64GeS: 0x59, i64GeU: 0x5a,
  f64Ne: 0x62, f64Lt: 0x63, f64Ge: 0x66,
  i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Or: 0x72, i32Shl: 0x74, i32ShrS: 0x75, i32ShrU: 0x76,
  i64Add: 0x7c, i64Sub: 0x7d, i64Mul: 0x7e, i64DivS: 0x7f, i64DivU: 0x80, i64RemS: 0x81, i64RemU: 0x82,
  i64And: 0x83, i64Or: 0x84, i64Xor: 0x85, i64Shl: 0x86, i64ShrS: 0x87, i64ShrU: 0x88,
  f64Add: 0xa0, f64Sub: 0xa1,
  i32WrapI64: 0xa7, i32TruncF64S: 0xaa, i64ExtendI32S: 0xac, i64ExtendI32U: 0xad, i64TruncF64S: 0xb0, f64ConvertI32U: 0xb8, f64ConvertI64S: 0xb9,
  i64Extend32S: 0xc4,
} as const;

/** Value types (spec 5.3.1). */
export const T = { i32: 0x7f, i64: 0x7e, f64: 0x7c } as const;
/** A block with no result (spec 5.4.1 blocktype). */
export const VOID = 0x40;

/** A growable byte sink with the spec's integer encodings. */
export class Bytes {
  private buf = new Uint8Array(2048);
  length = 0;

  byte(b: number): this {
    if (this.length === this.buf.length) this.grow(1);
    this.buf[this.length++] = b;
    return this;
  }

  private grow(need: number): void {
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + need));
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }

  /** Unsigned LEB128 of a non-negative integer below 2^32. */
  u32(v: number): this {
    let x = v >>> 0;
    do {
      const b = x & 0x7f;
      x >>>= 7;
      this.byte(x !== 0 ? b | 0x80 : b);
    } while (x !== 0);
    return this;
  }

  /** Signed LEB128 of an int32. */
  s32(v: number): this {
    let x = v | 0;
    for (;;) {
      const b = x & 0x7f;
      x >>= 7;
      const done = (x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  /** Signed LEB128 of an int64 given as a safe integer (no bigint arithmetic: the compiler's common case). */
  s64n(v: number): this {
    if ((v | 0) === v) return this.s32(v); // the same bytes, without float arithmetic
    if (!Number.isSafeInteger(v)) throw new RangeError(`wasm encoder: ${v} is not a safe integer`);
    let x = v;
    for (;;) {
      const b = ((x % 128) + 128) % 128;
      x = Math.floor(x / 128);
      const done = (x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  /** Signed LEB128 of an int64 given as a bigint. */
  s64(v: bigint): this {
    let x = BigInt.asIntN(64, v);
    for (;;) {
      const b = Number(x & 0x7fn);
      x >>= 7n;
      const done = (x === 0n && (b & 0x40) === 0) || (x === -1n && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  /** An f64's 8 bytes, little-endian (spec 5.2.3). */
  f64(v: number): this {
    return this.bytes(new Uint8Array(new Float64Array([v]).buffer));
  }

  bytes(src: Uint8Array | readonly number[]): this {
    if (this.length + src.length > this.buf.length) this.grow(src.length);
    this.buf.set(src, this.length);
    this.length += src.length;
    return this;
  }

  /** A vector's or section's contents, prefixed with their byte length. */
  sized(inner: Bytes): this {
    this.u32(inner.length);
    return this.bytes(inner.view());
  }

  name(s: string): this {
    this.u32(s.length);
    for (let k = 0; k < s.length; k++) this.byte(s.charCodeAt(k));
    return this;
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** A function type: parameter and result value types. */
interface FuncType {
  readonly params: readonly number[];
  readonly results: readonly number[];
}

/** One exported function: its type (index into ModuleSpec.types), locals by type, and body (without the final `end`). */
export interface FuncSpec {
  readonly type: number;
  readonly locals: readonly number[];
  readonly body: Bytes;
  readonly exportName: string;
}

export interface ModuleSpec {
  readonly types: readonly FuncType[];
  /** Imported functions (module "e"), in order: their indices come before the module's own. */
  readonly imports: readonly { readonly name: string; readonly type: number }[];
  /** The shared memory, imported as e.mem with these limits in 64 KiB pages. */
  readonly memoryPages: { readonly min: number; readonly max: number };
  /** A function table imported as e.tab with this minimum size, when the module calls through one. */
  readonly table?: number;
  readonly funcs: readonly FuncSpec[];
}

function section(out: Bytes, id: number, inner: Bytes): void {
  out.byte(id).sized(inner);
}

/** The module's binary (spec 5.5). */
export function encodeModule(spec: ModuleSpec): Uint8Array {
  const out = new Bytes().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const types = new Bytes().u32(spec.types.length);
  for (const t of spec.types) {
    types.byte(0x60).u32(t.params.length).bytes(t.params).u32(t.results.length).bytes(t.results);
  }
  section(out, 1, types);
  const imports = new Bytes().u32(spec.imports.length + 1 + (spec.table !== undefined ? 1 : 0));
  for (const im of spec.imports) imports.name("e").name(im.name).byte(0x00).u32(im.type);
  // Table import: funcref (0x70), limits with a minimum only.
  if (spec.table !== undefined) imports.name("e").name("tab").byte(0x01).byte(0x70).byte(0x00).u32(spec.table);
  // Memory import: limits flag 0x03 = shared with a maximum (threads proposal, now in the 2.0+ spec).
  imports.name("e").name("mem").byte(0x02).byte(0x03).u32(spec.memoryPages.min).u32(spec.memoryPages.max);
  section(out, 2, imports);
  const funcs = new Bytes().u32(spec.funcs.length);
  for (const f of spec.funcs) funcs.u32(f.type);
  section(out, 3, funcs);
  const exports = new Bytes().u32(spec.funcs.length);
  spec.funcs.forEach((f, k) => exports.name(f.exportName).byte(0x00).u32(spec.imports.length + k));
  section(out, 7, exports);
  const code = new Bytes().u32(spec.funcs.length);
  for (const f of spec.funcs) {
    const body = new Bytes();
    // Locals as runs of one type (spec 5.5.13).
    const runs: [number, number][] = [];
    for (const t of f.locals) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    body.u32(runs.length);
    for (const [n, t] of runs) body.u32(n).byte(t);
    body.bytes(f.body.view()).byte(W.end);
    code.sized(body);
  }
  section(out, 10, code);
  return out.view().slice();
}
