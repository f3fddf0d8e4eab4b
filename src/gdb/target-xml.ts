/*
 * The target description GDB reads with qXfer:features:read:target.xml
 * (GDB manual, "Target Descriptions" and "RISC-V Features"): a 64-bit
 * RISC-V core, the org.gnu.gdb.riscv.cpu feature with x0..x31 by their ABI
 * names and pc, plus the one-byte `priv` register of
 * org.gnu.gdb.riscv.virtual (the hart's privilege level, read-only here).
 * The register numbers are the order of 'g' and the numbers of 'p'/'P'.
 */

import { regName } from "../isa/regnames.ts";

/** Register numbers in the protocol: x0..x31 are 0..31. */
export const REGNUM_PC = 32;
export const REGNUM_PRIV = 33;

/** The ABI names of x0..x31, as GDB's own riscv 64bit-cpu.xml names them (x8 is fp there). */
function cpuRegister(r: number): string {
  const name = r === 8 ? "fp" : regName(r);
  const type = r === 1 ? "code_ptr" : r === 2 || r === 3 || r === 4 || r === 8 ? "data_ptr" : "int";
  return `<reg name="${name}" bitsize="64" type="${type}" regnum="${r}"/>`;
}

export const TARGET_XML = [
  '<?xml version="1.0"?>',
  '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
  "<target>",
  "<architecture>riscv:rv64</architecture>",
  '<feature name="org.gnu.gdb.riscv.cpu">',
  ...Array.from({ length: 32 }, (_, r) => cpuRegister(r)),
  `<reg name="pc" bitsize="64" type="code_ptr" regnum="${REGNUM_PC}"/>`,
  "</feature>",
  '<feature name="org.gnu.gdb.riscv.virtual">',
  `<reg name="priv" bitsize="8" type="int" regnum="${REGNUM_PRIV}"/>`,
  "</feature>",
  "</target>",
].join("\n");
