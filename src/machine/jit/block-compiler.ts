/*
 * Turns a run of predecoded instructions into a JavaScript function (the
 * block tier; DESIGN.md "The hart's speed": a compiled block runs ~3x the
 * switch interpreter, a self-loop as a JS loop ~7x).
 *
 * A block starts at a hot slot and runs straight on through the ops the hot
 * loop handles inline (RV64I, lui/auipc, loads/stores, mul/mulw) and CSR
 * instructions, which call the hart's own csrInstruction (they are hot in
 * guest kernels, and under a hypervisor each is an exit: a block lets a
 * loop around one stay compiled). A block ends before any other op (the
 * interpreter executes it), and before a counter CSR, whose value depends on
 * the instruction count the interpreter keeps; after a branch or jump,
 * at the end of the page, or after MAX_BLOCK_INSNS. A 32-bit instruction
 * that straddles the page end is never compiled. A branch or jal back to the
 * block's own entry becomes a JS loop that runs while the slice's budget
 * allows another full pass, so a block never overshoots the budget.
 *
 * Every instruction's code is the interpreter's (hart-loop.ts) with register
 * indices and immediates as literals, and the registers the block uses in JS
 * locals (Regs below): loaded once on entry, stored back on the one way out
 * and around csrInstruction (which reads and writes hart.x, itself or through
 * a hypervisor's exit handler). On cpubench's loops this doubled the block
 * tier's speed: V8 keeps locals in machine registers, while every typed-array
 * access is a load or store with a bounds check. A load or store off the
 * TLB's fast path (a miss, MMIO, misalignment, a fault) leaves the block
 * before it, for the interpreter to execute: its slow path may exit to a
 * hypervisor whose handler reads and writes the register file (mmio.ts), and
 * the generated source stays small. Addresses
 * are relative to `base`, the page's virtual address, so one block serves
 * every virtual mapping of its frame and the same code compiles to the same
 * source: functions are shared through a source cache (they are pure).
 *
 * The source names the hart's members only through H/M/T/RT below, so tsc
 * checks every name against the block host interfaces (block-host.ts).
 */

import { OP, X0_SINK } from "../../isa/ops.ts";
import { decodeInto } from "../../isa/decode.ts";
import { PAGE_SIZE } from "../memlayout.ts";
import { TLB_MASK } from "../tlb.ts";
import { entryWord } from "../decoded-page.ts";
import { BLOCK_PARAMS, member, type BlockFn, type BlockHost, type BlockMemory, type BlockTlb } from "./block-host.ts";
import type { BlockRuntime } from "./block-runtime.ts";
import { registerUse } from "./register-use.ts";

/** Longest block, in instructions. */
const MAX_BLOCK_INSNS = 64;
/** Distinct sources kept compiled; the cache starts over when full. */
const SOURCE_CACHE_LIMIT = 8192;

export interface CompiledBlock {
  readonly fn: BlockFn;
  /** Instructions in one pass. */
  readonly len: number;
  /** Bytes [start, end) of the page the block was compiled from. */
  readonly start: number;
  readonly end: number;
}

/** The ops compiled inline (all the hot loop's own cases but `undecoded`). */
const COMPILABLE = new Set<number>([
  OP.lui, OP.auipc, OP.jal, OP.jalr, OP.beq, OP.bne, OP.blt, OP.bge, OP.bltu, OP.bgeu,
  OP.lb, OP.lh, OP.lw, OP.ld, OP.lbu, OP.lhu, OP.lwu, OP.sb, OP.sh, OP.sw, OP.sd,
  OP.addi, OP.slti, OP.sltiu, OP.xori, OP.ori, OP.andi, OP.slli, OP.srli, OP.srai,
  OP.add, OP.sub, OP.sll, OP.slt, OP.sltu, OP.xor, OP.srl, OP.sra, OP.or, OP.and,
  OP.addiw, OP.slliw, OP.srliw, OP.sraiw, OP.addw, OP.subw, OP.sllw, OP.srlw, OP.sraw,
  OP.fence, OP.mul, OP.mulw,
  OP.csrrw, OP.csrrs, OP.csrrc, OP.csrrwi, OP.csrrsi, OP.csrrci,
]);

