/*
 * MMIO exits: the guest touched a device register. Its load or store page-
 * faulted on an MMIO hole; the hypervisor decodes the instruction, performs
 * the access on the VM's device models by the board's own rule
 * (src/machine/mmio-access.ts: aligned pieces, narrowed data, a fault at the
 * first piece no device answers — exactly what the access does natively),
 * writes the loaded value into the destination register with the
 * instruction's sign or zero extension, and steps pc past the instruction.
 */

import type { Bus } from "../../machine/bus.ts";
import { MMIO_OK, mmioLoad, mmioStore } from "../../machine/mmio-access.ts";
import * as R from "../../machine/riscv.ts";
import type { VcpuContext } from "../vcpu-context.ts";
import { decodeMmioAccess } from "./mmio-decode.ts";
import { reflectException } from "./reflect.ts";

/** Where mmioLoad leaves a value. Exits are handled one at a time per thread. */
const loadedValue = new Int32Array(2);

/**
 * Emulates the access at `pc` (bits `insn`) that faulted at gpa — at the
 * address `va` as the guest sees it (the same when it runs untranslated;
 * under guest paging, the virtual address its shadow fill resolved to gpa).
 * False if the instruction is no plain load or store (the caller reflects
 * an access fault). True once handled: performed, or — when some piece of
 * it reaches no device — an access fault reflected at that piece's address.
 * `start` is where the access begins as the guest addresses it (base
 * register plus offset), which the vCPU wrote into the exit record
 * (accessStartInto).
 */
export function performMmio(bus: Bus, ctx: VcpuContext, gpa: number, insn: number, pc: number, start: number, va = gpa): boolean {
  const access = decodeMmioAccess(insn);
  if (access === undefined) return false;
  const x = ctx.x;
  const cause = access.write ? R.CAUSE_STORE_ACCESS : R.CAUSE_LOAD_ACCESS;
  // When the access's own start differs from va, the access began in RAM and faulted only where it
  // crossed into this page: partly RAM, partly device memory, it faults at its first RAM piece
  // (mmio-access.ts), its start.
  if (start !== va) {
    reflectException(ctx, cause, start, pc);
    return true;
  }
  const r = access.reg * 2;
  const bad = access.write
    ? mmioStore(bus, gpa, access.width, x[r], x[r + 1])
    : mmioLoad(bus, gpa, access.width, loadedValue);
  if (bad !== MMIO_OK) {
    reflectException(ctx, cause, va + bad, pc);
    return true;
  }
  if (!access.write) {
    // mmioLoad zero-extends; lb/lh/lw sign-extend from the access's top bit.
    let vlo = loadedValue[0];
    let vhi = loadedValue[1];
    if (access.signed && access.width < 8) {
      const shift = 32 - 8 * access.width;
      vlo = (vlo << shift) >> shift;
      vhi = vlo >> 31;
    }
    ctx.setResultPair(access.reg, vlo, vhi);
  }
  ctx.pc = pc + access.length;
  return true;
}
