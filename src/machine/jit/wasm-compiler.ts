/*
 * The wasm block tier: a region of predecoded instructions (a hot block and
 * the blocks of its page it reaches, wasm-region.ts) becomes one
 * WebAssembly function over RAM's own memory, compiled by V8's Liftoff in
 * one fast pass (the JS tier's `new Function` is parsed, then runs in V8's
 * bytecode and baseline tiers until TurboFan gets to it). 64-bit registers
 * are i64 locals, so add, shift, compare and mul are single instructions.
 *
 * Same contract as the JS tier (block-compiler.ts), ops permitting:
 *   - registers: the region loads those it uses from the hart's register file
 *     (in the arena, wasm-arena.ts) and stores back those it writes at its one
 *     exit; the next pc goes to the pc cell after the register file. Between
 *     its blocks they stay in locals.
 *   - a load or store probes the hart's data TLB (also in the arena) inline;
 *     anything off that path (a miss, misalignment, a non-canonical address)
 *     leaves the block before the instruction, for the interpreter.
 *   - a store into a page with decoded code calls back into PhysMem's
 *     invalidateCode and leaves the block after the store.
 *   - no instruction traps inside a block (jalr's target check leaves first),
 *     and control goes on to another block of the region only while the
 *     slice budget has room for all of it, so a region never overshoots.
 * CSR instructions are not compiled here: a block ends before one (the JS
 * tier takes blocks that start with one).
 *
 * The function: (regs i32, base f64, left i32, ldTlb i32, stTlb i32,
 * dataKey f64) -> executed i32; see WasmBlockFn.
 */

import { OP, X0_SINK } from "../../isa/ops.ts";
import { TLB_ENTRIES, TLB_MASK } from "../tlb.ts";
import type { Insn } from "./block-compiler.ts";
import { registerUse } from "./register-use.ts";
import type { RegionBlock } from "./wasm-region.ts";
import { PC_CELL_OFFSET } from "./wasm-arena.ts";
import { Bytes, T, VOID, W, encodeModule, type FuncSpec } from "./wasm-encoder.ts";

/**
 * A compiled wasm block: runs with the hart's register file at byte `regs`,
 * `base` the virtual address of its page, `left` the instructions the slice
 * may still execute, the data TLBs at byte ldTlb/stTlb, and the data
 * context's ASID key. Returns the instructions executed (0: it left before
 * its first one) and leaves the next pc in the pc cell.
 */
export type WasmBlockFn = (regs: number, base: number, left: number, ldTlb: number, stTlb: number, dataKey: number) => number;

/** The ops this tier compiles. */
export { BLOCK_TYPE };

export const WASM_OPS: ReadonlySet<number> = new Set<number>([
  OP.lui, OP.auipc, OP.jal, OP.jalr, OP.beq, OP.bne, OP.blt, OP.bge, OP.bltu, OP.bgeu,
  OP.lb, OP.lh, OP.lw, OP.ld, OP.lbu, OP.lhu, OP.lwu, OP.sb, OP.sh, OP.sw, OP.sd,
  OP.addi, OP.slti, OP.sltiu, OP.xori, OP.ori, OP.andi, OP.slli, OP.srli, OP.srai,
  OP.add, OP.sub, OP.sll, OP.slt, OP.sltu, OP.xor, OP.srl, OP.sra, OP.or, OP.and,
  OP.addiw, OP.slliw, OP.srliw, OP.sraiw, OP.addw, OP.subw, OP.sllw, OP.srlw, OP.sraw,
  OP.fence, OP.mul, OP.mulh, OP.mulhsu, OP.mulhu, OP.div, OP.divu, OP.rem, OP.remu,
  OP.mulw, OP.divw, OP.divuw, OP.remw, OP.remuw,
]);

const BRANCHES = new Set<number>([OP.beq, OP.bne, OP.blt, OP.bge, OP.bltu, OP.bgeu]);

