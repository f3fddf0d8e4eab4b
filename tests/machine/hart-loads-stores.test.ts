/*
 * Loads and stores (unpriv 2.6, 5.3): every width, sign and zero extension,
 * misaligned accesses (popek performs them, as the spec permits: unpriv
 * 2.6 "misaligned accesses ... may be handled in hardware"), accesses that
 * straddle a page, MMIO through the bus and access faults outside it.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import * as R from "../../src/machine/riscv.ts";
import { PAGE_SIZE } from "../../src/machine/memlayout.ts";
import { AD, CODE_BASE, DATA_BASE, FAKE_DEVICE_BASE, HartHarness, PageTables, RWX, hex } from "../helpers/hart-harness.ts";

const BASE = 5, RD = 7, SRC = 6;
/** A pattern with the top bit set in every byte, so sign extension shows at every width. */
const PATTERN = 0x8182_8384_8586_8788n;

type LoadEnc = (rd: number, rs1: number, off: number) => number;
const LOADS: [string, LoadEnc, number, boolean][] = [
  ["lb", enc.lb, 1, true], ["lbu", enc.lbu, 1, false],
  ["lh", enc.lh, 2, true], ["lhu", enc.lhu, 2, false],
  ["lw", enc.lw, 4, true], ["lwu", enc.lwu, 4, false],
  ["ld", enc.ld, 8, true],
];

/** Little-endian bytes of PATTERN placed at DATA_BASE, repeated. */
function fillPattern(t: HartHarness, at: number, len = 64): void {
  for (let i = 0; i < len; i += 8) t.write64(at + i, PATTERN);
}

/** What a load of `width` bytes at byte offset `off` into the repeated pattern returns. */
function expected(off: number, width: number, signed: boolean): bigint {
  let v = 0n;
  for (let k = width - 1; k >= 0; k--) {
    const byte = (PATTERN >> BigInt(8 * ((off + k) % 8))) & 0xffn;
    v = (v << 8n) | byte;
  }
  return signed ? BigInt.asUintN(64, BigInt.asIntN(8 * width, v)) : v;
}

describe("loads of every width: sign and zero extension (unpriv 2.6, 5.3)", () => {
  const t = new HartHarness();
  for (const [name, encode, width, signed] of LOADS) {
    it(`${name} ${signed ? "sign" : "zero"}-extends a ${width}-byte value, aligned and misaligned`, () => {
      fillPattern(t, DATA_BASE);
      for (let off = 0; off < 8; off++) {
        t.program([encode(RD, BASE, off)]);
        t.setReg(BASE, DATA_BASE);
        t.run(1);
        t.expectPc(`${name} +${off}`, CODE_BASE + 4);
        t.expectReg(`${name} x${RD}, ${off}(${hex(DATA_BASE)})`, RD, expected(off, width, signed));
      }
    });
  }
  it("a load whose value has bit 7/15/31 clear is not sign-extended", () => {
    t.write64(DATA_BASE, 0x0102_0304_7f7e_7d7cn);
    t.program([enc.lb(RD, BASE, 0), enc.lh(8, BASE, 0), enc.lw(9, BASE, 0)]);
    t.setReg(BASE, DATA_BASE);
    t.run(3);
    t.expectReg("lb", RD, 0x7cn);
    t.expectReg("lh", 8, 0x7d7cn);
    t.expectReg("lw", 9, 0x7f7e_7d7cn);
  });
  it("base + negative offset, with the addition borrowing in the low word", () => {
    t.write64(DATA_BASE, 0x1122_3344_5566_7788n);
    t.program([enc.ld(RD, BASE, -2048)]);
    t.setReg(BASE, DATA_BASE + 2048);
    t.run(1);
    t.expectReg("ld -2048", RD, 0x1122_3344_5566_7788n);
  });
  it("a load into x0 is performed and discarded", () => {
    t.program([enc.ld(0, BASE, 0)]);
    t.setReg(BASE, DATA_BASE);
    t.run(1);
    t.expectReg("ld x0", 0, 0n);
    t.expectPc("ld x0", CODE_BASE + 4);
  });
});

