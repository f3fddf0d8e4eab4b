import { describe, expect, it } from "vitest";
import { decodeMmioAccess } from "../../../src/hypervisor/exits/mmio-decode.ts";
import type { MmioAccess } from "../../../src/hypervisor/exits/mmio-decode.ts";
import { enc } from "../../../src/isa/encode.ts";
import { REG } from "../../../src/isa/regnames.ts";

const { zero, ra, sp, s0, s1, a0, a1, a5, t6 } = REG;

const access = (a: Partial<MmioAccess>): MmioAccess => ({
  write: false, width: 4, signed: false, reg: 0, base: 0, offset: 0, length: 4, ...a,
});

describe("decodeMmioAccess: 32-bit loads (unpriv 2.6)", () => {
  const loads = [
    ["lb", 1, true], ["lh", 2, true], ["lw", 4, true], ["ld", 8, true],
    ["lbu", 1, false], ["lhu", 2, false], ["lwu", 4, false],
  ] as const;
  for (const [name, width, signed] of loads) {
    it(`${name} reads ${width} byte(s)${signed ? ", sign-extended" : ", zero-extended"}, into rd`, () => {
      expect(decodeMmioAccess(enc[name](a0, a1, -5))).toEqual(access({ width, signed, reg: a0, base: a1, offset: -5 }));
    });
  }

  it("a load into x0 is still an access (reg 0): a device read may have side effects", () => {
    expect(decodeMmioAccess(enc.lbu(zero, a0, 5))).toEqual(access({ width: 1, reg: 0, base: a0, offset: 5 }));
  });

  it("takes the full 12-bit signed offset range", () => {
    expect(decodeMmioAccess(enc.lw(t6, ra, 2047))?.offset).toBe(2047);
    expect(decodeMmioAccess(enc.lw(t6, ra, -2048))?.offset).toBe(-2048);
  });

  it("accepts the instruction word signed or unsigned", () => {
    const word = enc.ld(a0, a1, -8);
    expect(decodeMmioAccess(word | 0)).toEqual(decodeMmioAccess(word >>> 0));
  });
});

describe("decodeMmioAccess: 32-bit stores", () => {
  const stores = [["sb", 1], ["sh", 2], ["sw", 4], ["sd", 8]] as const;
  for (const [name, width] of stores) {
    it(`${name} writes ${width} byte(s) from rs2`, () => {
      expect(decodeMmioAccess(enc[name](a5, sp, -16))).toEqual(access({ write: true, width, reg: a5, base: sp, offset: -16 }));
    });
  }

  it("a store of x0 writes zero (reg 0)", () => {
    expect(decodeMmioAccess(enc.sw(zero, a0, 0))).toEqual(access({ write: true, width: 4, reg: 0, base: a0 }));
  });
});

describe("decodeMmioAccess: compressed loads and stores (unpriv 16.3), length 2", () => {
  it("c.lw and c.ld use rd'/rs1' (x8..x15)", () => {
    expect(decodeMmioAccess(enc.c_lw(s1, s0, 124))).toEqual(access({ width: 4, signed: true, reg: s1, base: s0, offset: 124, length: 2 }));
    expect(decodeMmioAccess(enc.c_ld(a5, a0, 248))).toEqual(access({ width: 8, signed: true, reg: a5, base: a0, offset: 248, length: 2 }));
  });

  it("c.sw and c.sd store rs2'", () => {
    expect(decodeMmioAccess(enc.c_sw(a0, s1, 4))).toEqual(access({ write: true, width: 4, reg: a0, base: s1, offset: 4, length: 2 }));
    expect(decodeMmioAccess(enc.c_sd(s0, a5, 8))).toEqual(access({ write: true, width: 8, reg: s0, base: a5, offset: 8, length: 2 }));
  });

  it("c.lwsp, c.ldsp, c.swsp, c.sdsp are sp-relative with any register", () => {
    expect(decodeMmioAccess(enc.c_lwsp(t6, 252))).toEqual(access({ width: 4, signed: true, reg: t6, base: sp, offset: 252, length: 2 }));
    expect(decodeMmioAccess(enc.c_ldsp(ra, 504))).toEqual(access({ width: 8, signed: true, reg: ra, base: sp, offset: 504, length: 2 }));
    expect(decodeMmioAccess(enc.c_swsp(t6, 252))).toEqual(access({ write: true, width: 4, reg: t6, base: sp, offset: 252, length: 2 }));
    expect(decodeMmioAccess(enc.c_sdsp(zero, 504))).toEqual(access({ write: true, width: 8, reg: 0, base: sp, offset: 504, length: 2 }));
  });

  it("ignores the bits above a compressed instruction (the next parcel)", () => {
    const c = enc.c_lw(s1, s0, 0);
    expect(decodeMmioAccess((0xdead << 16) | c)).toEqual(decodeMmioAccess(c));
  });

  it("c.lwsp/c.ldsp with rd = x0 are reserved, not loads", () => {
    expect(decodeMmioAccess(0x4002)).toBeUndefined(); // c.lwsp x0, 0(sp)
    expect(decodeMmioAccess(0x6002)).toBeUndefined(); // c.ldsp x0, 0(sp)
  });
});

describe("decodeMmioAccess: everything else is not emulated", () => {
  it("AMOs and LR/SC (the hypervisor reflects an access fault)", () => {
    expect(decodeMmioAccess(enc.amoadd_w(a0, a1, a5))).toBeUndefined();
    expect(decodeMmioAccess(enc.amoswap_d(a0, a1, a5))).toBeUndefined();
    expect(decodeMmioAccess(enc.lr_w(a0, a1))).toBeUndefined();
    expect(decodeMmioAccess(enc.sc_d(a0, a1, a5))).toBeUndefined();
  });

  it("non-memory instructions (a fetch fault has no access to emulate)", () => {
    expect(decodeMmioAccess(enc.addi(a0, a1, 1))).toBeUndefined();
    expect(decodeMmioAccess(enc.jalr(ra, a0, 0))).toBeUndefined();
    expect(decodeMmioAccess(enc.ecall())).toBeUndefined();
    expect(decodeMmioAccess(enc.csrrw(a0, 0x140, a1))).toBeUndefined();
    expect(decodeMmioAccess(enc.c_addi4spn(s0, 16))).toBeUndefined();
  });

  it("garbage: all zeros, all ones, a reserved load funct3", () => {
    expect(decodeMmioAccess(0)).toBeUndefined();
    expect(decodeMmioAccess(0xffffffff)).toBeUndefined();
    expect(decodeMmioAccess(0x00007003)).toBeUndefined(); // LOAD opcode, funct3 = 7
  });
});