// Parameters, then locals (their order is the declaration below).
const P_REGS = 0, P_BASE = 1, P_LEFT = 2, P_LD = 3, P_ST = 4, P_KEY = 5;
const L_DONE = 6, L_RET = 7, L_O = 8, L_VPN = 9, L_STATE = 10;
const L_A = 11, L_NPC = 12, L_B64 = 13, L_T0 = 14, L_T1 = 15, L_T2 = 16, L_T3 = 17, L_SINK = 18;
const FIRST_REG_LOCAL = 19;
const FIXED_LOCALS = [T.i32, T.i32, T.i32, T.i32, T.i32, T.i64, T.i64, T.i64, T.i64, T.i64, T.i64, T.i64, T.i64];

const BLOCK_TYPE = { params: [T.i32, T.f64, T.i32, T.i32, T.i32, T.f64], results: [T.i32] };
const INV_TYPE = { params: [T.i32, T.i32], results: [] };
const I32_DIV_S = 0x6d, I32_DIV_U = 0x6e, I32_REM_S = 0x6f, I32_REM_U = 0x70;
const INT64_MIN = -(2n ** 63n);

/** The body of one region function, with its open labels named for `br`. */
class Emitter {
  readonly out = new Bytes();
  /** The labels open, outermost first: "out" (the one exit), "top" (the block switch's loop), or none. */
  private readonly labels: string[] = [];
  /** The local of each register word the region uses. */
  readonly regLocal = new Map<number, number>();

  /** `index`: each block's position by its page offset; `lens`: each block's instructions. */
  constructor(readonly index: ReadonlyMap<number, number>, readonly lens: readonly number[]) {}

  /** One opcode byte, or two (no rest parameter: the encoder calls this for every wasm instruction). */
  op(code: number, next = -1): this {
    this.out.byte(code);
    if (next >= 0) this.out.byte(next);
    return this;
  }
  get(l: number): this {
    return this.op(W.localGet).idx(l);
  }
  set(l: number): this {
    return this.op(W.localSet).idx(l);
  }
  tee(l: number): this {
    return this.op(W.localTee).idx(l);
  }
  idx(n: number): this {
    this.out.u32(n);
    return this;
  }
  i32(v: number): this {
    this.out.byte(W.i32Const).s32(v);
    return this;
  }
  i64(v: number | bigint): this {
    this.out.byte(W.i64Const);
    if (typeof v === "bigint") this.out.s64(v);
    else this.out.s64n(v);
    return this;
  }
  /** A load or store with alignment hint 2^align and a constant offset. */
  mem(code: number, align: number, offset: number): this {
    this.out.byte(code).u32(align).u32(offset);
    return this;
  }
  open(code: number, type: number = VOID, label = ""): this {
    this.labels.push(label);
    return this.op(code, type);
  }
  close(): this {
    this.labels.pop();
    return this.op(W.end);
  }
  /** Branches (`br` or `br_if`) to the label named `label`. */
  br(label: string, code: number = W.br): this {
    const at = this.labels.lastIndexOf(label);
    if (at < 0) throw new Error(`wasm block: no label ${label} open`);
    return this.op(code).idx(this.labels.length - 1 - at);
  }

  /** Pushes register word w's value (x0 reads as 0). */
  reg(w: number): this {
    if (w === 0) return this.i64(0);
    return this.get(this.local(w));
  }
  /** Pops into register word w (x0's sink is a local never stored). */
  setReg(w: number): this {
    return this.set(w === X0_SINK ? L_SINK : this.local(w));
  }
  private local(w: number): number {
    const l = this.regLocal.get(w);
    if (l === undefined) throw new Error(`wasm block: register word ${w} has no local`);
    return l;
  }

  /** Leaves the region after instruction k of the current block, the next pc at page offset `next`. */
  leave(next: number, k: number): this {
    this.get(L_B64).i64(next).op(W.i64Add).set(L_NPC);
    return this.done(k).set(L_RET).br("out");
  }

  /** Pushes the instructions run so far: the blocks before this one, and k of this one. */
  done(k: number): this {
    return k === 0 ? this.get(L_DONE) : this.get(L_DONE).i32(k).op(W.i32Add);
  }

  /**
   * Control goes to page offset `target` after instruction k of the current
   * block: to that block of the region when there is one and the budget
   * has room for all of it (a block never overshoots the slice), else out.
   */
  goTo(target: number, k: number): this {
    const j = this.index.get(target);
    if (j === undefined) return this.leave(target, k);
    this.done(k).tee(L_DONE).i32(this.lens[j]).op(W.i32Add).get(P_LEFT).op(W.i32LeS);
    this.open(W.if).i32(j).set(L_STATE).br("top").close();
    return this.leave(target, 0);
  }
}