const BRANCHES = new Set<number>([OP.beq, OP.bne, OP.blt, OP.bge, OP.bltu, OP.bgeu]);

const sourceCache = new Map<string, BlockFn>();

const [HOST, , , , , RUNTIME] = BLOCK_PARAMS;
/** A member of the hart, as the generated source reads it. */
const H = (name: keyof BlockHost & string): string => member<BlockHost>(HOST, name);
/** A member of RAM, through the block's `mem` local. */
const M = (name: keyof BlockMemory & string): string => member<BlockMemory>("mem", name);
/** A member of one of the hart's data TLBs. */
const T = (tlb: "loadTlb" | "storeTlb", name: keyof BlockTlb & string): string => member<BlockTlb>(H(tlb), name);
/** A helper of the block runtime (block-runtime.ts). */
const RT = (name: keyof BlockRuntime & string): string => member<BlockRuntime>(RUNTIME, name);

/** One decoded instruction of a block. */
export interface Insn {
  /** The predecoded word (src/isa/ops.ts); the fields below are unpacked from it. */
  readonly w0: number;
  readonly op: number;
  readonly rd: number;
  readonly rs1: number;
  readonly rs2: number;
  readonly imm: number;
  readonly po: number;
  readonly len: number;
}

/**
 * Compiles the block entered at byte offset `entry` of a decoded page whose
 * frame is at RAM offset `frame`; slots not yet decoded are decoded here.
 * Undefined if the first instruction is not compilable.
 */
export function compileBlock(dec: Int32Array, u16: Uint16Array, frame: number, entry: number): CompiledBlock | undefined {
  const { insns, end: po } = scanBlock(dec, u16, frame, entry, COMPILABLE);
  if (insns.length === 0) return undefined;
  const source = blockSource(insns, entry, po);
  let fn = sourceCache.get(source);
  if (fn === undefined) {
    if (sourceCache.size >= SOURCE_CACHE_LIMIT) sourceCache.clear();
    fn = new Function(...BLOCK_PARAMS, source) as BlockFn;
    sourceCache.set(source, fn);
  }
  return { fn, len: insns.length, start: entry, end: po };
}

/**
 * The instructions of the block entered at `entry`, up to the first op not
 * in `ops` (or a counter CSR), after its first control transfer, at the end of
 * the page or at MAX_BLOCK_INSNS; `end` is the page offset after the last.
 */
export function scanBlock(dec: Int32Array, u16: Uint16Array, frame: number, entry: number, ops: ReadonlySet<number>): { insns: Insn[]; end: number } {
  const insns: Insn[] = [];
  let po = entry;
  while (insns.length < MAX_BLOCK_INSNS && po < PAGE_SIZE) {
    if (dec[po] === 0 && !decodeSlot(dec, u16, frame, po)) break;
    const w0 = dec[po];
    const op = w0 & 0x7f;
    if (!ops.has(op) || (isCsrOp(op) && isCounterCsr(dec[po + 1] & 0xfff))) break;
    const len = 4 - ((w0 >>> 6) & 2);
    insns.push({ w0, op, rd: (w0 >>> 8) & 0xff, rs1: (w0 >>> 16) & 0xff, rs2: w0 >>> 24, imm: dec[po + 1], po, len });
    po += len;
    if (BRANCHES.has(op) || op === OP.jal || op === OP.jalr) break;
  }
  return { insns, end: po };
}

function isCsrOp(op: number): boolean {
  return op >= OP.csrrw && op <= OP.csrrci;
}

/** cycle/time/instret and the hpm counters, user (0xC00-0xC1F) and machine (0xB00-0xB1F) views. */
function isCounterCsr(csr: number): boolean {
  return (csr & 0xfe0) === 0xc00 || (csr & 0xfe0) === 0xb00;
}

