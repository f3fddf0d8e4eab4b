/*
 * --mmu swtlb (src/machine/swtlb.ts): with satp.MODE = Sv39 the hart looks
 * translations up in a software-refilled TLB. A miss raises a refill
 * exception (causes 24-26, xtval = va, stlbvpn preset); the TLB-write CSRs
 * (0x5C0-0x5C4) fill and flush it; a hit is checked like a Sv39 leaf.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import * as R from "../../src/machine/riscv.ts";
import { SWTLB_ENTRIES, SWTLB_WIRED } from "../../src/machine/swtlb.ts";
import { CODE_BASE, DATA_BASE, HartHarness } from "../helpers/hart-harness.ts";

const TRAP = CODE_BASE + 0x800;
const VA = 0x4000_0000;
const FRAME = DATA_BASE;
const ADDR = 5, RD = 7, SRC = 6;
const ASID = 3;
const AD = R.PTE_A | R.PTE_D;

/** A hart in S-mode with --mmu swtlb, satp Sv39 (ASID 3), its code page wired in slot 0, traps to M. */
function swtlb(priv = R.PRV_S): HartHarness {
  const t = new HartHarness({ mmu: "swtlb" });
  t.setCsr(R.CSR_MTVEC, TRAP);
  t.setCsr(R.CSR_SATP, (BigInt(R.SATP_MODE_SV39) << 60n) | (BigInt(ASID) << 44n));
  write(t, R.CSR_STLBINDEX, 0, CODE_BASE, CODE_BASE, R.PTE_R | R.PTE_X | R.PTE_G | (priv === R.PRV_U ? R.PTE_U : 0) | AD);
  t.write64(FRAME, 0xaaaa_aaaa_aaaa_aaaan);
  t.setPriv(priv);
  return t;
}

/** Writes an entry for `va` -> `pa` through stlbvpn/stlbpte and the given write CSR (as M-mode csrw would). */
function write(t: HartHarness, csr: number, index: number, va: number, pa: number, flags: number, asid = ASID): void {
  t.setCsr(R.CSR_STLBVPN, (BigInt(asid) << 32n) | BigInt(Math.floor(va / 4096)));
  t.setCsr(R.CSR_STLBPTE, (BigInt(Math.floor(pa / 4096)) << 10n) | BigInt(flags | R.PTE_V));
  t.setCsr(csr, index);
}

function exec(t: HartHarness, insns: number[], regs: Record<number, bigint | number> = {}): void {
  const priv = t.priv;
  t.load(insns);
  t.pc = CODE_BASE;
  t.setRegs(regs);
  t.setPriv(priv);
  t.run(insns.length);
}

describe("the TLB-write CSRs", () => {
  it("do not exist on a hart with the Sv39 walker: csrr stlbvpn is an illegal instruction", () => {
    const t = new HartHarness();
    t.setCsr(R.CSR_MTVEC, TRAP);
    exec(t, [enc.csrrs(RD, R.CSR_STLBVPN, 0)]);
    t.expectMTrap("csrr stlbvpn", R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE);
  });
  it("are S-mode CSRs: U-mode access is illegal", () => {
    const t = swtlb(R.PRV_U);
    exec(t, [enc.csrrs(RD, R.CSR_STLBPTE, 0)]);
    t.expectMTrap("csrr stlbpte from U", R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE);
  });
  it("stlbrandom never writes a wired slot and reads as the slot it writes next", () => {
    const t = swtlb();
    const soft = t.hart.soft!;
    for (let i = 0; i < 2 * SWTLB_ENTRIES; i++) {
      expect(Number(t.csr(R.CSR_STLBRANDOM))).toBeGreaterThanOrEqual(SWTLB_WIRED);
      write(t, R.CSR_STLBRANDOM, 0, VA + i * 4096, FRAME, R.PTE_R | AD);
      expect(Number(t.csr(R.CSR_STLBINDEX)), "stlbindex reads the slot just written").toBeGreaterThanOrEqual(SWTLB_WIRED);
    }
    expect(soft.vpnAt(0), "slot 0 still holds the wired code page").toBe(CODE_BASE / 4096);
  });
  it("stlbpte keeps PTE bits 53:0 only (63:54 are reserved)", () => {
    const t = swtlb();
    t.setCsr(R.CSR_STLBPTE, 0xffff_ffff_ffff_ffffn);
    t.expectCsr("stlbpte", "stlbpte", R.CSR_STLBPTE, 0x003f_ffff_ffff_ffffn);
  });
});

