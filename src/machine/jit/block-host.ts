/*
 * The seam between the block compiler and the hart: the generated code of a
 * block (block-compiler.ts) is a `new Function` body that tsc never sees, so
 * everything it may touch is declared here, and the compiler writes every
 * member name into its source through `member`, whose name argument tsc
 * checks against these interfaces. The Hart implements BlockHost, so
 * renaming a member on either side breaks the type-check, not a running
 * block.
 */

import type { BlockRuntime } from "./block-runtime.ts";

/** The RAM views and the code-invalidation hook a block's loads and stores use (PhysMem). */
export interface BlockMemory {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i16: Int16Array;
  readonly i32: Int32Array;
  /** 1 where a RAM page has decoded instructions: a store there must call invalidateCode. */
  readonly codeMap: Uint8Array;
  invalidateCode(off: number, width: number): void;
}

/** A data TLB as a block probes it (tlb.ts). */
export interface BlockTlb {
  readonly key: Float64Array;
  readonly ramOffset: Int32Array;
  /** Where the wasm tier finds key and ramOffset in RAM's memory (tlb.ts), or -1. */
  readonly addr: number;
}

/** What a compiled block may read, write and call on its hart. */
export interface BlockHost {
  /** Registers as int32 (lo, hi) pairs (hart.ts). */
  readonly x: Int32Array;
  readonly env: { readonly mem: BlockMemory };
  /** Where the block leaves the hart: the next pc. */
  pc: number;
  /** Set by a CSR access that wants the slice to end. */
  readonly stop: boolean;
  readonly dataKey: number;
  readonly loadTlb: BlockTlb;
  readonly storeTlb: BlockTlb;
  /** The fetch TLB and its context's key: the wasm dispatcher chains across pages through them. */
  readonly fetchTlb: BlockTlb;
  readonly fetchKey: number;
  /** Virtual address of the fetch page; reset (changed) when translation changes. */
  readonly fetchBase: number;
  csrInstruction(kind: number, immediate: boolean, w0: number, imm: number, pc: number, len: number): number;
}

/**
 * A compiled block: runs from its entry with `base` the virtual address of its
 * page, `self` its own id, `dec` its decoded page, `left` the instructions the
 * slice may still execute. Returns the instructions executed, with h.pc set
 * to the next pc; or, after a trap was taken, minus the instructions executed
 * (the trapping one included) with h.pc already at the handler.
 */
export type BlockFn = (h: BlockHost, base: number, self: number, dec: Int32Array, left: number, rt: BlockRuntime) => number;

/** BlockFn's parameter names, as the generated body refers to them (same order as BlockFn). */
export const BLOCK_PARAMS = ["h", "base", "self", "dec", "left", "rt"] as const;

/** `object.name` for generated source, with `name` checked by tsc against the members of T. */
export function member<T>(object: string, name: keyof T & string): string {
  return `${object}.${name}`;
}
