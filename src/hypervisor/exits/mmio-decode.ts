/*
 * What access did a faulting instruction make? When a guest load or store
 * touches an MMIO hole, the hart takes a page fault (or access fault) and the
 * hypervisor gets the instruction bits (the exit record's exitInsn). This file
 * turns those bits into the access the device model must perform: direction,
 * width, sign extension, data register, base register and offset, and the
 * instruction length so the hypervisor can advance pc past it.
 *
 * Only plain integer loads and stores are emulated (unpriv spec 2.6, and the
 * compressed forms of 16.3). AMOs and LR/SC on MMIO are not emulated: their
 * atomicity cannot be promised across a device model, and real platforms
 * raise an access fault for them on I/O regions without the AMO PMA (priv
 * spec 3.6.3.2). Anything else returns undefined and the hypervisor reflects
 * an access fault into the guest.
 */

import { decodeInto } from "../../isa/decode.ts";
import { OP, X0_SINK, isCompressed, opOf, rdOf, rs1Of, rs2Of } from "../../isa/ops.ts";
import type { OpName } from "../../isa/ops.ts";

type MmioWidth = 1 | 2 | 4 | 8;

/** One decoded MMIO access. */
export interface MmioAccess {
  /** true for a store (data flows from `reg` to the device). */
  readonly write: boolean;
  /** Access size in bytes. */
  readonly width: MmioWidth;
  /** Loads: sign-extend the `width`-byte value to 64 bits (lb/lh/lw/ld); false for lbu/lhu/lwu and for stores. */
  readonly signed: boolean;
  /** rd for loads (0 for a load into x0: the device read still happens), rs2 for stores; 0..31. */
  readonly reg: number;
  /** rs1: the base register of the address. */
  readonly base: number;
  /** The immediate byte offset added to `base` (sign-extended; compressed forms are unsigned). */
  readonly offset: number;
  /** Instruction length in bytes, for advancing pc. */
  readonly length: 2 | 4;
}

interface AccessKind {
  readonly write: boolean;
  readonly width: MmioWidth;
  readonly signed: boolean;
}

/*
 * The emulated ops, one row each. Compressed forms decode to these same ops
 * (c.lw -> lw, c.sdsp -> sd, ...), so they need no rows of their own.
 * `ld` is marked signed: a 64-bit value needs no extension either way, and
 * marking it keeps "signed" true for exactly the sign-extending mnemonics.
 */
const ACCESS_ROWS: ReadonlyArray<readonly [OpName, AccessKind]> = [
  ["lb", { write: false, width: 1, signed: true }],
  ["lh", { write: false, width: 2, signed: true }],
  ["lw", { write: false, width: 4, signed: true }],
  ["ld", { write: false, width: 8, signed: true }],
  ["lbu", { write: false, width: 1, signed: false }],
  ["lhu", { write: false, width: 2, signed: false }],
  ["lwu", { write: false, width: 4, signed: false }],
  ["sb", { write: true, width: 1, signed: false }],
  ["sh", { write: true, width: 2, signed: false }],
  ["sw", { write: true, width: 4, signed: false }],
  ["sd", { write: true, width: 8, signed: false }],
];

const ACCESS_BY_OP: ReadonlyMap<number, AccessKind> = new Map(ACCESS_ROWS.map(([name, kind]) => [OP[name], kind]));

const COMPRESSED_LENGTH = 2;
const FULL_LENGTH = 4;

/** Scratch for decodeInto: word0, imm. Exits are handled one at a time per thread. */
const scratch = new Int32Array(2);

/**
 * Where the plain load or store `inst` starts, with the registers `x` (lo,
 * hi pairs): written to out[0] (lo) and out[1] (hi); false (out untouched)
 * for anything else. Allocation-free: the vCPU thread calls it for every
 * data fault it posts, so the main thread need not read the base register
 * from the vCPU's register file (a cache line on the vCPU's core).
 */
export function accessStartInto(inst: number, x: Int32Array, out: Int32Array): boolean {
  decodeInto(inst, scratch, 0);
  const word0 = scratch[0]!;
  if (!ACCESS_BY_OP.has(opOf(word0))) return false;
  const b = rs1Of(word0) * 2;
  const offset = scratch[1]!;
  const lo = (x[b] + offset) | 0;
  out[0] = lo;
  out[1] = (x[b + 1] + (offset >> 31) + (lo >>> 0 < x[b] >>> 0 ? 1 : 0)) | 0;
  return true;
}

/**
 * Decodes the instruction bits of a faulting access (32-bit, or a compressed
 * instruction in the low 16 bits with anything above). Returns undefined for
 * anything that is not a plain integer load or store.
 */
export function decodeMmioAccess(inst: number): MmioAccess | undefined {
  decodeInto(inst, scratch, 0);
  const word0 = scratch[0]!;
  const kind = ACCESS_BY_OP.get(opOf(word0));
  if (kind === undefined) return undefined;
  const length = isCompressed(word0) ? COMPRESSED_LENGTH : FULL_LENGTH;
  let reg: number;
  if (kind.write) {
    reg = rs2Of(word0);
  } else {
    // decodeInto stores a destination of x0 as the x0 sink (ops.ts).
    const rd = rdOf(word0);
    reg = rd === X0_SINK / 2 ? 0 : rd;
  }
  return { write: kind.write, width: kind.width, signed: kind.signed, reg, base: rs1Of(word0), offset: scratch[1]!, length };
}
