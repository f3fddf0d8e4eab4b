/*
 * Predecoded instruction format, shared by the decoder and the hart.
 *
 * Every instruction (32-bit or compressed) decodes once into two int32 words:
 *
 *   word0:  31      24 23      16 15       8 7  6        0
 *          +----------+----------+----------+--+----------+
 *          |   rs2*2  |   rs1*2  |   rd*2   |C |    op    |
 *          +----------+----------+----------+--+----------+
 *   word1:  imm (sign-extended immediate, shift amount, CSR number, or offset)
 *
 * Register numbers are stored doubled because the hart keeps each x register as
 * an int32 (lo, hi) pair at index 2*r, 2*r+1. A destination of x0 is stored as
 * X0_SINK (64): the hart writes there and never reads it, so no instruction
 * needs an "if rd != 0" test. C (bit 7) is set for a compressed (2-byte)
 * instruction, which tells the hart how far to advance pc.
 *
 * Op numbers are the index into OP_NAMES. The hart's dispatch `switch` uses the
 * numeric literals (so V8 builds a jump table) with the name in a comment; a
 * test checks those comments against this table.
 */

export const X0_SINK = 64;
/** Int32 words of a register file: x0..x31 as (lo, hi) pairs, then the x0 sink's pair. */
export const REGISTER_WORDS = X0_SINK + 2;
const WORD0_COMPRESSED = 0x80;
const OP_MASK = 0x7f;

export const OP_NAMES = [
  "undecoded", "illegal",
  "lui", "auipc", "jal", "jalr",
  "beq", "bne", "blt", "bge", "bltu", "bgeu",
  "lb", "lh", "lw", "ld", "lbu", "lhu", "lwu",
  "sb", "sh", "sw", "sd",
  "addi", "slti", "sltiu", "xori", "ori", "andi", "slli", "srli", "srai",
  "add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
  "addiw", "slliw", "srliw", "sraiw",
  "addw", "subw", "sllw", "srlw", "sraw",
  "fence", "fence.i", "ecall", "ebreak",
  "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu",
  "mulw", "divw", "divuw", "remw", "remuw",
  "lr.w", "sc.w", "amoswap.w", "amoadd.w", "amoxor.w", "amoand.w", "amoor.w", "amomin.w", "amomax.w", "amominu.w", "amomaxu.w",
  "lr.d", "sc.d", "amoswap.d", "amoadd.d", "amoxor.d", "amoand.d", "amoor.d", "amomin.d", "amomax.d", "amominu.d", "amomaxu.d",
  "csrrw", "csrrs", "csrrc", "csrrwi", "csrrsi", "csrrci",
  "mret", "sret", "wfi", "sfence.vma",
  // The H extension (priv spec, H chapter): hypervisor loads and stores, and the two-stage fences.
  "hlv.b", "hlv.bu", "hlv.h", "hlv.hu", "hlv.w", "hlv.wu", "hlv.d", "hlvx.hu", "hlvx.wu",
  "hsv.b", "hsv.h", "hsv.w", "hsv.d", "hfence.vvma", "hfence.gvma",
] as const;

export type OpName = (typeof OP_NAMES)[number];

/** Op number for a name; used by the decoder and tests, never in the hart's hot loop. */
export const OP: Readonly<Record<OpName, number>> = Object.fromEntries(
  OP_NAMES.map((name, index) => [name, index]),
) as Record<OpName, number>;

/** Field accessors for word0, for decoder, disassembler and tests. */
export function opOf(word0: number): number {
  return word0 & OP_MASK;
}
export function rdOf(word0: number): number {
  return ((word0 >>> 8) & 0xff) >>> 1;
}
export function rs1Of(word0: number): number {
  return ((word0 >>> 16) & 0xff) >>> 1;
}
export function rs2Of(word0: number): number {
  return (word0 >>> 24) >>> 1;
}
export function isCompressed(word0: number): boolean {
  return (word0 & WORD0_COMPRESSED) !== 0;
}

/** Builds word0; rd 0 becomes the x0 sink. */
export function packWord0(op: number, rd: number, rs1: number, rs2: number, compressed: boolean): number {
  const rd2 = rd === 0 ? X0_SINK : rd * 2;
  return (op | (compressed ? WORD0_COMPRESSED : 0) | (rd2 << 8) | ((rs1 * 2) << 16) | ((rs2 * 2) << 24)) | 0;
}