type StoreEnc = (rs2: number, rs1: number, off: number) => number;
const STORES: [string, StoreEnc, number][] = [["sb", enc.sb, 1], ["sh", enc.sh, 2], ["sw", enc.sw, 4], ["sd", enc.sd, 8]];

describe("stores of every width write exactly their bytes (unpriv 2.6)", () => {
  const t = new HartHarness();
  const VALUE = 0x0102_0304_0506_0708n;
  for (const [name, encode, width] of STORES) {
    it(`${name} at every byte offset 0..7, aligned and misaligned`, () => {
      for (let off = 0; off < 8; off++) {
        t.write64(DATA_BASE, 0xaaaa_aaaa_aaaa_aaaan);
        t.write64(DATA_BASE + 8, 0xaaaa_aaaa_aaaa_aaaan);
        t.program([encode(SRC, BASE, off)]);
        t.setRegs({ [BASE]: DATA_BASE, [SRC]: VALUE });
        t.run(1);
        for (let k = -1; k < 16 - off && off + k < 16; k++) {
          if (off + k < 0) continue;
          const want = k >= 0 && k < width ? Number((VALUE >> BigInt(8 * k)) & 0xffn) : 0xaa;
          expect(t.read8(DATA_BASE + off + k), `${name} +${off}: byte ${off + k}`).toBe(want);
        }
      }
    });
  }
  it("a store then a load of the same address see the same value (store TLB and load TLB agree)", () => {
    t.program([enc.sd(SRC, BASE, 8), enc.ld(RD, BASE, 8), enc.sw(0, BASE, 12), enc.ld(8, BASE, 8)]);
    t.setRegs({ [BASE]: DATA_BASE, [SRC]: 0xdead_beef_cafe_f00dn });
    t.run(4);
    t.expectReg("ld after sd", RD, 0xdead_beef_cafe_f00dn);
    t.expectReg("ld after sw 0 to the high half", 8, 0xcafe_f00dn);
  });
});