/** Decodes the slot at `po` as the hart's decodeAt would; false for a 32-bit instruction straddling the page end. */
function decodeSlot(dec: Int32Array, u16: Uint16Array, frame: number, po: number): boolean {
  const at = (frame + po) >>> 1;
  const half = u16[at];
  if ((half & 3) !== 3) {
    decodeInto(half, dec, po);
    return true;
  }
  if (po === PAGE_SIZE - 2) return false;
  decodeInto(half | (u16[at + 1] << 16), dec, po);
  return true;
}

/**
 * Guest registers as JS locals: `g<word>` holds x[word] for every register
 * the block reads or writes, loaded in the prologue and stored back where
 * the block leaves (one exit path, after the `out` label) and before a
 * helper that reads the register file. x0 reads as the literal 0; the x0
 * sink is a local that is never stored.
 */
class Regs {
  /** Word indices (even) of the register pairs the block uses, x0 and the sink excepted. */
  readonly used: number[];
  /** Of those, the pairs it writes. */
  readonly written: number[];

  constructor(insns: readonly Insn[]) {
    ({ used: this.used, written: this.written } = registerUse(insns));
  }

  /** The prologue's declarations (the sink's pair too: writes to x0 land there and are dropped). */
  declare(): string {
    const names = this.used.flatMap((w) => [`g${w} = x[${w}]`, `g${w + 1} = x[${w + 1}]`]);
    return `let ${[...names, `g${X0_SINK} = 0`, `g${X0_SINK + 1} = 0`].join(", ")};`;
  }

  /** Stores every written pair back into the register file. */
  flush(): string {
    return this.written.map((w) => `x[${w}] = g${w}; x[${w + 1}] = g${w + 1};`).join(" ");
  }

  /** Reloads every pair (after a helper that may have written the register file). */
  reload(): string {
    return this.used.map((w) => `g${w} = x[${w}]; g${w + 1} = x[${w + 1}];`).join(" ");
  }
}

/** Register word read as an expression: x0 is 0. */
const g = (w: number): string => (w === 0 || w === 1 ? "0" : `g${w}`);

/** The function body: prologue, instructions, and the exit after the last one. */
function blockSource(insns: readonly Insn[], entry: number, endPo: number): string {
  const n = insns.length;
  const last = insns[n - 1];
  const selfLoop =
    (BRANCHES.has(last.op) || last.op === OP.jal) && last.po + last.imm === entry;
  const ops = new Set(insns.map((i) => i.op));
  const has = (...names: (keyof typeof OP)[]): boolean => names.some((name) => ops.has(OP[name]));
  const regs = new Regs(insns);
  const lines: string[] = ['"use strict";', `const x = ${H("x")};`, regs.declare()];
  if (has("lb", "lh", "lw", "ld", "lbu", "lhu", "lwu", "sb", "sh", "sw", "sd")) {
    lines.push(`const mem = ${member<BlockHost["env"]>(H("env"), "mem")}, dataKey = ${H("dataKey")};`);
    if (has("lb", "lbu", "sb")) lines.push(`const u8 = ${M("u8")};`);
    if (has("lhu", "sh")) lines.push(`const u16 = ${M("u16")};`);
    if (has("lh")) lines.push(`const i16 = ${M("i16")};`);
    if (has("lw", "lwu", "ld", "sw", "sd")) lines.push(`const i32 = ${M("i32")};`);
    if (has("lb", "lh", "lw", "ld", "lbu", "lhu", "lwu")) lines.push(`const ldKeys = ${T("loadTlb", "key")}, ldFrames = ${T("loadTlb", "ramOffset")};`);
    if (has("sb", "sh", "sw", "sd")) lines.push(`const stKeys = ${T("storeTlb", "key")}, stFrames = ${T("storeTlb", "ramOffset")}, codeMap = ${M("codeMap")};`);
  }
  if (has("sll", "srl", "sra", "mul")) lines.push(`const r64 = ${RT("r64")};`);
  lines.push("let done = 0, ret = 0;", "out: {");
  if (selfLoop) lines.push("for (;;) {");
  const site: Site = { n, entry, selfLoop, regs };
  insns.forEach((insn, k) => lines.push(insnSource(insn, k + 1, site)));
  if (!BRANCHES.has(last.op) && last.op !== OP.jal && last.op !== OP.jalr) lines.push(leave(endPo, n));
  if (selfLoop) lines.push("}");
  lines.push("}", regs.flush(), "return ret;");
  return lines.join("\n");
}