/**
 * The function for the region `blocks` (wasm-region.ts; entered at the first
 * one's start); `codeMap` is RAM's codeMap's byte address. The blocks are
 * the cases of a switch on L_STATE inside a loop, so a jump between them is
 * a `br` with the registers still in locals:
 *
 *   block $out  loop $top  block .. block  br_table(L_STATE)  end <block 0>  end <block 1> ..  end  end
 */
export function wasmBlockFunc(blocks: readonly RegionBlock[], codeMap: number, exportName: string): FuncSpec {
  const e = new Emitter(new Map(blocks.map((b, j) => [b.start, j])), blocks.map((b) => b.insns.length));
  const { used, written } = registerUse(blocks.flatMap((b) => b.insns));
  const locals = [...FIXED_LOCALS];
  for (const w of used) {
    e.regLocal.set(w, FIRST_REG_LOCAL + e.regLocal.size);
    locals.push(T.i64);
  }
  const entry = blocks[0].start;
  // Prologue: base as an i64; no pass when the budget has no room for the first block (the dispatcher runs
  // blocks without the JS door's check); the used registers into locals.
  e.get(P_BASE).op(W.i64TruncF64S).set(L_B64);
  e.get(P_LEFT).i32(e.lens[0]).op(W.i32LtS).op(W.if, VOID);
  e.get(P_REGS).get(L_B64).i64(entry).op(W.i64Add).op(W.f64ConvertI64S).mem(W.f64Store, 3, PC_CELL_OFFSET).i32(0).op(W.return, W.end);
  for (const [w, l] of e.regLocal) e.get(P_REGS).mem(W.i64Load, 3, w * 4).set(l);
  e.open(W.block, VOID, "out").open(W.loop, VOID, "top");
  for (let j = blocks.length - 1; j >= 0; j--) e.open(W.block);
  e.get(L_STATE).op(W.brTable).idx(blocks.length);
  for (let j = 0; j < blocks.length; j++) e.idx(j);
  e.idx(blocks.length - 1);
  for (const block of blocks) {
    e.close();
    const { insns, end } = block;
    insns.forEach((insn, k) => emitInsn(e, insn, k + 1, codeMap));
    // A block cut at its length limit or before an op left to the interpreter goes on at `end`.
    const last = insns[insns.length - 1];
    if (!BRANCHES.has(last.op) && last.op !== OP.jal && last.op !== OP.jalr) e.goTo(end, insns.length);
  }
  e.close().close();
  // Epilogue: written registers back, the next pc into the pc cell, the count returned.
  for (const w of written) e.get(P_REGS).reg(w).mem(W.i64Store, 3, w * 4);
  e.get(P_REGS).get(L_NPC).op(W.f64ConvertI64S).mem(W.f64Store, 3, PC_CELL_OFFSET);
  e.get(L_RET);
  return { type: 0, locals, body: e.out, exportName };
}

/** A module of block functions over a shared memory of `memoryPages` pages, importing the code-invalidation hook. */
export function wasmBlockModule(funcs: readonly FuncSpec[], memoryPages: number): Uint8Array {
  return encodeModule({
    types: [BLOCK_TYPE, INV_TYPE],
    imports: [{ name: "inv", type: 1 }],
    memoryPages: { min: memoryPages, max: memoryPages },
    funcs,
  });
}

/**
 * Leaves L_O = the RAM offset of x[rs1] + imm through the TLB at local `tlb`,
 * or leaves the block before instruction k when that is off the fast path
 * (non-canonical, a miss, misaligned for `width`).
 */
