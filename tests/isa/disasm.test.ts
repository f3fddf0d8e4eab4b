/*
 * Expected strings are objdump's (`-d -M no-aliases`, binutils 2.40) for the
 * same words, except that jump targets carry a 0x prefix and compressed
 * instructions print as their expansion.
 */

import { describe, expect, it } from "vitest";
import { disassemble } from "../../src/isa/disasm.ts";
import { enc } from "../../src/isa/encode.ts";
import { REG } from "../../src/isa/regnames.ts";

const { zero, ra, sp, t0, a0, a1, a2 } = REG;

const SAMPLES: ReadonlyArray<readonly [number, string]> = [
  [0x00150513, "addi a0,a0,1"],
  [0x80058513, "addi a0,a1,-2048"],
  [0x03f59513, "slli a0,a1,0x3f"],
  [0x4215d513, "srai a0,a1,0x21"],
  [0x01f5951b, "slliw a0,a1,0x1f"],
  [0xfffff537, "lui a0,0xfffff"],
  [0x12345297, "auipc t0,0x12345"],
  [0x008500e7, "jalr ra,8(a0)"],
  [0xff813503, "ld a0,-8(sp)"],
  [0x7ea13fa3, "sd a0,2047(sp)"],
  [0x30051073, "csrrw zero,mstatus,a0"],
  [0x7c0fd573, "csrrwi a0,0x7c0,31"],
  [0x18002573, "csrrs a0,satp,zero"],
  [0x06c5b52f, "amoadd.d.aqrl a0,a2,(a1)"],
  [0x1405a52f, "lr.w.aq a0,(a1)"],
  [0x1ac5b52f, "sc.d.rl a0,a2,(a1)"],
  [0x0ff0000f, "fence iorw,iorw"],
  [0x0210000f, "fence r,w"],
  [0x8330000f, "fence.tso"],
  [0x0100000f, "pause"],
  [0x0000100f, "fence.i"],
  [0x00000073, "ecall"],
  [0x00100073, "ebreak"],
  [0x30200073, "mret"],
  [0x10200073, "sret"],
  [0x10500073, "wfi"],
  [0x12000073, "sfence.vma zero,zero"],
  [0x12b50073, "sfence.vma a0,a1"],
  [0x02c5a533, "mulhsu a0,a1,a2"],
  [0x02c5f53b, "remuw a0,a1,a2"],
  [0x00000000, ".short 0x0000"],
  [0x0000707f, ".word 0x0000707f"],
];

describe("disassembler", () => {
  it.each(SAMPLES)("0x%s prints as objdump does", (inst, text) => {
    expect(disassemble(inst)).toBe(text);
  });

  it("prints jump and branch targets as addresses when pc is given", () => {
    expect(disassemble(enc.jal(ra, 16), 0x80000000)).toBe("jal ra,0x80000010");
    expect(disassemble(enc.beq(a0, a1, -8), 0x80000000)).toBe("beq a0,a1,0x7ffffff8");
    expect(disassemble(enc.jal(zero, -4), 0n)).toBe("jal zero,0xfffffffffffffffc");
    expect(disassemble(enc.bne(a0, zero, 8), 0xffffffff80001000n)).toBe("bne a0,zero,0xffffffff80001008");
  });

  it("prints targets relative to . when no pc is given", () => {
    expect(disassemble(enc.jal(ra, 16))).toBe("jal ra,.+16");
    expect(disassemble(enc.bltu(a0, a1, -4096))).toBe("bltu a0,a1,.-4096");
  });

  it("prints compressed instructions as their 32-bit expansion", () => {
    expect(disassemble(enc.c_addi(a0, 1))).toBe("addi a0,a0,1");
    expect(disassemble(enc.c_ldsp(ra, 8))).toBe("ld ra,8(sp)");
    expect(disassemble(enc.c_mv(a0, a1))).toBe("add a0,zero,a1");
    expect(disassemble(enc.c_jr(ra))).toBe("jalr zero,0(ra)");
    expect(disassemble(enc.c_sdsp(t0, 16))).toBe("sd t0,16(sp)");
    expect(disassemble(enc.c_lui(a2, -1))).toBe("lui a2,0xfffff");
    expect(disassemble(enc.c_j(-2), 0x80000002)).toBe("jal zero,0x80000000");
    expect(disassemble(enc.c_addi4spn(REG.s0, 16))).toBe(`addi s0,sp,16`);
    expect(disassemble(0xa002)).toBe(".short 0xa002");
  });

  it("names the common M, S and U CSRs and prints others in hex", () => {
    expect(disassemble(enc.csrrs(a0, 0xf14, zero))).toBe("csrrs a0,mhartid,zero");
    expect(disassemble(enc.csrrs(a0, 0xc01, zero))).toBe("csrrs a0,time,zero");
    expect(disassemble(enc.csrrw(zero, 0x3b0, a2))).toBe("csrrw zero,pmpaddr0,a2");
    expect(disassemble(enc.csrrc(a0, 0x141, sp))).toBe("csrrc a0,sepc,sp");
    expect(disassemble(enc.csrrs(a0, 0x5c0, zero))).toBe("csrrs a0,0x5c0,zero");
  });
});