/** What an instruction's code needs to know about its block. */
interface Site {
  /** Instructions in one pass, and the block's entry. */
  readonly n: number;
  readonly entry: number;
  /** Whether the block loops back to its entry. */
  readonly selfLoop: boolean;
  readonly regs: Regs;
}

/** Leaves normally after instruction k, at page offset `next` (the exit path stores the registers back). */
const leave = (next: number, k: number): string => `{ ${H("pc")} = base + ${next}; ret = done + ${k}; break out; }`;
/** Leaves after instruction k took a trap (hart.pc is the handler's). */
const trapped = (k: number): string => `{ ret = -(done + ${k}); break out; }`;

/** Signed 64-bit a < b on literal-index pairs (lt64 in hart-loop.ts). */
const lt = (a: string, ah: string, b: string, bh: string): string => `(${ah} < ${bh} || (${ah} === ${bh} && ${a} >>> 0 < ${b} >>> 0))`;
/** Unsigned 64-bit a < b (ltu64 in hart-loop.ts). */
const ltu = (a: string, ah: string, b: string, bh: string): string =>
  `(${ah} >>> 0 < ${bh} >>> 0 || (${ah} === ${bh} && ${a} >>> 0 < ${b} >>> 0))`;

/** `hi + (imm >> 31) + carry`, without adding a literal 0. */
const hiSum = (hi: string, imm: number, carry: string): string => `(${hi}${imm < 0 ? " - 1" : ""} + ${carry}) | 0`;

/** RAM offset `o` of x[rs1] + imm through a data TLB, or -1 (dataOffset in hart-loop.ts). */
function offsetSource(rs1: number, imm: number, keys: string, frames: string): string {
  const lo = imm === 0 ? `const lo = ${g(rs1)};` : `const blo = ${g(rs1)}; const lo = (blo + ${imm}) | 0;`;
  const hi = imm === 0 ? `const hi = ${g(rs1 + 1)};` : `const hi = ${hiSum(g(rs1 + 1), imm, "(lo >>> 0 < blo >>> 0 ? 1 : 0)")};`;
  return (
    `${lo} ${hi} let o = -1;` +
    ` if (((hi << 25) >> 25) === hi) { const vpn = ((hi & 0x7f) << 20) | (lo >>> 12); const i = vpn & ${TLB_MASK};` +
    ` if (${keys}[i] === vpn + dataKey) o = ${frames}[i] + (lo & 0xfff); }`
  );
}

/**
 * Leaves before instruction k, for the interpreter to execute it: a load or
 * store off the TLB's fast path (a miss, MMIO, misaligned, a fault), which
 * may exit to a hypervisor whose handler reads and writes the register file
 * (mmio.ts) — the exit path stores the block's registers back first.
 */
const slowPath = (i: Insn, k: number): string => `{ ${H("pc")} = base + ${i.po}; ret = done + ${k - 1}; break out; }`;

/** A load on the TLB's fast path, else left to the interpreter. */
function loadSource(i: Insn, k: number, width: number, fast: string, hi: string): string {
  const aligned = width === 1 ? "o >= 0" : `o >= 0 && (o & ${width - 1}) === 0`;
  return (
    `{ ${offsetSource(i.rs1, i.imm, "ldKeys", "ldFrames")}` +
    ` if (!(${aligned})) ${slowPath(i, k)}` +
    ` const v = ${fast}; g${i.rd} = v; g${i.rd + 1} = ${hi}; }`
  );
}