function probe(e: Emitter, i: Insn, k: number, tlb: number, width: number): void {
  e.open(W.block); // $fast
  e.open(W.block); // $slow
  e.reg(i.rs1).i64(i.imm).op(W.i64Add).set(L_A);
  // Canonical: bits 63..38 all equal.
  e.get(L_A).i64(25).op(W.i64Shl).i64(25).op(W.i64ShrS).get(L_A).op(W.i64Ne).op(W.brIf).idx(0);
  e.get(L_A).i64(12).op(W.i64ShrU).op(W.i32WrapI64).i32(0x7ffffff).op(W.i32And).set(L_VPN);
  // key[vpn & mask] === vpn + dataKey
  e.get(L_VPN).i32(TLB_MASK).op(W.i32And).i32(3).op(W.i32Shl).get(tlb).op(W.i32Add).mem(W.f64Load, 3, 0);
  e.get(L_VPN).op(W.f64ConvertI32U).get(P_KEY).op(W.f64Add).op(W.f64Ne).op(W.brIf).idx(0);
  // o = ramOffset[vpn & mask] + (address & 0xfff)
  e.get(L_VPN).i32(TLB_MASK).op(W.i32And).i32(2).op(W.i32Shl).get(tlb).op(W.i32Add).mem(W.i32Load, 2, TLB_ENTRIES * 8);
  e.get(L_A).op(W.i32WrapI64).i32(0xfff).op(W.i32And).op(W.i32Add).tee(L_O);
  if (width > 1) e.i32(width - 1).op(W.i32And).op(W.brIf).idx(0);
  else e.op(W.drop);
  e.op(W.br).idx(1);
  e.close();
  e.leave(i.po, k - 1);
  e.close();
}

function load(e: Emitter, i: Insn, k: number, width: number, code: number, align: number): void {
  probe(e, i, k, P_LD, width);
  e.get(L_O).mem(code, align, 0).setReg(i.rd);
}

/** A store on the fast path; into a page with decoded code it tells PhysMem and leaves after itself. */
function store(e: Emitter, i: Insn, k: number, width: number, code: number, align: number, codeMap: number): void {
  probe(e, i, k, P_ST, width);
  e.get(L_O).reg(i.rs2).mem(code, align, 0);
  e.get(L_O).i32(12).op(W.i32ShrU).mem(W.i32Load8U, 0, codeMap);
  e.open(W.if);
  e.get(L_O).i32(width).op(W.call).idx(0);
  e.leave(i.po + i.len, k);
  e.close();
}

/** Pops b, a (in that order pushed a, b) and pushes the high 64 bits of their unsigned 128-bit product. */
function mulhu(e: Emitter): void {
  e.set(L_T1).set(L_T0); // T0 = a, T1 = b
  const lo = (l: number): void => void e.get(l).i64(0xffffffff).op(W.i64And);
  const hi = (l: number): void => void e.get(l).i64(32).op(W.i64ShrU);
  // T2 = a_hi*b_lo + ((a_lo*b_lo) >>> 32)
  hi(L_T0); lo(L_T1); e.op(W.i64Mul);
  lo(L_T0); lo(L_T1); e.op(W.i64Mul).i64(32).op(W.i64ShrU).op(W.i64Add).set(L_T2);
  // T3 = a_lo*b_hi + (T2 & 0xffffffff)
  lo(L_T0); hi(L_T1); e.op(W.i64Mul);
  lo(L_T2); e.op(W.i64Add).set(L_T3);
  // a_hi*b_hi + (T2 >>> 32) + (T3 >>> 32)
  hi(L_T0); hi(L_T1); e.op(W.i64Mul);
  hi(L_T2); e.op(W.i64Add);
  hi(L_T3); e.op(W.i64Add);
}

