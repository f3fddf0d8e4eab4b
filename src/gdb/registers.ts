/*
 * Registers in the protocol's form (target-xml.ts's numbering, each value
 * little-endian hex, the target's byte order) over whatever holds them: a
 * native hart, a vCPU's run page. x0 reads 0 and ignores writes; priv is
 * read-only (only its own value may be written back, as 'G' does).
 */

import { hiOf, isExactPair, loOf, pairToNumber } from "../machine/u64.ts";
import { REGNUM_PC, REGNUM_PRIV } from "./target-xml.ts";

/** One thread's registers as the protocol reaches them. */
export interface GdbRegisterFile {
  /** x0..x31 as (lo, hi) int32 pairs. */
  readonly x: Int32Array;
  /** The pc (an exact number; upper-half addresses negative). */
  pc: number;
  /** The privilege level the debugger shows (0 U, 1 S, 3 M). */
  readonly priv: number;
}

/** A 64-bit register's 8 bytes, little-endian as hex (the target's byte order). */
function pairHex(lo: number, hi: number): string {
  const b = Buffer.alloc(8);
  b.writeInt32LE(lo | 0, 0);
  b.writeInt32LE(hi | 0, 4);
  return b.toString("hex");
}

/** The (lo, hi) pair of 16 hex digits in target order; undefined when not that. */
function hexPair(text: string): [number, number] | undefined {
  if (!/^[0-9a-fA-F]{16}$/.test(text)) return undefined;
  const b = Buffer.from(text, "hex");
  return [b.readInt32LE(0), b.readInt32LE(4)];
}

/** Register `n` as target-order hex; undefined when there is no such register. */
export function readRegister(r: GdbRegisterFile, n: number): string | undefined {
  if (n >= 0 && n < 32) return pairHex(r.x[2 * n], r.x[2 * n + 1]);
  if (n === REGNUM_PC) return pairHex(loOf(r.pc), hiOf(r.pc));
  if (n === REGNUM_PRIV) return r.priv.toString(16).padStart(2, "0");
  return undefined;
}

/** Sets register `n` from target-order hex; false when it cannot be (no such register, bad value, priv). */
export function writeRegister(r: GdbRegisterFile, n: number, hex: string): boolean {
  if (n === REGNUM_PRIV) return hex.toLowerCase() === readRegister(r, n); // read-only: only its own value is accepted
  const v = hexPair(hex);
  if (v === undefined || n < 0 || n > REGNUM_PC) return false;
  if (n === REGNUM_PC) {
    if (!isExactPair(v[0], v[1])) return false;
    r.pc = pairToNumber(v[0], v[1]);
    return true;
  }
  if (n !== 0) {
    r.x[2 * n] = v[0];
    r.x[2 * n + 1] = v[1];
  }
  return true;
}

/** Every register, in order ('g'). */
export function readRegisters(r: GdbRegisterFile): string {
  let out = "";
  for (let n = 0; n <= REGNUM_PRIV; n++) out += readRegister(r, n);
  return out;
}

/** Sets the registers 'G' carries (x0..x31, pc, and priv unchanged); false, changing nothing, when malformed. */
export function writeRegisters(r: GdbRegisterFile, hex: string): boolean {
  const parts: string[] = [];
  for (let n = 0; n <= REGNUM_PC; n++) parts.push(hex.slice(16 * n, 16 * n + 16));
  const rest = hex.slice(16 * (REGNUM_PC + 1));
  if (parts.some((p) => hexPair(p) === undefined) || (rest !== "" && rest.toLowerCase() !== readRegister(r, REGNUM_PRIV))) return false;
  const pc = hexPair(parts[REGNUM_PC]) as [number, number];
  if (!isExactPair(pc[0], pc[1])) return false;
  parts.forEach((p, n) => writeRegister(r, n, p));
  return true;
}
