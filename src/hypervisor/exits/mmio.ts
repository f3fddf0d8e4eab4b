/*
 * MMIO exits: the guest touched a device register. Its load or store page-
 * faulted on an MMIO hole; the hypervisor decodes the instruction, performs
 * the access on the VM's device model (the same models the native board
 * uses), writes the loaded value into the destination register with the
 * instruction's sign or zero extension, and steps pc past the instruction.
 */

import type { Bus } from "../../machine/bus.ts";
import type { VcpuContext } from "../vcpu-context.ts";
import { decodeMmioAccess } from "./mmio-decode.ts";

/** Emulates the access; false if the instruction is no plain load/store or nothing answers at gpa. */
export function performMmio(bus: Bus, ctx: VcpuContext, gpa: number, insn: number, pc: number): boolean {
  const access = decodeMmioAccess(insn);
  if (access === undefined) return false;
  const x = ctx.x;
  const r = access.reg * 2;
  if (access.write) {
    const lo = x[r];
    const hi = x[r + 1];
    // A device sees only the bytes stored (sb/sh carry the low 8/16 bits of rs2), as on the native board.
    const narrow = access.width === 1 ? lo & 0xff : access.width === 2 ? lo & 0xffff : lo >>> 0;
    const ok = access.width === 8 ? bus.write(gpa, 4, lo >>> 0) && bus.write(gpa + 4, 4, hi >>> 0) : bus.write(gpa, access.width, narrow);
    if (!ok) return false;
  } else {
    let lo: number;
    let hi: number;
    if (access.width === 8) {
      const a = bus.read(gpa, 4);
      const b = a < 0 ? -1 : bus.read(gpa + 4, 4);
      if (b < 0) return false;
      lo = a | 0;
      hi = b | 0;
    } else {
      const v = bus.read(gpa, access.width);
      if (v < 0) return false;
      const shift = 32 - 8 * access.width;
      lo = access.signed ? (v << shift) >> shift : v | 0;
      hi = access.signed ? lo >> 31 : 0;
      if (access.width === 4 && !access.signed) hi = 0;
    }
    ctx.setResultPair(access.reg, lo, hi);
  }
  ctx.pc = pc + access.length;
  return true;
}