/** rd = a op b for RV's division ops, with the spec's results for a zero divisor and overflow (unpriv spec 13.2). */
function division(e: Emitter, i: Insn): void {
  const a = (): Emitter => e.reg(i.rs1);
  const b = (): Emitter => e.reg(i.rs2);
  const a32 = (): Emitter => a().op(W.i32WrapI64);
  const b32 = (): Emitter => b().op(W.i32WrapI64);
  const ifElse = (cond: () => void, then: () => void, other: () => void, type: number): void => {
    cond();
    e.op(W.if, type);
    then();
    e.op(W.else);
    other();
    e.op(W.end);
  };
  switch (i.op) {
    case OP.div:
      ifElse(() => b().op(W.i64Eqz), () => e.i64(-1), () =>
        ifElse(() => { a().i64(INT64_MIN).op(W.i64Eq); b().i64(-1).op(W.i64Eq).op(W.i32And); }, () => a(), () => { a(); b().op(W.i64DivS); }, T.i64), T.i64);
      break;
    case OP.divu:
      ifElse(() => b().op(W.i64Eqz), () => e.i64(-1), () => { a(); b().op(W.i64DivU); }, T.i64);
      break;
    case OP.rem: // i64.rem_s of INT64_MIN by -1 is 0, as RV wants (no trap)
      ifElse(() => b().op(W.i64Eqz), () => a(), () => { a(); b().op(W.i64RemS); }, T.i64);
      break;
    case OP.remu:
      ifElse(() => b().op(W.i64Eqz), () => a(), () => { a(); b().op(W.i64RemU); }, T.i64);
      break;
    case OP.divw:
      ifElse(() => b32().op(W.i32Eqz), () => e.i32(-1), () =>
        ifElse(() => { a32().i32(-0x80000000).op(W.i32Eq); b32().i32(-1).op(W.i32Eq).op(W.i32And); }, () => a32(), () => { a32(); b32().op(I32_DIV_S); }, T.i32), T.i32);
      e.op(W.i64ExtendI32S);
      break;
    case OP.divuw:
      ifElse(() => b32().op(W.i32Eqz), () => e.i32(-1), () => { a32(); b32().op(I32_DIV_U); }, T.i32);
      e.op(W.i64ExtendI32S);
      break;
    case OP.remw:
      ifElse(() => b32().op(W.i32Eqz), () => a32(), () => { a32(); b32().op(I32_REM_S); }, T.i32);
      e.op(W.i64ExtendI32S);
      break;
    case OP.remuw:
      ifElse(() => b32().op(W.i32Eqz), () => a32(), () => { a32(); b32().op(I32_REM_U); }, T.i32);
      e.op(W.i64ExtendI32S);
      break;
  }
  e.setReg(i.rd);
}

