/*
 * The disassembler, objdump style (`objdump -d -M no-aliases`) with ABI
 * register names: "addi a0,a0,1", "ld a0,-8(sp)", "csrrw zero,mstatus,a0",
 * "amoadd.d.aqrl a0,a2,(a1)", "fence iorw,iorw", "fence.tso", "pause".
 *
 * It decodes with decode.ts and prints by the operand format of the op's row
 * in table.ts, so decoder and disassembler cannot disagree on what an
 * instruction is. Compressed instructions print as their 32-bit expansion
 * ("c.ldsp ra,8(sp)" prints "ld ra,8(sp)", "c.jr ra" prints "jalr zero,0(ra)").
 * Illegal encodings print as ".word 0x..." / ".short 0x...".
 *
 * Jump and branch targets print as 0x-hex addresses when `pc` is given and as
 * ".+off" / ".-off" otherwise (both forms GNU as accepts).
 */

import { decodeInto } from "./decode.ts";
import { OP, isCompressed, opOf, rdOf, rs1Of, rs2Of } from "./ops.ts";
import { csrName, regName } from "./regnames.ts";
import { Fmt, INSN_TABLE } from "./table.ts";
import type { InsnRow } from "./table.ts";

const scratch = new Int32Array(2);

/** Row for each op number, so an expanded compressed op prints like its base op. */
const ROW_OF_OP: readonly (InsnRow | undefined)[] = (() => {
  const rows: (InsnRow | undefined)[] = [];
  for (const r of INSN_TABLE) rows[r.op] ??= r;
  return rows;
})();

const AQ_BIT = 1 << 26;
const RL_BIT = 1 << 25;
const FENCE_FM_TSO = 8;
const FENCE_RW = 3;
const FENCE_W_ONLY = 1;
const FENCE_SET_LETTERS = "iorw"; // bit 3 .. bit 0

const hex = (v: number, digits = 0): string => `0x${v.toString(16).padStart(digits, "0")}`;

/** Disassembles one instruction (compressed when inst[1:0] != 3). */
export function disassemble(inst: number, pc?: number | bigint): string {
  decodeInto(inst, scratch, 0);
  const w0 = scratch[0]!;
  const imm = scratch[1]!;
  const op = opOf(w0);
  const row = ROW_OF_OP[op];
  if (op === OP.illegal || row === undefined) {
    return isCompressed(w0) ? `.short ${hex(imm & 0xffff, 4)}` : `.word ${hex(imm >>> 0, 8)}`;
  }
  const name = row.name;
  const rd = regName(rdOf(w0));
  const rs1 = regName(rs1Of(w0));
  const rs2 = regName(rs2Of(w0));
  switch (row.fmt) {
    case Fmt.U: return `${name} ${rd},${hex(imm >>> 12)}`;
    case Fmt.J: return `${name} ${rd},${target(pc, imm)}`;
    case Fmt.JALR:
    case Fmt.LOAD: return `${name} ${rd},${imm}(${rs1})`;
    case Fmt.B: return `${name} ${rs1},${rs2},${target(pc, imm)}`;
    case Fmt.STORE: return `${name} ${rs2},${imm}(${rs1})`;
    case Fmt.I: return `${name} ${rd},${rs1},${imm}`;
    case Fmt.SHIFT64:
    case Fmt.SHIFT32: return `${name} ${rd},${rs1},${hex(imm)}`;
    case Fmt.R: return `${name} ${rd},${rs1},${rs2}`;
    case Fmt.AMO: return `${name}${orderSuffix(inst, w0)} ${rd},${rs2},(${rs1})`;
    case Fmt.LR: return `${name}${orderSuffix(inst, w0)} ${rd},(${rs1})`;
    case Fmt.CSR: return `${name} ${rd},${csrName(imm)},${rs1}`;
    case Fmt.CSRI: return `${name} ${rd},${csrName(imm)},${rs1Of(w0)}`;
    case Fmt.FENCE: return fenceText(imm);
    case Fmt.SFENCE: return `${name} ${rs1},${rs2}`;
    case Fmt.HLV: return `${name} ${rd},(${rs1})`;
    case Fmt.HSV: return `${name} ${rs2},(${rs1})`;
    default: return name; // Fmt.NONE
  }
}

/** ".aq", ".rl", ".aqrl" from inst[26:25] of a 32-bit AMO (unpriv 8.2). */
function orderSuffix(inst: number, w0: number): string {
  if (isCompressed(w0)) return "";
  const aq = (inst & AQ_BIT) !== 0;
  const rl = (inst & RL_BIT) !== 0;
  if (aq) return rl ? ".aqrl" : ".aq";
  return rl ? ".rl" : "";
}

/** fence's imm is inst[31:20] = fm[3:0] pred[3:0] succ[3:0] (unpriv 2.7). */
function fenceText(imm: number): string {
  const fm = (imm >>> 8) & 0xf;
  const pred = (imm >>> 4) & 0xf;
  const succ = imm & 0xf;
  if (fm === FENCE_FM_TSO && pred === FENCE_RW && succ === FENCE_RW) return "fence.tso";
  if (fm === 0 && pred === FENCE_W_ONLY && succ === 0) return "pause"; // Zihintpause
  return `fence ${fenceSet(pred)},${fenceSet(succ)}`;
}

function fenceSet(bits: number): string {
  if (bits === 0) return "0";
  let s = "";
  for (let i = 0; i < 4; i++) if (bits & (8 >>> i)) s += FENCE_SET_LETTERS[i];
  return s;
}

const ADDRESS_BITS = 64;

function target(pc: number | bigint | undefined, offset: number): string {
  if (pc === undefined) return offset < 0 ? `.${offset}` : `.+${offset}`;
  const address = BigInt.asUintN(ADDRESS_BITS, BigInt(pc) + BigInt(offset));
  return `0x${address.toString(16)}`;
}
