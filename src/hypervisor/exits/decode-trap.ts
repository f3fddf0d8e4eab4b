/*
 * What instruction trapped: the hypervisor decodes the bits of a trapping
 * instruction (xtval of an illegal-instruction trap, or read from guest
 * memory) with the machine's own decoder, into one reusable record.
 */

import { decodeInto } from "../../isa/decode.ts";
import { OP, opOf } from "../../isa/ops.ts";

export const TRAP_CSR = 1;
export const TRAP_MRET = 2;
export const TRAP_SRET = 3;
export const TRAP_WFI = 4;
export const TRAP_SFENCE_VMA = 5;
const TRAP_OTHER = 0;

export interface DecodedTrap {
  kind: number;
  insn: number;
  length: number;
  /** Doubled register indices, as the hart stores them (rd of x0 is the sink, 64). */
  rd: number;
  rs1: number;
  rs2: number;
  csr: number;
  /** 0 rw, 1 rs, 2 rc. */
  csrKind: number;
  csrImmediate: boolean;
}

const words = new Int32Array(2);
const scratch: DecodedTrap = { kind: 0, insn: 0, length: 4, rd: 0, rs1: 0, rs2: 0, csr: 0, csrKind: 0, csrImmediate: false };

/** Decodes `insn` into a shared record (valid until the next call: no allocation on the exit path). */
export function decodeTrap(insn: number): DecodedTrap {
  decodeInto(insn, words, 0);
  return fromPredecoded(insn, words[0], words[1]);
}

/** The same record from an instruction the hart has already predecoded (its word0 and imm). */
export function fromPredecoded(insn: number, w0: number, imm: number): DecodedTrap {
  const op = opOf(w0);
  const t = scratch;
  t.insn = insn;
  t.length = (w0 & 0x80) !== 0 ? 2 : 4;
  t.rd = (w0 >>> 8) & 0xff;
  t.rs1 = (w0 >>> 16) & 0xff;
  t.rs2 = w0 >>> 24;
  t.csr = imm & 0xfff;
  t.csrKind = 0;
  t.csrImmediate = false;
  if (op >= OP.csrrw && op <= OP.csrrci) {
    t.kind = TRAP_CSR;
    t.csrKind = (op - OP.csrrw) % 3;
    t.csrImmediate = op >= OP.csrrwi;
  } else if (op === OP.mret) t.kind = TRAP_MRET;
  else if (op === OP.sret) t.kind = TRAP_SRET;
  else if (op === OP.wfi) t.kind = TRAP_WFI;
  else if (op === OP["sfence.vma"]) t.kind = TRAP_SFENCE_VMA;
  else t.kind = TRAP_OTHER;
  return t;
}