function emitInsn(e: Emitter, i: Insn, k: number, codeMap: number): void {
  const { rd, rs1, rs2, imm, po, len } = i;
  const ab = (): Emitter => e.reg(rs1).reg(rs2);
  const branch = (cmp: number): void => {
    ab().op(cmp);
    e.open(W.if);
    e.goTo(po + imm, k);
    e.close();
    e.goTo(po + len, k);
  };
  const alu = (code: number): void => void ab().op(code).setReg(rd);
  const aluImm = (code: number, v: number): void => void e.reg(rs1).i64(v).op(code).setReg(rd);
  /** A W op computed in i32 from the low halves, sign-extended. */
  const word = (code: number, b: () => void): void => {
    e.reg(rs1).op(W.i32WrapI64);
    b();
    e.op(code, W.i64ExtendI32S).setReg(rd);
  };
  switch (i.op) {
    case OP.lui: e.i64(imm).setReg(rd); return;
    case OP.auipc: e.get(L_B64).i64(po + imm).op(W.i64Add).setReg(rd); return;
    case OP.jal:
      e.get(L_B64).i64(po + len).op(W.i64Add).setReg(rd);
      e.goTo(po + imm, k);
      return;
    case OP.jalr:
      e.reg(rs1).i64(imm).op(W.i64Add).tee(L_A);
      // A target the pc cannot hold exactly is left to the interpreter (as in the JS tier).
      e.i64(10).op(W.i64Shl).i64(10).op(W.i64ShrS).get(L_A).op(W.i64Ne);
      e.open(W.if);
      e.leave(po, k - 1);
      e.close();
      e.get(L_B64).i64(po + len).op(W.i64Add).setReg(rd);
      e.get(L_A).i64(-2).op(W.i64And).set(L_NPC);
      e.done(k).set(L_RET).br("out");
      return;
    case OP.beq: branch(W.i64Eq); return;
    case OP.bne: branch(W.i64Ne); return;
    case OP.blt: branch(W.i64LtS); return;
    case OP.bge: branch(W.i64GeS); return;
    case OP.bltu: branch(W.i64LtU); return;
    case OP.bgeu: branch(W.i64GeU); return;

    case OP.lb: load(e, i, k, 1, W.i64Load8S, 0); return;
    case OP.lbu: load(e, i, k, 1, W.i64Load8U, 0); return;
    case OP.lh: load(e, i, k, 2, W.i64Load16S, 1); return;
    case OP.lhu: load(e, i, k, 2, W.i64Load16U, 1); return;
    case OP.lw: load(e, i, k, 4, W.i64Load32S, 2); return;
    case OP.lwu: load(e, i, k, 4, W.i64Load32U, 2); return;
    case OP.ld: load(e, i, k, 8, W.i64Load, 3); return;
    case OP.sb: store(e, i, k, 1, W.i64Store8, 0, codeMap); return;
    case OP.sh: store(e, i, k, 2, W.i64Store16, 1, codeMap); return;
    case OP.sw: store(e, i, k, 4, W.i64Store32, 2, codeMap); return;
    case OP.sd: store(e, i, k, 8, W.i64Store, 3, codeMap); return;

    case OP.addi: aluImm(W.i64Add, imm); return;
    case OP.slti: e.reg(rs1).i64(imm).op(W.i64LtS, W.i64ExtendI32U).setReg(rd); return;
    case OP.sltiu: e.reg(rs1).i64(imm).op(W.i64LtU, W.i64ExtendI32U).setReg(rd); return;
    case OP.xori: aluImm(W.i64Xor, imm); return;
    case OP.ori: aluImm(W.i64Or, imm); return;
    case OP.andi: aluImm(W.i64And, imm); return;
    case OP.slli: aluImm(W.i64Shl, imm); return;
    case OP.srli: aluImm(W.i64ShrU, imm); return;
    case OP.srai: aluImm(W.i64ShrS, imm); return;

    case OP.add: alu(W.i64Add); return;
    case OP.sub: alu(W.i64Sub); return;
    case OP.sll: alu(W.i64Shl); return; // wasm takes the shift amount mod 64, as RV does
    case OP.srl: alu(W.i64ShrU); return;
    case OP.sra: alu(W.i64ShrS); return;
    case OP.slt: ab().op(W.i64LtS, W.i64ExtendI32U).setReg(rd); return;
    case OP.sltu: ab().op(W.i64LtU, W.i64ExtendI32U).setReg(rd); return;
    case OP.xor: alu(W.i64Xor); return;
    case OP.or: alu(W.i64Or); return;
    case OP.and: alu(W.i64And); return;

    case OP.addiw: e.reg(rs1).i64(imm).op(W.i64Add, W.i64Extend32S).setReg(rd); return;
    case OP.slliw: word(W.i32Shl, () => e.i32(imm)); return;
    case OP.srliw: word(W.i32ShrU, () => e.i32(imm)); return;
    case OP.sraiw: word(W.i32ShrS, () => e.i32(imm)); return;
    case OP.addw: ab().op(W.i64Add, W.i64Extend32S).setReg(rd); return;
    case OP.subw: ab().op(W.i64Sub, W.i64Extend32S).setReg(rd); return;
    case OP.sllw: word(W.i32Shl, () => e.reg(rs2).op(W.i32WrapI64)); return; // mod 32, as RV
    case OP.srlw: word(W.i32ShrU, () => e.reg(rs2).op(W.i32WrapI64)); return;
    case OP.sraw: word(W.i32ShrS, () => e.reg(rs2).op(W.i32WrapI64)); return;
    case OP.fence: return;

    case OP.mul: alu(W.i64Mul); return;
    case OP.mulw: ab().op(W.i64Mul, W.i64Extend32S).setReg(rd); return;
    case OP.mulhu: ab(); mulhu(e); e.setReg(rd); return;
    case OP.mulh: // signed x signed: the unsigned product's high half, less b where a < 0 and a where b < 0
      ab(); mulhu(e);
      e.get(L_T0).i64(63).op(W.i64ShrS).get(L_T1).op(W.i64And, W.i64Sub);
      e.get(L_T1).i64(63).op(W.i64ShrS).get(L_T0).op(W.i64And, W.i64Sub).setReg(rd);
      return;
    case OP.mulhsu: // signed a x unsigned b
      ab(); mulhu(e);
      e.get(L_T0).i64(63).op(W.i64ShrS).get(L_T1).op(W.i64And, W.i64Sub).setReg(rd);
      return;
    case OP.div: case OP.divu: case OP.rem: case OP.remu:
    case OP.divw: case OP.divuw: case OP.remw: case OP.remuw:
      division(e, i);
      return;
    default:
      throw new Error(`wasm block: op ${i.op} is not compilable`);
  }
}
