/*
 * The wasm tier's one entry point: a wasm function that runs a compiled
 * block through the shared function table, then the block its next pc
 * starts, for as long as that is a wasm block with room in the budget — on
 * the same page, or on another one the fetch TLB already maps. One call
 * from JS (enter.ts) at a monomorphic call site, where V8 inlines the
 * JS-to-wasm transition, instead of one call per block through the generic
 * wrapper, and no trip through the interpreter's fetchPage between pages.
 *
 * A page's block map (wasm-arena.ts) names the wasm block at each slot
 * (0: none): the tier keeps it as blocks are compiled and dropped, so a
 * dropped block is never chained to. A fetch TLB entry exists only for a
 * page this context may execute (tlb.ts: permissions are checked at fill),
 * exactly as the interpreter's fetchPage relies on.
 *
 * run(id, regs, base, left, ldTlb, stTlb, dataKey, map, fetchTlb, fetchKey) -> executed;
 * the next pc is in the hart's pc cell, as after one block. map or
 * fetchTlb 0 / -1: no chaining within the page / across pages.
 */

import { PAGE_SIZE } from "../memlayout.ts";
import { TLB_ENTRIES, TLB_MASK } from "../tlb.ts";
import { PC_CELL_OFFSET } from "./wasm-arena.ts";
import { BLOCK_TYPE } from "./wasm-compiler.ts";
import { Bytes, T, VOID, W, encodeModule } from "./wasm-encoder.ts";

export type DispatchFn = (
  id: number, regs: number, base: number, left: number, ldTlb: number, stTlb: number, dataKey: number, map: number, fetchTlb: number, fetchKey: number,
) => number;

const DISPATCH_TYPE = { params: [T.i32, T.i32, T.f64, T.i32, T.i32, T.i32, T.f64, T.i32, T.i32, T.f64], results: [T.i32] };
const A_ID = 0, A_REGS = 1, A_BASE = 2, A_LEFT = 3, A_LD = 4, A_ST = 5, A_KEY = 6, A_MAP = 7, A_FT = 8, A_FKEY = 9;
const L_TOTAL = 10, L_R = 11, L_D = 12, L_VPN = 13, L_PC = 14;
const LOCALS = [T.i32, T.i32, T.f64, T.i32, T.i64];

/** The dispatcher's module, over a shared memory of `memoryPages` pages and a table of at least `tableMin` entries; `pageMap`: its byte address. */
export function dispatchModule(memoryPages: number, tableMin: number, pageMap: number): Uint8Array {
  const b = new Bytes();
  const get = (l: number): Bytes => b.byte(W.localGet).u32(l);
  const set = (l: number): Bytes => b.byte(W.localSet).u32(l);
  const tee = (l: number): Bytes => b.byte(W.localTee).u32(l);
  const i32 = (v: number): Bytes => b.byte(W.i32Const).s32(v);
  const i64 = (v: number): Bytes => b.byte(W.i64Const).s64n(v);
  /** if (top of stack) return total */
  const returnIf = (): void => void b.byte(W.if).byte(VOID).byte(W.localGet).u32(L_TOTAL).byte(W.return).byte(W.end);
  b.byte(W.loop).byte(VOID);
  get(A_REGS); get(A_BASE); get(A_LEFT); get(L_TOTAL).byte(W.i32Sub); get(A_LD); get(A_ST); get(A_KEY); get(A_ID);
  b.byte(W.callIndirect).u32(0).u32(0);
  tee(L_R).byte(W.i32Eqz);
  returnIf();
  get(L_TOTAL); get(L_R).byte(W.i32Add); set(L_TOTAL);
  // d = next pc - base: on this page when 0 <= d < PAGE_SIZE.
  get(A_REGS).byte(W.f64Load).u32(3).u32(PC_CELL_OFFSET);
  get(A_BASE).byte(W.f64Sub); tee(L_D);
  b.byte(W.f64Const).f64(0).byte(W.f64Ge);
  get(L_D).byte(W.f64Const).f64(PAGE_SIZE).byte(W.f64Lt).byte(W.i32And).byte(W.i32Eqz);
  b.byte(W.if).byte(VOID);
  {
    // Another page: through the fetch TLB to its frame, then the frame's block map.
    get(A_FT); i32(0).byte(W.i32LtS);
    returnIf();
    get(A_REGS).byte(W.f64Load).u32(3).u32(PC_CELL_OFFSET).byte(W.i64TruncF64S); set(L_PC);
    // Canonical (bits 63..38 equal), as the interpreter's fetchPage requires for a TLB hit.
    get(L_PC); i64(25).byte(W.i64Shl); i64(25).byte(W.i64ShrS); get(L_PC).byte(W.i64Ne);
    returnIf();
    get(L_PC); i64(12).byte(W.i64ShrU).byte(W.i32WrapI64); i32(0x7ffffff).byte(W.i32And); set(L_VPN);
    get(L_VPN); i32(TLB_MASK).byte(W.i32And); i32(3).byte(W.i32Shl); get(A_FT).byte(W.i32Add).byte(W.f64Load).u32(3).u32(0);
    get(L_VPN).byte(W.f64ConvertI32U); get(A_FKEY).byte(W.f64Add).byte(W.f64Ne);
    returnIf();
    // map = pageMap[frame >>> 12]
    get(L_VPN); i32(TLB_MASK).byte(W.i32And); i32(2).byte(W.i32Shl); get(A_FT).byte(W.i32Add).byte(W.i32Load).u32(2).u32(TLB_ENTRIES * 8);
    i32(12).byte(W.i32ShrU); i32(2).byte(W.i32Shl).byte(W.i32Load).u32(2).u32(pageMap); tee(A_MAP).byte(W.i32Eqz);
    returnIf();
    // base = pc with its page offset cleared; d = the page offset.
    get(L_PC); i64(-PAGE_SIZE).byte(W.i64And).byte(W.f64ConvertI64S); set(A_BASE);
    get(L_PC); i64(PAGE_SIZE - 1).byte(W.i64And).byte(W.f64ConvertI64S); set(L_D);
  }
  b.byte(W.end);
  get(A_MAP).byte(W.i32Eqz);
  returnIf();
  // id = map[d / 2]; chain while it names a block.
  get(L_D).byte(W.i32TruncF64S); i32(1).byte(W.i32ShrU); i32(2).byte(W.i32Shl);
  get(A_MAP).byte(W.i32Add).byte(W.i32Load).u32(2).u32(0); tee(A_ID);
  i32(0).byte(W.i32GtS).byte(W.brIf).u32(0);
  b.byte(W.end);
  get(L_TOTAL);
  return encodeModule({
    types: [BLOCK_TYPE, DISPATCH_TYPE],
    imports: [],
    memoryPages: { min: memoryPages, max: memoryPages },
    table: tableMin,
    funcs: [{ type: 1, locals: LOCALS, body: b, exportName: "run" }],
  });
}