/**
 * A store on the TLB's fast path, else left to the interpreter. A store
 * into a page with code invalidates what it overwrote; if that dropped this
 * very block (its entry word changed), the rest of it may be stale: leave.
 */
function storeSource(i: Insn, k: number, width: number, write: string, site: Site): string {
  const aligned = width === 1 ? "o >= 0" : `o >= 0 && (o & ${width - 1}) === 0`;
  const dropped = `dec[${entryWord(site.entry)}] !== self`;
  return (
    `{ ${offsetSource(i.rs1, i.imm, "stKeys", "stFrames")}` +
    ` if (!(${aligned})) ${slowPath(i, k)} ${write}` +
    ` if (codeMap[o >>> 12] !== 0) { ${M("invalidateCode")}(o, ${width}); if (${dropped}) ${leave(i.po + i.len, k)} } }`
  );
}

/** Sets rd to a 32-bit result, sign-extended. */
const setW = (rd: number, expr: string): string => `{ const v = ${expr}; g${rd} = v; g${rd + 1} = v >> 31; }`;
/** Sets rd from r64 after a 64-bit helper. */
const fromR64 = (rd: number, call: string): string => `${call}; g${rd} = r64[0]; g${rd + 1} = r64[1];`;

/**
 * The end of a control transfer to page offset `target` after instruction k:
 * back to the entry of a self-loop while another pass fits the budget.
 */
function jumpTo(target: number, k: number, site: Site): string {
  const { n, entry } = site;
  if (site.selfLoop && target === entry) {
    return `{ done += ${n}; if (done + ${n} <= left) continue; ${H("pc")} = base + ${entry}; ret = done; break out; }`;
  }
  return leave(target, k);
}

/**
 * A CSR instruction through hart.csrInstruction, which reads and writes the
 * register file itself: the block's registers are stored before and
 * reloaded after. Anything but a plain access — a trap (taken by the hart or
 * its host), a translation change (satp, mstatus.MPRV: fetchBase reset), a
 * request to end the slice — leaves through the trap exit, which sends the
 * loop back through fetchPage.
 */
function csrSource(i: Insn, k: number, site: Site): string {
  const immediate = i.op >= OP.csrrwi;
  const kind = i.op - (immediate ? OP.csrrwi : OP.csrrw);
  const next = `base + ${i.po + i.len}`;
  return (
    `{ ${site.regs.flush()} const next = ${H("csrInstruction")}(${kind}, ${immediate}, ${i.w0}, ${i.imm}, base + ${i.po}, ${i.len}); ${site.regs.reload()}` +
    ` if (next !== ${next} || ${H("stop")} || ${H("fetchBase")} !== base) { ${H("pc")} = next; ${trapped(k)} } }`
  );
}

