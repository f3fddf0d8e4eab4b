/*
 * --isa-variant nonvirt: a RISC-V that breaks Popek and Goldberg's condition.
 *
 * Popek & Goldberg (1974): a machine can be virtualized by trap-and-emulate
 * when every *sensitive* instruction (one that reads or changes the
 * machine's privileged state) is *privileged* (traps when run outside the
 * most privileged mode). Standard RISC-V satisfies it: every access to an S-
 * or M-level CSR from U-mode raises illegal instruction. x86 before VT-x did
 * not: `pushf` and `smsw` read IF and the machine status word in ring 3
 * without trapping, and `popf` in ring 3 silently ignored a change of IF,
 * while `cli`/`sti` did trap. This variant gives RISC-V the same flaw, in U-mode only,
 * for exactly these instructions (rd, rs1 any registers):
 *
 *   instruction (register form)        on the variant, in U-mode        x86 analogue
 *   ---------------------------------  -------------------------------  -------------
 *   csrrs rd, sstatus, x0  (csrr)      rd = the REAL sstatus: SIE, SPP   pushf (IF)
 *   csrrs rd, mstatus, x0  (csrr)      rd = the REAL mstatus: MIE, MPP   pushf, smsw
 *   csrrw/csrrs/csrrc rd, sstatus, rs1 rd = the real value; the write is popf
 *   csrrw/csrrs/csrrc rd, mstatus, rs1 silently dropped (no trap)
 *
 * Why each is sensitive: sstatus.SIE/mstatus.MIE is the interrupt enable
 * (control-sensitive: writing it changes whether the hart can be
 * interrupted); SPP/MPP record the privilege the hart trapped from and
 * SPIE/MPIE the enable it had (behaviour-sensitive: a kernel that reads them
 * learns what privilege it really runs at and whether interrupts are really
 * on). Every bit of these two registers is privileged state — unlike
 * x86's flags they hold nothing a user program may change — so the variant
 * drops the whole write, as popf drops IF.
 *
 * The immediate forms (csrrwi, csrrsi, csrrci: one-bit flips of a constant,
 * the way a kernel writes `csrci sstatus, SIE`) stay privileged and trap, as
 * `cli`/`sti` did. Every other CSR, every other mode and every other
 * instruction behave as standard RISC-V. So a deprivileged guest kernel
 * under trap-and-emulate sees its `csrsi`/`csrci` emulated correctly, but
 * reads the real hart's state with `csrr` and loses every `csrw`/`csrc`/`csrs`
 * of its status register — the bugs a pre-VT x86 guest had with pushf/popf.
 */

import { X0_SINK } from "../isa/ops.ts";
import type { CsrFile } from "./csr.ts";
import * as R from "./riscv.ts";

/** The machine's instruction-set variants: standard RISC-V, or the non-virtualizable one above. */
export const ISA_VARIANTS = ["standard", "nonvirt"] as const;
export type IsaVariant = (typeof ISA_VARIANTS)[number];

/** Whether `csr` is one of the variant's sensitive-but-unprivileged CSRs. */
export function isNonvirtCsr(csr: number): boolean {
  return csr === R.CSR_SSTATUS || csr === R.CSR_MSTATUS;
}

const OPCODE_SYSTEM = 0x73;
/** funct3 of csrrw, csrrs, csrrc (the register forms); 5..7 are the immediate forms. */
const FUNCT3_CSRRW = 1;
const FUNCT3_CSRRC = 3;

/**
 * Whether the 32-bit instruction `bits` is one the variant runs in U-mode
 * without trapping (the table above): a register-form CSR instruction on
 * sstatus or mstatus. The hypervisor's code scanner looks for exactly these.
 */
export function isNonvirtSensitive(bits: number): boolean {
  if ((bits & 0x7f) !== OPCODE_SYSTEM) return false;
  const funct3 = (bits >>> 12) & 7;
  return funct3 >= FUNCT3_CSRRW && funct3 <= FUNCT3_CSRRC && isNonvirtCsr(bits >>> 20);
}

/**
 * Executes a sensitive CSR instruction in U-mode as the variant does: `rd`
 * (a doubled register index as the hart predecodes it; X0_SINK for x0)
 * receives the real register's value, and the write part is dropped.
 */
export function executeNonvirtCsr(c: CsrFile, x: Int32Array, rd: number, csr: number): void {
  if (rd === X0_SINK) return;
  c.read(csr);
  x[rd] = c.rlo;
  x[rd + 1] = c.rhi;
}
