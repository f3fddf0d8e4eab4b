/*
 * The wasm block tier's binary writer (src/machine/jit/wasm-encoder.ts):
 * LEB128 as the WebAssembly spec (5.2.2) gives it, and a module V8 accepts.
 */

import { describe, expect, it } from "vitest";
import { Bytes, T, W, encodeModule } from "../../src/machine/jit/wasm-encoder.ts";

const hex = (b: Bytes): string => Buffer.from(b.view()).toString("hex");

describe("LEB128 (spec 5.2.2)", () => {
  it.each([
    [0, "00"], [127, "7f"], [128, "8001"], [624485, "e58e26"], [0xffffffff, "ffffffff0f"],
  ])("u32 %i is %s", (v, want) => expect(hex(new Bytes().u32(v))).toBe(want));

  it.each([
    [0, "00"], [63, "3f"], [64, "c000"], [-1, "7f"], [-64, "40"], [-65, "bf7f"], [-123456, "c0bb78"],
    [0x7fffffff, "ffffffff07"], [-0x80000000, "8080808078"],
  ])("s32 %i is %s", (v, want) => expect(hex(new Bytes().s32(v))).toBe(want));

  it.each([0, 1, -1, 63, 64, -64, -65, 4096, -4096, 2 ** 31, -(2 ** 31) - 1, 2 ** 40 + 5, -(2 ** 52), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER])(
    "s64n %i encodes as s64 does",
    (v) => expect(hex(new Bytes().s64n(v))).toBe(hex(new Bytes().s64(BigInt(v)))),
  );

  it("s64 of the int64 extremes", () => {
    expect(hex(new Bytes().s64(-(2n ** 63n)))).toBe("8080808080808080807f");
    expect(hex(new Bytes().s64(2n ** 63n - 1n))).toBe("ffffffffffffffffff00");
  });

  it("s64n refuses a number it cannot encode exactly", () => {
    expect(() => new Bytes().s64n(2 ** 60)).toThrow(/not a safe integer/);
  });
});

describe("encodeModule", () => {
  it("builds a module V8 compiles and runs: i64 arithmetic over the imported shared memory", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    // (func (param i32) (result i32)) storing 2^40 + 7 at the address and returning its low word's load.
    const body = new Bytes();
    body.byte(W.localGet).u32(0).byte(W.i64Const).s64n(2 ** 40 + 7).byte(W.i64Store).u32(3).u32(0);
    body.byte(W.localGet).u32(0).byte(W.i32Load).u32(2).u32(0);
    const bytes = encodeModule({
      types: [{ params: [T.i32], results: [T.i32] }],
      imports: [],
      memoryPages: { min: 1, max: 1 },
      funcs: [{ type: 0, locals: [], body, exportName: "f" }],
    });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { e: { mem: memory } });
    const f = instance.exports.f as (at: number) => number;
    expect(f(16)).toBe(7);
    expect(new Int32Array(memory.buffer)[5]).toBe(256);
  });
});
