/*
 * Register and CSR names for the disassembler (objdump spelling).
 *
 * ABI names are from the RISC-V psABI, "Integer Register Convention". CSR
 * names cover the unprivileged counters and the S- and M-mode CSRs of the
 * privileged spec (tables 2.2-2.6); an unnamed CSR prints as hex, as objdump does.
 */

const ABI_NAMES = [
  "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2",
  "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
  "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7",
  "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
] as const;
export type AbiName = (typeof ABI_NAMES)[number];

/** Register numbers by ABI name, for tests and encoders: `enc.addi(REG.a0, REG.zero, 1)`. */
export const REG: Readonly<Record<AbiName, number>> = Object.fromEntries(
  ABI_NAMES.map((name, index) => [name, index]),
) as Record<AbiName, number>;

/** ABI name of x register `r` (0..31). */
export function regName(r: number): string {
  return ABI_NAMES[r & 31] ?? `x${r}`;
}

const FIXED_CSR_NAMES: ReadonlyArray<readonly [number, string]> = [
  // Unprivileged counters (read-only shadows).
  [0xc00, "cycle"], [0xc01, "time"], [0xc02, "instret"],
  // Supervisor.
  [0x100, "sstatus"], [0x104, "sie"], [0x105, "stvec"], [0x106, "scounteren"],
  [0x10a, "senvcfg"], [0x140, "sscratch"], [0x141, "sepc"], [0x142, "scause"],
  [0x143, "stval"], [0x144, "sip"], [0x14d, "stimecmp"], [0x180, "satp"],
  // Machine information.
  [0xf11, "mvendorid"], [0xf12, "marchid"], [0xf13, "mimpid"], [0xf14, "mhartid"],
  [0xf15, "mconfigptr"],
  // Machine trap setup and handling.
  [0x300, "mstatus"], [0x301, "misa"], [0x302, "medeleg"], [0x303, "mideleg"],
  [0x304, "mie"], [0x305, "mtvec"], [0x306, "mcounteren"], [0x30a, "menvcfg"],
  [0x320, "mcountinhibit"], [0x340, "mscratch"], [0x341, "mepc"], [0x342, "mcause"],
  [0x343, "mtval"], [0x344, "mip"], [0x34a, "mtinst"], [0x34b, "mtval2"],
  [0x747, "mseccfg"],
  // Machine counters.
  [0xb00, "mcycle"], [0xb02, "minstret"],
  // Debug/trace.
  [0x7a0, "tselect"], [0x7a1, "tdata1"], [0x7a2, "tdata2"], [0x7a3, "tdata3"],
  [0x7b0, "dcsr"], [0x7b1, "dpc"], [0x7b2, "dscratch0"], [0x7b3, "dscratch1"],
];

/** Numbered CSR families: [first CSR number, name prefix, first index, count]. */
const CSR_FAMILIES: ReadonlyArray<readonly [number, string, number, number]> = [
  [0xc03, "hpmcounter", 3, 29],
  [0xb03, "mhpmcounter", 3, 29],
  [0x323, "mhpmevent", 3, 29],
  [0x3a0, "pmpcfg", 0, 16],
  [0x3b0, "pmpaddr", 0, 64],
];

function buildCsrNames(): ReadonlyMap<number, string> {
  const names = new Map<number, string>(FIXED_CSR_NAMES);
  for (const [base, prefix, firstIndex, count] of CSR_FAMILIES) {
    for (let i = 0; i < count; i++) names.set(base + i, `${prefix}${firstIndex + i}`);
  }
  return names;
}

const CSR_NAMES: ReadonlyMap<number, string> = buildCsrNames();

/** objdump's spelling of CSR `csr`: its name, or 0x-hex when it has none. */
export function csrName(csr: number): string {
  return CSR_NAMES.get(csr) ?? `0x${csr.toString(16)}`;
}
