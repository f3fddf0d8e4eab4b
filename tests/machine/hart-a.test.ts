/*
 * The A extension (unpriv ch. 8): LR/SC reservations and every AMO in .w and
 * .d form, returning the old value (sign-extended for .w) and storing the
 * operation's result; misaligned atomics raise address-misaligned (priv spec
 * table 3.6: cause 6 for store/AMO, cause 4 for LR) rather than being emulated.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import * as R from "../../src/machine/riscv.ts";
import { AD, CODE_BASE, DATA_BASE, FAKE_DEVICE_BASE, HartHarness, PageTables, RWX, hex } from "../helpers/hart-harness.ts";

const ADDR = 5, SRC = 6, RD = 7;
const M64 = (1n << 64n) - 1n;
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);
const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);
const sx32 = (v: bigint): bigint => u64(s32(v));

function harness(): HartHarness {
  const t = new HartHarness({ device: true });
  t.setCsr(R.CSR_MTVEC, CODE_BASE + 0x100);
  return t;
}

describe("LR/SC (unpriv 8.2)", () => {
  it("lr.d then sc.d to the same address succeeds: rd = 0 and memory updated", () => {
    const t = harness();
    t.write64(DATA_BASE, 0x1111_2222_3333_4444n);
    t.load([enc.lr_d(RD, ADDR), enc.sc_d(8, ADDR, SRC)]);
    t.setRegs({ [ADDR]: DATA_BASE, [SRC]: 0xaaaa_bbbb_cccc_ddddn });
    t.run(2);
    t.expectReg("lr.d", RD, 0x1111_2222_3333_4444n);
    t.expectReg("sc.d success", 8, 0n);
    expect(hex(t.read64(DATA_BASE))).toBe(hex(0xaaaa_bbbb_cccc_ddddn));
  });
  it("lr.w sign-extends; sc.w stores 32 bits and leaves the upper word", () => {
    const t = harness();
    t.write64(DATA_BASE, 0x5555_5555_8000_0001n);
    t.load([enc.lr_w(RD, ADDR), enc.sc_w(8, ADDR, SRC)]);
    t.setRegs({ [ADDR]: DATA_BASE, [SRC]: 0xffff_ffff_1234_5678n });
    t.run(2);
    t.expectReg("lr.w", RD, 0xffff_ffff_8000_0001n);
    t.expectReg("sc.w success", 8, 0n);
    expect(hex(t.read64(DATA_BASE))).toBe(hex(0x5555_5555_1234_5678n));
  });
  it("sc without a reservation fails: rd != 0 and memory unchanged", () => {
    const t = harness();
    t.write64(DATA_BASE, 7n);
    t.load([enc.sc_d(8, ADDR, SRC)]);
    t.setRegs({ [ADDR]: DATA_BASE, [SRC]: 9n });
    t.run(1);
    expect(t.reg(8), "sc.d without lr: rd").not.toBe(0n);
    expect(t.read64(DATA_BASE)).toBe(7n);
  });
  it("sc to another address than the lr fails", () => {
    const t = harness();
    t.write64(DATA_BASE, 1n);
    t.write64(DATA_BASE + 8, 2n);
    t.load([enc.lr_d(RD, ADDR), enc.addi(ADDR, ADDR, 8), enc.sc_d(8, ADDR, SRC)]);
    t.setRegs({ [ADDR]: DATA_BASE, [SRC]: 99n });
    t.run(3);
    expect(t.reg(8), "sc.d to another address: rd").not.toBe(0n);
    expect(t.read64(DATA_BASE + 8)).toBe(2n);
  });
  it("a second sc after a successful one fails (the reservation is consumed)", () => {
    const t = harness();
    t.load([enc.lr_w(RD, ADDR), enc.sc_w(8, ADDR, SRC), enc.sc_w(9, ADDR, 0)]);
    t.setRegs({ [ADDR]: DATA_BASE, [SRC]: 5n });
    t.run(3);
    t.expectReg("first sc.w", 8, 0n);
    expect(t.reg(9), "second sc.w").not.toBe(0n);
    expect(t.read32(DATA_BASE)).toBe(5);
  });
  it("sc fails when a store changed the reserved location between lr and sc", () => {
    const t = harness();
    t.write64(DATA_BASE, 1n);
    t.load([enc.lr_d(RD, ADDR), enc.sd(0, ADDR, 0), enc.sc_d(8, ADDR, SRC)]);
    t.setRegs({ [ADDR]: DATA_BASE, [SRC]: 3n });
    t.run(3);
    expect(t.reg(8), "sc.d after an intervening store").not.toBe(0n);
    expect(t.read64(DATA_BASE)).toBe(0n);
  });
  it("an lr/sc retry loop increments a counter", () => {
    const t = harness();
    t.write64(DATA_BASE, 41n);
    t.load([enc.lr_d(RD, ADDR), enc.addi(RD, RD, 1), enc.sc_d(8, ADDR, RD), enc.bne(8, 0, -12)]);
    t.setReg(ADDR, DATA_BASE);
    t.run(4);
    expect(t.read64(DATA_BASE)).toBe(42n);
  });
});

type Amo = (rd: number, rs1: number, rs2: number) => number;
type Op = (mem: bigint, src: bigint) => bigint;
const AMO_OPS: [string, Amo, Amo, Op][] = [
  ["amoswap", enc.amoswap_w, enc.amoswap_d, (_m, s) => s],
  ["amoadd", enc.amoadd_w, enc.amoadd_d, (m, s) => m + s],
  ["amoxor", enc.amoxor_w, enc.amoxor_d, (m, s) => m ^ s],
  ["amoand", enc.amoand_w, enc.amoand_d, (m, s) => m & s],
  ["amoor", enc.amoor_w, enc.amoor_d, (m, s) => m | s],
  ["amomin", enc.amomin_w, enc.amomin_d, (m, s) => (m < s ? m : s)],
  ["amomax", enc.amomax_w, enc.amomax_d, (m, s) => (m > s ? m : s)],
  ["amominu", enc.amominu_w, enc.amominu_d, (m, s) => (m < s ? m : s)],
  ["amomaxu", enc.amomaxu_w, enc.amomaxu_d, (m, s) => (m > s ? m : s)],
];
const AMO_VALUES: [bigint, bigint][] = [
  [5n, 3n], [3n, 5n], [M64, 1n], [1n, M64], [0x8000_0000n, 0x7fff_ffffn],
  [0xffff_ffff_8000_0000n, 0x1_0000_0000n], [0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn],
];

describe("AMOs return the old value and store op(old, rs2) (unpriv 8.4)", () => {
  const t = harness();
  for (const [name, encW, encD, op] of AMO_OPS) {
    const unsigned = name.endsWith("u");
    it(`${name}.d`, () => {
      for (const [m, s] of AMO_VALUES) {
        t.program([encD(RD, ADDR, SRC)]);
        t.write64(DATA_BASE, m);
        t.setRegs({ [ADDR]: DATA_BASE, [SRC]: s });
        t.run(1);
        t.expectReg(`${name}.d mem=${hex(m)} rs2=${hex(s)}: old value`, RD, m);
        const want = unsigned ? op(m, s) : u64(op(s64(m), s64(s)));
        expect(hex(t.read64(DATA_BASE)), `${name}.d mem=${hex(m)} rs2=${hex(s)}: memory`).toBe(hex(u64(want)));
        t.expectPc(`${name}.d`, CODE_BASE + 4);
      }
    });
    it(`${name}.w (old value sign-extended; the upper word of memory untouched)`, () => {
      for (const [m, s] of AMO_VALUES) {
        t.program([encW(RD, ADDR, SRC)]);
        t.write64(DATA_BASE, 0x5a5a_5a5a_0000_0000n | u32(m));
        t.setRegs({ [ADDR]: DATA_BASE, [SRC]: s });
        t.run(1);
        t.expectReg(`${name}.w mem=${hex(u32(m))} rs2=${hex(s)}: old value`, RD, sx32(m));
        const want = unsigned ? op(u32(m), u32(s)) : op(s32(m), s32(s));
        expect(hex(t.read64(DATA_BASE)), `${name}.w mem=${hex(u32(m))} rs2=${hex(s)}: memory`).toBe(
          hex(0x5a5a_5a5a_0000_0000n | u32(want)),
        );
      }
    });
  }
  it("an AMO with rd = x0 still updates memory", () => {
    t.program([enc.amoadd_d(0, ADDR, SRC)]);
    t.write64(DATA_BASE, 10n);
    t.setRegs({ [ADDR]: DATA_BASE, [SRC]: 5n });
    t.run(1);
    expect(t.read64(DATA_BASE)).toBe(15n);
    t.expectReg("amoadd.d x0", 0, 0n);
  });
  it("an AMO with rd = rs2 returns the old value and uses the old rs2", () => {
    t.program([enc.amoswap_d(SRC, ADDR, SRC)]);
    t.write64(DATA_BASE, 10n);
    t.setRegs({ [ADDR]: DATA_BASE, [SRC]: 5n });
    t.run(1);
    t.expectReg("amoswap.d x6, x6", SRC, 10n);
    expect(t.read64(DATA_BASE)).toBe(5n);
  });
});

describe("atomics that cannot be performed", () => {
  const misaligned: [string, number, number][] = [
    ["amoadd.w at +2", enc.amoadd_w(RD, ADDR, SRC), 2],
    ["amoswap.d at +4", enc.amoswap_d(RD, ADDR, SRC), 4],
    ["amomaxu.d at +1", enc.amomaxu_d(RD, ADDR, SRC), 1],
    ["sc.w at +1", enc.sc_w(RD, ADDR, SRC), 1],
  ];
  for (const [what, insn, off] of misaligned) {
    it(`misaligned ${what} raises store/AMO address misaligned (cause 6), tval = address, memory untouched`, () => {
      const t = harness();
      t.write64(DATA_BASE, 0n);
      t.write64(DATA_BASE + 8, 0n);
      t.load([insn]);
      t.setRegs({ [ADDR]: DATA_BASE + off, [SRC]: M64, [RD]: 0x77n });
      t.run(1);
      t.expectMTrap(what, R.CAUSE_MISALIGNED_STORE, CODE_BASE, DATA_BASE + off);
      t.expectReg(`${what} leaves rd`, RD, 0x77n);
      expect(t.read64(DATA_BASE)).toBe(0n);
    });
  }
  it("misaligned lr.d raises load address misaligned (cause 4)", () => {
    const t = harness();
    t.load([enc.lr_d(RD, ADDR)]);
    t.setReg(ADDR, DATA_BASE + 4);
    t.run(1);
    t.expectMTrap("lr.d +4", R.CAUSE_MISALIGNED_LOAD, CODE_BASE, DATA_BASE + 4);
  });
  it("an AMO to a device region raises store/AMO access fault (cause 7)", () => {
    const t = harness();
    t.load([enc.amoor_w(RD, ADDR, SRC)]);
    t.setReg(ADDR, FAKE_DEVICE_BASE);
    t.run(1);
    t.expectMTrap("amoor.w mmio", R.CAUSE_STORE_ACCESS, CODE_BASE, FAKE_DEVICE_BASE);
  });
  it("an AMO to a read-only page raises store/AMO page fault (cause 15); lr to it is allowed", () => {
    const t = harness();
    const pt = new PageTables(t);
    pt.map(CODE_BASE, CODE_BASE, RWX | AD);
    pt.map(0x1000_0000, DATA_BASE, R.PTE_R | R.PTE_A);
    t.setCsr(R.CSR_SATP, pt.satp());
    t.write64(DATA_BASE, 3n);
    t.load([enc.lr_d(8, ADDR), enc.amoadd_d(RD, ADDR, SRC)]);
    t.setRegs({ [ADDR]: 0x1000_0000, [SRC]: 1n });
    t.setPriv(R.PRV_S);
    t.run(2);
    t.expectReg("lr.d from a read-only page", 8, 3n);
    t.expectMTrap("amoadd.d to a read-only page", R.CAUSE_STORE_PAGE_FAULT, CODE_BASE + 4, 0x1000_0000);
    expect(t.read64(DATA_BASE)).toBe(3n);
  });
  it("an AMO through Sv39 sets A and D in the leaf PTE", () => {
    const t = harness();
    const pt = new PageTables(t);
    pt.map(CODE_BASE, CODE_BASE, RWX | AD);
    const pteAt = pt.map(0x1000_0000, DATA_BASE, R.PTE_R | R.PTE_W);
    t.setCsr(R.CSR_SATP, pt.satp());
    t.load([enc.amoadd_d(RD, ADDR, SRC)]);
    t.setRegs({ [ADDR]: 0x1000_0000, [SRC]: 1n });
    t.setPriv(R.PRV_S);
    t.run(1);
    expect(t.read64(pteAt) & BigInt(R.PTE_A | R.PTE_D)).toBe(BigInt(R.PTE_A | R.PTE_D));
    expect(t.read64(DATA_BASE)).toBe(1n);
  });
});
