/**
 * Which guest registers a block reads and writes: both tiers load the used
 * ones into locals on entry and store the written ones back at the exit.
 * Register numbers are word indices into the hart's Int32Array file (x_n is
 * words 2n, 2n+1), as the predecoded ops carry them.
 */
import { OP, X0_SINK } from "../../isa/ops.ts";

/** What this needs of a block's instruction (block-compiler.ts Insn). */
interface InsnRegs {
  readonly op: number;
  readonly rd: number;
  readonly rs1: number;
  readonly rs2: number;
}

/** The register words an instruction reads and the one it writes. */
function regsOf(i: InsnRegs): { reads: number[]; write?: number } {
  switch (i.op) {
    case OP.lui: case OP.auipc: case OP.jal:
      return { reads: [], write: i.rd };
    case OP.beq: case OP.bne: case OP.blt: case OP.bge: case OP.bltu: case OP.bgeu:
    case OP.sb: case OP.sh: case OP.sw: case OP.sd:
      return { reads: [i.rs1, i.rs2] };
    case OP.fence:
      return { reads: [] };
    case OP.csrrw: case OP.csrrs: case OP.csrrc: case OP.csrrwi: case OP.csrrsi: case OP.csrrci:
      // The JS tier's csrInstruction reads and writes the register file itself: flushed before, reloaded after.
      return { reads: [] };
    case OP.lb: case OP.lh: case OP.lw: case OP.ld: case OP.lbu: case OP.lhu: case OP.lwu: case OP.jalr:
    case OP.addi: case OP.slti: case OP.sltiu: case OP.xori: case OP.ori: case OP.andi: case OP.slli: case OP.srli: case OP.srai:
    case OP.addiw: case OP.slliw: case OP.srliw: case OP.sraiw:
      return { reads: [i.rs1], write: i.rd };
    default: // register-register ops (the M extension's included)
      return { reads: [i.rs1, i.rs2], write: i.rd };
  }
}

/** The register words (even: a pair's first) that `insns` use, and of those the ones they write; x0 and its sink excepted; ascending. */
export function registerUse(insns: readonly InsnRegs[]): { used: number[]; written: number[] } {
  // Bit n of a mask: register word 2n (x0..x31 only; the sink, word X0_SINK, is never stored). Masks, not
  // Sets: the wasm tier scans every instruction of every region it compiles.
  let used = 0;
  let written = 0;
  for (const i of insns) {
    const r = regsOf(i);
    for (const s of r.reads) used |= 1 << (s >>> 1);
    if (r.write !== undefined && r.write !== X0_SINK) {
      used |= 1 << (r.write >>> 1);
      written |= 1 << (r.write >>> 1);
    }
  }
  return { used: words(used & ~1), written: words(written & ~1) };
}

/** The register words whose bits are set in `mask`, ascending. */
function words(mask: number): number[] {
  const out: number[] = [];
  for (let n = 0; n < 32; n++) if ((mask >>> n) & 1) out.push(2 * n);
  return out;
}