function insnSource(i: Insn, k: number, site: Site): string {
  const { rd, rs1, rs2, imm, po, len } = i;
  const a = g(rs1), ah = g(rs1 + 1), b = g(rs2), bh = g(rs2 + 1);
  const branch = (cond: string): string => `if (${cond}) ${jumpTo(po + imm, k, site)} ${leave(po + len, k)}`;
  switch (i.op) {
    case OP.lui:
      return `g${rd} = ${imm}; g${rd + 1} = ${imm >> 31};`;
    case OP.auipc:
      return `{ const v = base + ${po + imm}; g${rd} = v | 0; g${rd + 1} = Math.floor(v / 4294967296) | 0; }`;
    case OP.jal:
      return (
        `{ const link = base + ${po + len}; g${rd} = link | 0; g${rd + 1} = Math.floor(link / 4294967296) | 0; }` +
        jumpTo(po + imm, k, site)
      );
    case OP.jalr:
      return (
        `{ const blo = ${a}; const tlo = (blo + ${imm}) | 0;` +
        ` const thi = ${hiSum(ah, imm, "(tlo >>> 0 < blo >>> 0 ? 1 : 0)")};` +
        // A target pc cannot hold faults at once, exactly: the interpreter does that (hart-loop.ts).
        ` if ((thi << 10) >> 10 !== thi) ${slowPath(i, k)}` +
        ` const link = base + ${po + len}; g${rd} = link | 0; g${rd + 1} = Math.floor(link / 4294967296) | 0;` +
        ` ${H("pc")} = thi * 4294967296 + ((tlo & ~1) >>> 0); ret = done + ${k}; break out; }`
      );
    case OP.beq: return branch(`${a} === ${b} && ${ah} === ${bh}`);
    case OP.bne: return branch(`${a} !== ${b} || ${ah} !== ${bh}`);
    case OP.blt: return branch(lt(a, ah, b, bh));
    case OP.bge: return branch(`!${lt(a, ah, b, bh)}`);
    case OP.bltu: return branch(ltu(a, ah, b, bh));
    case OP.bgeu: return branch(`!${ltu(a, ah, b, bh)}`);

    case OP.lb: return loadSource(i, k, 1, "(u8[o] << 24) >> 24", "v >> 31");
    case OP.lbu: return loadSource(i, k, 1, "u8[o]", "0");
    case OP.lh: return loadSource(i, k, 2, "i16[o >>> 1]", "v >> 31");
    case OP.lhu: return loadSource(i, k, 2, "u16[o >>> 1]", "0");
    case OP.lw: return loadSource(i, k, 4, "i32[o >>> 2]", "v >> 31");
    case OP.lwu: return loadSource(i, k, 4, "i32[o >>> 2]", "0");
    case OP.ld:
      return (
        `{ ${offsetSource(rs1, imm, "ldKeys", "ldFrames")}` +
        ` if (o < 0 || (o & 7) !== 0) ${slowPath(i, k)}` +
        ` g${rd} = i32[o >>> 2]; g${rd + 1} = i32[(o >>> 2) + 1]; }`
      );

    case OP.sb: return storeSource(i, k, 1, `u8[o] = ${b};`, site);
    case OP.sh: return storeSource(i, k, 2, `u16[o >>> 1] = ${b};`, site);
    case OP.sw: return storeSource(i, k, 4, `i32[o >>> 2] = ${b};`, site);
    case OP.sd: return storeSource(i, k, 8, `i32[o >>> 2] = ${b}; i32[(o >>> 2) + 1] = ${bh};`, site);

    case OP.addi:
      if (imm === 0) return `g${rd + 1} = ${ah}; g${rd} = ${a};`;
      return `{ const blo = ${a}; const lo = (blo + ${imm}) | 0; g${rd + 1} = ${hiSum(ah, imm, "(lo >>> 0 < blo >>> 0 ? 1 : 0)")}; g${rd} = lo; }`;
    case OP.slti: return `{ const v = ${lt(a, ah, String(imm), String(imm >> 31))} ? 1 : 0; g${rd} = v; g${rd + 1} = 0; }`;
    case OP.sltiu: return `{ const v = ${ltu(a, ah, String(imm), String(imm >> 31))} ? 1 : 0; g${rd} = v; g${rd + 1} = 0; }`;
    case OP.xori: return `g${rd + 1} = ${ah} ^ ${imm >> 31}; g${rd} = ${a} ^ ${imm};`;
    case OP.ori: return `g${rd + 1} = ${ah} | ${imm >> 31}; g${rd} = ${a} | ${imm};`;
    case OP.andi: return `g${rd + 1} = ${ah} & ${imm >> 31}; g${rd} = ${a} & ${imm};`;
    case OP.slli:
      if (imm === 0) return `g${rd + 1} = ${ah}; g${rd} = ${a};`;
      if (imm < 32) return `{ const lo = ${a}; g${rd + 1} = (${ah} << ${imm}) | (lo >>> ${32 - imm}); g${rd} = lo << ${imm}; }`;
      return `g${rd + 1} = ${a} << ${imm - 32}; g${rd} = 0;`;
    case OP.srli:
      if (imm === 0) return `g${rd} = ${a}; g${rd + 1} = ${ah};`;
      if (imm < 32) return `{ const hi = ${ah}; g${rd} = (${a} >>> ${imm}) | (hi << ${32 - imm}); g${rd + 1} = hi >>> ${imm}; }`;
      return `g${rd} = ${ah} >>> ${imm - 32}; g${rd + 1} = 0;`;
    case OP.srai:
      if (imm === 0) return `g${rd} = ${a}; g${rd + 1} = ${ah};`;
      if (imm < 32) return `{ const hi = ${ah}; g${rd} = (${a} >>> ${imm}) | (hi << ${32 - imm}); g${rd + 1} = hi >> ${imm}; }`;
      return `{ const hi = ${ah}; g${rd} = hi >> ${imm - 32}; g${rd + 1} = hi >> 31; }`;

    case OP.add:
      return `{ const alo = ${a}; const lo = (alo + ${b}) | 0; g${rd + 1} = (${ah} + ${bh} + (lo >>> 0 < alo >>> 0 ? 1 : 0)) | 0; g${rd} = lo; }`;
    case OP.sub:
      return `{ const alo = ${a}; const blo = ${b}; g${rd + 1} = (${ah} - ${bh} - (alo >>> 0 < blo >>> 0 ? 1 : 0)) | 0; g${rd} = (alo - blo) | 0; }`;
    case OP.sll: return fromR64(rd, `${RT("shl64")}(${a}, ${ah}, ${b} & 63)`);
    case OP.srl: return fromR64(rd, `${RT("shr64")}(${a}, ${ah}, ${b} & 63)`);
    case OP.sra: return fromR64(rd, `${RT("sar64")}(${a}, ${ah}, ${b} & 63)`);
    case OP.slt: return `{ const v = ${lt(a, ah, b, bh)} ? 1 : 0; g${rd} = v; g${rd + 1} = 0; }`;
    case OP.sltu: return `{ const v = ${ltu(a, ah, b, bh)} ? 1 : 0; g${rd} = v; g${rd + 1} = 0; }`;
    case OP.xor: return `g${rd + 1} = ${ah} ^ ${bh}; g${rd} = ${a} ^ ${b};`;
    case OP.or: return `g${rd + 1} = ${ah} | ${bh}; g${rd} = ${a} | ${b};`;
    case OP.and: return `g${rd + 1} = ${ah} & ${bh}; g${rd} = ${a} & ${b};`;

    case OP.addiw: return setW(rd, `(${a} + ${imm}) | 0`);
    case OP.slliw: return setW(rd, `${a} << ${imm}`);
    case OP.srliw: return setW(rd, `(${a} >>> ${imm}) | 0`);
    case OP.sraiw: return setW(rd, `${a} >> ${imm}`);
    case OP.addw: return setW(rd, `(${a} + ${b}) | 0`);
    case OP.subw: return setW(rd, `(${a} - ${b}) | 0`);
    case OP.sllw: return setW(rd, `${a} << (${b} & 31)`);
    case OP.srlw: return setW(rd, `(${a} >>> (${b} & 31)) | 0`);
    case OP.sraw: return setW(rd, `${a} >> (${b} & 31)`);
    case OP.fence: return "";
    case OP.mul: return fromR64(rd, `${RT("mul64")}(${a}, ${ah}, ${b}, ${bh})`);
    case OP.mulw: return setW(rd, `Math.imul(${a}, ${b})`);
    case OP.csrrw: case OP.csrrs: case OP.csrrc: case OP.csrrwi: case OP.csrrsi: case OP.csrrci:
      return csrSource(i, k, site);
    default:
      throw new Error(`compileBlock: op ${i.op} is not compilable`);
  }
}