describe("accesses that straddle a page boundary", () => {
  it("bare: misaligned ld/sd across two physical pages", () => {
    const t = new HartHarness();
    const at = DATA_BASE + PAGE_SIZE - 3;
    t.program([enc.sd(SRC, BASE, 0), enc.ld(RD, BASE, 0), enc.lw(8, BASE, 1)]);
    t.setRegs({ [BASE]: at, [SRC]: 0x1122_3344_5566_7788n });
    t.run(3);
    t.expectReg("ld across pages", RD, 0x1122_3344_5566_7788n);
    t.expectReg("lw across pages", 8, 0x4455_6677n);
  });

  function sv39(): { t: HartHarness; pt: PageTables; va: number } {
    const t = new HartHarness();
    const pt = new PageTables(t);
    const va = 0x4000_0000;
    // Two consecutive virtual pages backed by frames far apart, in the wrong order.
    pt.map(va, DATA_BASE + 5 * PAGE_SIZE, R.PTE_R | R.PTE_W | AD);
    pt.map(va + PAGE_SIZE, DATA_BASE + 2 * PAGE_SIZE, R.PTE_R | R.PTE_W | AD);
    pt.map(CODE_BASE, CODE_BASE, RWX | AD);
    t.setCsr(R.CSR_SATP, pt.satp());
    t.setPriv(R.PRV_S);
    return { t, pt, va };
  }

  it("Sv39: a misaligned ld/sd straddling two pages uses each page's own frame", () => {
    const { t, va } = sv39();
    t.load([enc.sd(SRC, BASE, 0), enc.ld(RD, BASE, 0)]);
    t.setRegs({ [BASE]: va + PAGE_SIZE - 2, [SRC]: 0x1122_3344_5566_7788n });
    t.run(2);
    t.expectReg("ld straddling", RD, 0x1122_3344_5566_7788n);
    expect(t.read8(DATA_BASE + 5 * PAGE_SIZE + PAGE_SIZE - 2)).toBe(0x88);
    expect(t.read8(DATA_BASE + 5 * PAGE_SIZE + PAGE_SIZE - 1)).toBe(0x77);
    expect(t.read8(DATA_BASE + 2 * PAGE_SIZE)).toBe(0x66);
    expect(t.read8(DATA_BASE + 2 * PAGE_SIZE + 5)).toBe(0x11);
  });

  it("Sv39: a straddling store whose second page is unmapped faults and writes nothing", () => {
    const { t, pt, va } = sv39();
    pt.setPte(va + PAGE_SIZE, 0, 0n);
    t.setCsr(R.CSR_STVEC, CODE_BASE + 0x100);
    t.setCsr(R.CSR_MEDELEG, 1 << R.CAUSE_STORE_PAGE_FAULT | 1 << R.CAUSE_LOAD_PAGE_FAULT);
    t.write64(DATA_BASE + 5 * PAGE_SIZE + PAGE_SIZE - 8, 0n);
    t.load([enc.sd(SRC, BASE, 0)]);
    t.setRegs({ [BASE]: va + PAGE_SIZE - 4, [SRC]: -1n });
    t.run(1);
    t.expectSTrap("sd straddling into unmapped page", R.CAUSE_STORE_PAGE_FAULT, CODE_BASE);
    const tval = Number(t.csr(R.CSR_STVAL));
    expect(tval >= va + PAGE_SIZE - 4 && tval < va + PAGE_SIZE + 4, `stval ${hex(tval)} inside the access`).toBe(true);
    expect(t.read64(DATA_BASE + 5 * PAGE_SIZE + PAGE_SIZE - 8), "first page untouched").toBe(0n);
  });

  it("Sv39: a straddling load whose second page is unmapped raises a load page fault", () => {
    const { t, pt, va } = sv39();
    pt.setPte(va + PAGE_SIZE, 0, 0n);
    t.setCsr(R.CSR_STVEC, CODE_BASE + 0x100);
    t.setCsr(R.CSR_MEDELEG, 1 << R.CAUSE_LOAD_PAGE_FAULT);
    t.load([enc.lw(RD, BASE, 0)]);
    t.setRegs({ [BASE]: va + PAGE_SIZE - 2, [RD]: 0x55n });
    t.run(1);
    t.expectSTrap("lw straddling", R.CAUSE_LOAD_PAGE_FAULT, CODE_BASE);
    t.expectReg("lw straddling leaves rd", RD, 0x55n);
  });
});

