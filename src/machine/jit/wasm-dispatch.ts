/*
 * The wasm tier's one entry point: a wasm function that runs a compiled
 * block through the shared function table, then the block its next pc
 * starts, for as long as that is a wasm block of the same page with room in
 * the budget. One call from JS (enter.ts) at a monomorphic call site, where
 * V8 inlines the JS-to-wasm transition, instead of one call per block
 * through the generic wrapper.
 *
 * The page's block map (wasm-arena.ts) names the wasm block at each slot
 * (0: none): the tier keeps it as blocks are compiled and dropped, so a
 * dropped block is never chained to.
 *
 * run(id, regs, base, left, ldTlb, stTlb, dataKey, map) -> executed;
 * the next pc is in the hart's pc cell, as after one block.
 */

import { PAGE_SIZE } from "../memlayout.ts";
import { PC_CELL_OFFSET } from "./wasm-arena.ts";
import { BLOCK_TYPE } from "./wasm-compiler.ts";
import { Bytes, T, VOID, W, encodeModule } from "./wasm-encoder.ts";

export type DispatchFn = (id: number, regs: number, base: number, left: number, ldTlb: number, stTlb: number, dataKey: number, map: number) => number;

const DISPATCH_TYPE = { params: [T.i32, T.i32, T.f64, T.i32, T.i32, T.i32, T.f64, T.i32], results: [T.i32] };
const A_ID = 0, A_REGS = 1, A_BASE = 2, A_LEFT = 3, A_LD = 4, A_ST = 5, A_KEY = 6, A_MAP = 7;
const L_TOTAL = 8, L_R = 9, L_D = 10;

/** The dispatcher's module, over a shared memory of `memoryPages` pages and a table of at least `tableMin` entries. */
export function dispatchModule(memoryPages: number, tableMin: number): Uint8Array {
  const b = new Bytes();
  const get = (l: number): Bytes => b.byte(W.localGet).u32(l);
  const returnTotal = (): void => void get(L_TOTAL).byte(W.return);
  b.byte(W.loop).byte(VOID);
  get(A_REGS); get(A_BASE); get(A_LEFT); get(L_TOTAL).byte(W.i32Sub); get(A_LD); get(A_ST); get(A_KEY); get(A_ID);
  b.byte(W.callIndirect).u32(0).u32(0);
  b.byte(W.localTee).u32(L_R).byte(W.i32Eqz).byte(W.if).byte(VOID);
  returnTotal();
  b.byte(W.end);
  get(L_TOTAL); get(L_R).byte(W.i32Add).byte(W.localSet).u32(L_TOTAL);
  get(A_MAP).byte(W.i32Eqz).byte(W.if).byte(VOID);
  returnTotal();
  b.byte(W.end);
  // d = next pc - base: on this page when 0 <= d < PAGE_SIZE.
  get(A_REGS).byte(W.f64Load).u32(3).u32(PC_CELL_OFFSET);
  get(A_BASE).byte(W.f64Sub).byte(W.localTee).u32(L_D);
  b.byte(W.f64Const).f64(0).byte(W.f64Ge);
  get(L_D).byte(W.f64Const).f64(PAGE_SIZE).byte(W.f64Lt).byte(W.i32And).byte(W.i32Eqz).byte(W.if).byte(VOID);
  returnTotal();
  b.byte(W.end);
  // id = map[d / 2]; chain while it names a block.
  get(L_D).byte(W.i32TruncF64S).byte(W.i32Const).s32(1).byte(W.i32ShrU).byte(W.i32Const).s32(2).byte(W.i32Shl);
  get(A_MAP).byte(W.i32Add).byte(W.i32Load).u32(2).u32(0).byte(W.localTee).u32(A_ID);
  b.byte(W.i32Const).s32(0).byte(W.i32GtS).byte(W.brIf).u32(0);
  b.byte(W.end);
  get(L_TOTAL);
  return encodeModule({
    types: [BLOCK_TYPE, DISPATCH_TYPE],
    imports: [],
    memoryPages: { min: memoryPages, max: memoryPages },
    table: tableMin,
    funcs: [{ type: 1, locals: [T.i32, T.i32, T.f64], body: b, exportName: "run" }],
  });
}