describe("translation through the soft TLB", () => {
  it("a miss raises the load refill exception with tval = va and stlbvpn = {asid, vpn}", () => {
    const t = swtlb();
    exec(t, [enc.ld(RD, ADDR, 8)], { [ADDR]: VA });
    t.expectMTrap("ld miss", R.CAUSE_TLB_REFILL_LOAD, CODE_BASE, VA + 8);
    t.expectCsr("preset", "stlbvpn", R.CSR_STLBVPN, (BigInt(ASID) << 32n) | BigInt(VA / 4096));
  });
  it("fetch and store misses have causes 24 and 26, and medeleg delegates them to S", () => {
    const t = swtlb();
    exec(t, [enc.jalr(0, ADDR, 0)], { [ADDR]: VA });
    t.run(1);
    t.expectMTrap("fetch miss", R.CAUSE_TLB_REFILL_FETCH, VA, VA);
    const u = swtlb();
    u.setCsr(R.CSR_MEDELEG, 1 << R.CAUSE_TLB_REFILL_STORE);
    u.setCsr(R.CSR_STVEC, TRAP + 0x100);
    exec(u, [enc.sd(SRC, ADDR, 0)], { [ADDR]: VA });
    u.expectSTrap("store miss, delegated", R.CAUSE_TLB_REFILL_STORE, CODE_BASE, VA);
  });
  it("a written entry maps the page: the retried load reads the frame", () => {
    const t = swtlb();
    write(t, R.CSR_STLBRANDOM, 0, VA, FRAME, R.PTE_R | AD);
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: VA });
    t.expectReg("ld through the entry", RD, 0xaaaa_aaaa_aaaa_aaaan);
  });
  it("an entry of another ASID misses; a global one hits", () => {
    const t = swtlb();
    write(t, R.CSR_STLBRANDOM, 0, VA, FRAME, R.PTE_R | AD, ASID + 1);
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: VA });
    t.expectMTrap("other ASID", R.CAUSE_TLB_REFILL_LOAD, CODE_BASE, VA);
    const g = swtlb();
    write(g, R.CSR_STLBRANDOM, 0, VA, FRAME, R.PTE_R | R.PTE_G | AD, ASID + 1);
    exec(g, [enc.ld(RD, ADDR, 0)], { [ADDR]: VA });
    g.expectReg("global entry", RD, 0xaaaa_aaaa_aaaa_aaaan);
  });
  it("a store to a clean writable entry refills as a store; the rewrite replaces the entry in its slot", () => {
    const t = swtlb();
    write(t, R.CSR_STLBRANDOM, 0, VA, FRAME, R.PTE_R | R.PTE_W | R.PTE_A);
    const slot = Number(t.csr(R.CSR_STLBINDEX));
    exec(t, [enc.sd(SRC, ADDR, 0)], { [ADDR]: VA, [SRC]: 0x55 });
    t.expectMTrap("store to clean page", R.CAUSE_TLB_REFILL_STORE, CODE_BASE, VA);
    t.setPriv(R.PRV_S);
    write(t, R.CSR_STLBRANDOM, 0, VA, FRAME, R.PTE_R | R.PTE_W | AD);
    expect(Number(t.csr(R.CSR_STLBINDEX)), "same slot").toBe(slot);
    expect(t.hart.soft!.lookupExact(VA / 4096, ASID)).toBe(slot);
    exec(t, [enc.sd(SRC, ADDR, 0)], { [ADDR]: VA, [SRC]: 0x55 });
    expect(t.read64(FRAME)).toBe(0x55n);
  });
  it("a hit without permission is a page fault: U-mode load of a kernel page, load of an execute-only page", () => {
    const t = swtlb(R.PRV_U);
    write(t, R.CSR_STLBRANDOM, 0, VA, FRAME, R.PTE_R | AD);
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: VA });
    t.expectMTrap("U load of S page", R.CAUSE_LOAD_PAGE_FAULT, CODE_BASE, VA);
    const x = swtlb();
    write(x, R.CSR_STLBRANDOM, 0, VA, FRAME, R.PTE_X | AD);
    exec(x, [enc.ld(RD, ADDR, 0)], { [ADDR]: VA });
    x.expectMTrap("load of X-only page", R.CAUSE_LOAD_PAGE_FAULT, CODE_BASE, VA);
  });
  it("stlbflush of an address drops that page (the fast TLBs too); of 0, everything unwired and wired", () => {
    const t = swtlb();
    write(t, R.CSR_STLBRANDOM, 0, VA, FRAME, R.PTE_R | AD);
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: VA });
    t.expectReg("cached", RD, 0xaaaa_aaaa_aaaa_aaaan);
    t.setCsr(R.CSR_STLBFLUSH, VA + 0x123);
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: VA });
    t.expectMTrap("after flush of the page", R.CAUSE_TLB_REFILL_LOAD, CODE_BASE, VA);
    t.setCsr(R.CSR_STLBFLUSH, 0);
    expect(t.hart.soft!.lookup(CODE_BASE / 4096, ASID)).toBe(-1);
  });
  it("M-mode is untranslated whatever the TLB holds", () => {
    const t = swtlb();
    t.setPriv(R.PRV_M);
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: FRAME });
    t.expectReg("M load", RD, 0xaaaa_aaaa_aaaa_aaaan);
  });
});