describe("MMIO and access faults (priv spec 3.6: PMAs)", () => {
  it("loads of every width from a device, sign- and zero-extended; ld is split into two 4-byte reads", () => {
    const t = new HartHarness({ device: true });
    const dev = t.device!;
    dev.regs.set(0, 0x8000_00f0);
    dev.regs.set(4, 0x1234_5678);
    t.program([enc.lw(RD, BASE, 0), enc.lwu(8, BASE, 0), enc.lb(9, BASE, 0), enc.lhu(10, BASE, 0), enc.ld(11, BASE, 0)]);
    t.setReg(BASE, FAKE_DEVICE_BASE);
    t.run(5);
    t.expectReg("lw mmio", RD, 0xffff_ffff_8000_00f0n);
    t.expectReg("lwu mmio", 8, 0x8000_00f0n);
    t.expectReg("lb mmio", 9, 0xffff_ffff_ffff_fff0n);
    t.expectReg("lhu mmio", 10, 0x00f0n);
    t.expectReg("ld mmio", 11, 0x1234_5678_8000_00f0n);
    expect(dev.log.slice(-2)).toEqual(["r4@0", "r4@4"]);
  });
  it("stores to a device: sb/sh/sw with their width, sd as two 4-byte writes low half first", () => {
    const t = new HartHarness({ device: true });
    t.program([enc.sb(SRC, BASE, 1), enc.sh(SRC, BASE, 2), enc.sw(SRC, BASE, 4), enc.sd(SRC, BASE, 8)]);
    t.setRegs({ [BASE]: FAKE_DEVICE_BASE, [SRC]: 0x1122_3344_5566_7788n });
    t.run(4);
    expect(t.device!.log).toEqual(["w1@1=88", "w2@2=7788", "w4@4=55667788", "w4@8=55667788", "w4@12=11223344"]);
    t.expectPc("after stores", CODE_BASE + 16);
  });
  it("a load from an address nothing answers raises load access fault (cause 5) with tval = address", () => {
    const t = new HartHarness();
    t.setCsr(R.CSR_MTVEC, CODE_BASE + 0x100);
    t.load([enc.lw(RD, BASE, 4)]);
    t.setReg(BASE, 0x3000_0000);
    t.run(1);
    t.expectMTrap("lw unmapped", R.CAUSE_LOAD_ACCESS, CODE_BASE, 0x3000_0004);
    t.expectPc("handler", CODE_BASE + 0x100);
  });
  it("a store to an address nothing answers raises store access fault (cause 7) with tval = address", () => {
    const t = new HartHarness();
    t.setCsr(R.CSR_MTVEC, CODE_BASE + 0x100);
    t.load([enc.sd(SRC, BASE, -8)]);
    t.setReg(BASE, 0x3000_0000);
    t.run(1);
    t.expectMTrap("sd unmapped", R.CAUSE_STORE_ACCESS, CODE_BASE, 0x2fff_fff8);
  });
  it("a load past the end of RAM raises load access fault", () => {
    const t = new HartHarness();
    t.setCsr(R.CSR_MTVEC, CODE_BASE + 0x100);
    t.load([enc.ld(RD, BASE, 0)]);
    t.setReg(BASE, CODE_BASE + t.mem.size);
    t.run(1);
    t.expectMTrap("ld past RAM", R.CAUSE_LOAD_ACCESS, CODE_BASE, CODE_BASE + t.mem.size);
  });
  for (const [what, insn, cause] of [
    ["ld", enc.ld(RD, BASE, 0), R.CAUSE_LOAD_ACCESS],
    ["lw (misaligned)", enc.lw(RD, BASE, 2), R.CAUSE_LOAD_ACCESS],
    ["sd", enc.sd(SRC, BASE, 0), R.CAUSE_STORE_ACCESS],
    ["sh (misaligned)", enc.sh(SRC, BASE, 1), R.CAUSE_STORE_ACCESS],
    ["amoswap.d", enc.amoswap_d(RD, BASE, SRC), R.CAUSE_STORE_ACCESS],
    ["lr.w", enc.lr_w(RD, BASE), R.CAUSE_LOAD_ACCESS],
  ] as const) {
    it(`M-mode ${what} at an address with bit 63 set raises an access fault (no RAM or device there)`, () => {
      const t = new HartHarness();
      t.setCsr(R.CSR_MTVEC, CODE_BASE + 0x100);
      t.load([insn]);
      t.setRegs({ [BASE]: 0xffff_ffff_8000_0000n, [RD]: 0x55n });
      t.run(1);
      const off = what.startsWith("lw") ? 2 : what.startsWith("sh") ? 1 : 0;
      t.expectMTrap(`${what} at 0xffffffff80000000`, cause, CODE_BASE);
      const tval = t.csr(R.CSR_MTVAL);
      expect(tval >= 0xffff_ffff_8000_0000n + BigInt(off) && tval < 0xffff_ffff_8000_0010n, `mtval ${hex(tval)}`).toBe(true);
      t.expectReg(`${what}: rd unchanged`, RD, 0x55n);
      t.expectPc(`${what}: handler`, CODE_BASE + 0x100);
    });
  }
  it("a misaligned ld straddling the end of RAM faults on the part outside", () => {
    const t = new HartHarness();
    t.setCsr(R.CSR_MTVEC, CODE_BASE + 0x100);
    t.load([enc.ld(RD, BASE, 0)]);
    t.setReg(BASE, CODE_BASE + t.mem.size - 4);
    t.run(1);
    expect(Number(t.csr(R.CSR_MCAUSE))).toBe(R.CAUSE_LOAD_ACCESS);
  });
});
