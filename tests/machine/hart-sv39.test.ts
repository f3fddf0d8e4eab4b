/*
 * Sv39 as the running hart sees it (priv spec 4.1.11, 4.2.1, 4.3, 4.4,
 * 3.1.6.3): loads, stores and fetches through page tables built in RAM,
 * the TLBs staying honest (A/D, SUM/MXR changes, sfence.vma by address and
 * ASID, global pages, superpages), MPRV, and the faults with tval = va.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import * as R from "../../src/machine/riscv.ts";
import { PAGE_SIZE } from "../../src/machine/memlayout.ts";
import { AD, CODE_BASE, DATA_BASE, HartHarness, LEVEL_1G, LEVEL_2M, PageTables, RWX, hex } from "../helpers/hart-harness.ts";

const TRAP = CODE_BASE + 0x800;
const VA = 0x4000_0000;
const FRAME_A = DATA_BASE;
const FRAME_B = DATA_BASE + 0x1000;
const ADDR = 5, RD = 7, SRC = 6;

interface Sv39 {
  t: HartHarness;
  pt: PageTables;
}

/**
 * A hart in `priv` with Sv39 on: code (and the trap page) identity-mapped,
 * executable (and U if priv is U), traps to M at TRAP.
 */
function sv39(priv = R.PRV_S, asid = 0): Sv39 {
  const t = new HartHarness();
  const pt = new PageTables(t);
  pt.map(CODE_BASE, CODE_BASE, RWX | AD | (priv === R.PRV_U ? R.PTE_U : 0));
  t.setCsr(R.CSR_MTVEC, TRAP);
  t.setCsr(R.CSR_SATP, pt.satp(asid));
  t.write64(FRAME_A, 0xaaaa_aaaa_aaaa_aaaan);
  t.write64(FRAME_B, 0xbbbb_bbbb_bbbb_bbbbn);
  t.setPriv(priv);
  return { t, pt };
}

/** Runs `insns` from CODE_BASE at the hart's current privilege. */
function exec(t: HartHarness, insns: number[], regs: Record<number, bigint | number> = {}): void {
  const priv = t.priv;
  t.load(insns);
  t.pc = CODE_BASE;
  t.setRegs(regs);
  t.setPriv(priv);
  t.run(insns.length);
}

describe("translation through the hart", () => {
  it("4 KiB, 2 MiB and 1 GiB mappings translate loads", () => {
    const { t, pt } = sv39();
    pt.map(VA, FRAME_A, R.PTE_R | AD);
    pt.map(0x4060_0000, 0x8040_0000, R.PTE_R | AD, LEVEL_2M);
    pt.map(0x1_0000_0000, 0x8000_0000, R.PTE_R | AD, LEVEL_1G);
    t.write64(0x8040_0000 + 0x1_2340, 0x2222n);
    exec(t, [enc.ld(RD, ADDR, 0), enc.ld(8, 9, 0), enc.ld(10, 11, 0)], {
      [ADDR]: VA, 9: 0x4060_0000 + 0x1_2340, 11: 0x1_0000_0000 + (FRAME_B - 0x8000_0000),
    });
    t.expectReg("ld via 4K page", RD, 0xaaaa_aaaa_aaaa_aaaan);
    t.expectReg("ld via 2M page", 8, 0x2222n);
    t.expectReg("ld via 1G page", 10, 0xbbbb_bbbb_bbbb_bbbbn);
  });
  it("the same frame reached through two virtual pages sees one store", () => {
    const { t, pt } = sv39();
    pt.map(VA, FRAME_A, R.PTE_R | R.PTE_W | AD);
    pt.map(VA + 0x10_0000, FRAME_A, R.PTE_R | AD);
    exec(t, [enc.ld(RD, 9, 0), enc.sd(SRC, ADDR, 0), enc.ld(8, 9, 0)], { [ADDR]: VA, 9: VA + 0x10_0000, [SRC]: 0x1234n });
    t.expectReg("alias before", RD, 0xaaaa_aaaa_aaaa_aaaan);
    t.expectReg("alias after", 8, 0x1234n);
  });
  it("a misaligned superpage raises a page fault with tval = va", () => {
    const { t, pt } = sv39();
    pt.map(0x4060_0000, FRAME_B, R.PTE_R | AD, LEVEL_2M);
    exec(t, [enc.ld(RD, ADDR, 8)], { [ADDR]: 0x4060_0000 });
    t.expectMTrap("ld via misaligned 2M page", R.CAUSE_LOAD_PAGE_FAULT, CODE_BASE, 0x4060_0008);
  });
});

describe("page faults carry tval = the virtual address (priv spec 4.1.9)", () => {
  it("load, store and AMO to an unmapped page", () => {
    for (const [insn, cause] of [[enc.lw(RD, ADDR, 4), R.CAUSE_LOAD_PAGE_FAULT], [enc.sw(SRC, ADDR, 4), R.CAUSE_STORE_PAGE_FAULT],
      [enc.amoadd_w(RD, ADDR, SRC), R.CAUSE_STORE_PAGE_FAULT]] as const) {
      const { t } = sv39();
      const off = cause === R.CAUSE_LOAD_PAGE_FAULT || insn === enc.sw(SRC, ADDR, 4) ? 4 : 0;
      exec(t, [insn], { [ADDR]: 0x7654_3000 });
      t.expectMTrap(`fault ${cause}`, cause, CODE_BASE, 0x7654_3000 + off);
    }
  });
  it("a non-canonical address raises a page fault with the full 64-bit tval", () => {
    const { t } = sv39();
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: 0x0000_0080_0000_0000n });
    t.expectMTrap("ld non-canonical", R.CAUSE_LOAD_PAGE_FAULT, CODE_BASE, 0x0000_0080_0000_0000n);
    t.setPriv(R.PRV_S);
    exec(t, [enc.sd(RD, ADDR, 0)], { [ADDR]: 0xffff_ff00_0000_0000n });
    t.expectMTrap("sd non-canonical", R.CAUSE_STORE_PAGE_FAULT, CODE_BASE, 0xffff_ff00_0000_0000n);
  });
  it("an instruction fetch from an unmapped page raises fetch page fault, epc = tval = the target", () => {
    const { t } = sv39();
    exec(t, [enc.jalr(0, ADDR, 0)], { [ADDR]: 0x5000_0000 });
    t.run(1);
    t.expectMTrap("fetch unmapped", R.CAUSE_FETCH_PAGE_FAULT, 0x5000_0000, 0x5000_0000);
  });
  it("a fetch from a page without X raises fetch page fault", () => {
    const { t, pt } = sv39();
    pt.map(VA, CODE_BASE + 0x3000, R.PTE_R | R.PTE_W | AD);
    exec(t, [enc.jalr(0, ADDR, 0)], { [ADDR]: VA });
    t.run(1);
    t.expectMTrap("fetch non-X", R.CAUSE_FETCH_PAGE_FAULT, VA, VA);
  });
  it("a page fault delegated to S lands in stvec with stval = va", () => {
    const { t } = sv39(R.PRV_U);
    t.setCsr(R.CSR_MEDELEG, 1 << R.CAUSE_LOAD_PAGE_FAULT);
    t.setCsr(R.CSR_STVEC, TRAP + 0x100);
    exec(t, [enc.lbu(RD, ADDR, -1)], { [ADDR]: 0x6000_0000 });
    t.expectSTrap("lbu in U, delegated", R.CAUSE_LOAD_PAGE_FAULT, CODE_BASE, 0x5fff_ffff);
  });
  it("a PTE outside RAM raises an access fault (load: cause 5, fetch: cause 1)", () => {
    const { t, pt } = sv39();
    pt.setPte(0x1_4000_0000, LEVEL_1G, BigInt(R.PTE_V) | (BigInt(0x1000_0000 / PAGE_SIZE) << 10n));
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: 0x1_4000_0000 });
    t.expectMTrap("ld through a table outside RAM", R.CAUSE_LOAD_ACCESS, CODE_BASE, 0x1_4000_0000);
    exec(t, [enc.jalr(0, ADDR, 0)], { [ADDR]: 0x1_4000_0000 });
    t.run(1);
    t.expectMTrap("fetch through a table outside RAM", R.CAUSE_FETCH_ACCESS, 0x1_4000_0000, 0x1_4000_0000);
  });
});

describe("permissions as executed: execute-only, SUM, MXR, U/S", () => {
  it("code on an execute-only page runs; loading from it faults", () => {
    const { t, pt } = sv39();
    pt.map(VA, CODE_BASE + 0x3000, R.PTE_X | AD);
    t.load([enc.addi(RD, 0, 9), enc.ld(8, 9, 0)], CODE_BASE + 0x3000);
    exec(t, [enc.jalr(0, ADDR, 0)], { [ADDR]: VA, 9: VA });
    t.run(2);
    t.expectReg("code ran on an X-only page", RD, 9n);
    t.expectMTrap("load from X-only page", R.CAUSE_LOAD_PAGE_FAULT, VA + 4, VA);
  });
  it("MXR lets S load from an execute-only page; clearing MXR takes that away again", () => {
    const { t, pt } = sv39();
    pt.map(VA, FRAME_A, R.PTE_X | AD);
    t.setCsr(R.CSR_MSTATUS, R.MSTATUS_MXR);
    exec(t, [enc.ld(RD, ADDR, 0), enc.csrrc(0, R.CSR_SSTATUS, SRC), enc.ld(8, ADDR, 0)], { [ADDR]: VA, [SRC]: R.MSTATUS_MXR, 8: 0x55n });
    t.expectReg("ld with MXR", RD, 0xaaaa_aaaa_aaaa_aaaan);
    t.expectMTrap("ld after clearing MXR", R.CAUSE_LOAD_PAGE_FAULT, CODE_BASE + 8, VA);
    t.expectReg("ld after clearing MXR leaves rd", 8, 0x55n);
  });
  it("SUM lets S load and store a U page; clearing SUM faults even though the TLB had the page", () => {
    const { t, pt } = sv39();
    pt.map(VA, FRAME_A, R.PTE_R | R.PTE_W | R.PTE_U | AD);
    t.setCsr(R.CSR_MSTATUS, R.MSTATUS_SUM);
    exec(t, [enc.ld(RD, ADDR, 0), enc.sd(0, ADDR, 0), enc.csrrc(0, R.CSR_SSTATUS, SRC), enc.ld(8, ADDR, 0)], {
      [ADDR]: VA, [SRC]: R.MSTATUS_SUM,
    });
    t.expectReg("ld with SUM", RD, 0xaaaa_aaaa_aaaa_aaaan);
    expect(t.read64(FRAME_A)).toBe(0n);
    t.expectMTrap("ld after clearing SUM", R.CAUSE_LOAD_PAGE_FAULT, CODE_BASE + 12, VA);
  });
  it("S cannot execute a U page even with SUM", () => {
    const { t, pt } = sv39();
    pt.map(VA, CODE_BASE, RWX | R.PTE_U | AD);
    t.setCsr(R.CSR_MSTATUS, R.MSTATUS_SUM);
    exec(t, [enc.jalr(0, ADDR, 0)], { [ADDR]: VA });
    t.run(1);
    t.expectMTrap("S fetch from U page", R.CAUSE_FETCH_PAGE_FAULT, VA, VA);
  });
  it("U cannot touch an S page", () => {
    const { t, pt } = sv39(R.PRV_U);
    pt.map(VA, FRAME_A, R.PTE_R | R.PTE_W | AD);
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: VA });
    t.expectMTrap("U load from S page", R.CAUSE_LOAD_PAGE_FAULT, CODE_BASE, VA);
  });
  it("a store to a read-only page faults even after a load put the page in the TLB", () => {
    const { t, pt } = sv39();
    pt.map(VA, FRAME_A, R.PTE_R | AD);
    exec(t, [enc.ld(RD, ADDR, 0), enc.sd(0, ADDR, 0)], { [ADDR]: VA });
    t.expectMTrap("sd to read-only page", R.CAUSE_STORE_PAGE_FAULT, CODE_BASE + 4, VA);
    expect(t.read64(FRAME_A)).toBe(0xaaaa_aaaa_aaaa_aaaan);
  });
});

describe("A/D bits as executed (priv spec 4.3.2 step 7)", () => {
  it("fetch and load set A; the first store to a clean page sets D even after loads cached it", () => {
    const { t, pt } = sv39();
    const codePte = pt.pteAddr(CODE_BASE);
    t.write64(codePte, t.read64(codePte) & ~BigInt(AD));
    const at = pt.map(VA, FRAME_A, R.PTE_R | R.PTE_W);
    exec(t, [enc.ld(RD, ADDR, 0), enc.ld(RD, ADDR, 8)], { [ADDR]: VA });
    expect(t.read64(codePte) & BigInt(R.PTE_A), "fetch set A on the code page").toBe(BigInt(R.PTE_A));
    expect(Number(t.read64(at) & BigInt(AD)), "after loads: A only").toBe(R.PTE_A);
    exec(t, [enc.sd(SRC, ADDR, 0)], { [ADDR]: VA, [SRC]: 1 });
    expect(Number(t.read64(at) & BigInt(AD)), "after the store: A and D").toBe(AD);
  });
  it("after software cleans D and flushes the page, the next store sets D again", () => {
    const { t, pt } = sv39();
    const at = pt.map(VA, FRAME_A, R.PTE_R | R.PTE_W);
    exec(t, [enc.sd(SRC, ADDR, 0)], { [ADDR]: VA, [SRC]: 1 });
    expect(Number(t.read64(at) & BigInt(AD))).toBe(AD);
    t.write64(at, t.read64(at) & ~BigInt(R.PTE_D));
    exec(t, [enc.sfence_vma(ADDR, 0), enc.sd(SRC, ADDR, 8)], { [ADDR]: VA, [SRC]: 2 });
    expect(Number(t.read64(at) & BigInt(AD)), "D set again").toBe(AD);
  });
});

describe("sfence.vma (priv spec 4.2.1)", () => {
  function remapTest(fence: number, regs: Record<number, bigint | number>, asid = 0): HartHarness {
    const { t, pt } = sv39(R.PRV_S, asid);
    pt.map(VA, FRAME_A, R.PTE_R | AD);
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: VA });
    t.expectReg("before remap", RD, 0xaaaa_aaaa_aaaa_aaaan);
    pt.map(VA, FRAME_B, R.PTE_R | AD);
    exec(t, [fence, enc.ld(RD, ADDR, 0)], { [ADDR]: VA, ...regs });
    return t;
  }
  it("sfence.vma x0, x0 drops every cached translation", () => {
    remapTest(enc.sfence_vma(0, 0), {}).expectReg("after sfence.vma", RD, 0xbbbb_bbbb_bbbb_bbbbn);
  });
  it("sfence.vma va, x0 drops that page's translation", () => {
    remapTest(enc.sfence_vma(9, 0), { 9: VA + 0x123 }).expectReg("after sfence.vma va", RD, 0xbbbb_bbbb_bbbb_bbbbn);
  });
  it("sfence.vma x0, asid drops that address space's translations", () => {
    remapTest(enc.sfence_vma(0, 9), { 9: 7 }, 7).expectReg("after sfence.vma x0, asid", RD, 0xbbbb_bbbb_bbbb_bbbbn);
  });
  it("sfence.vma va, asid drops that page in that address space", () => {
    remapTest(enc.sfence_vma(9, 10), { 9: VA, 10: 7 }, 7).expectReg("after sfence.vma va, asid", RD, 0xbbbb_bbbb_bbbb_bbbbn);
  });
  it("sfence.vma va drops a superpage's translation for every 4 KiB part of it, not just va's", () => {
    const { t, pt } = sv39();
    pt.map(0x4060_0000, 0x8040_0000, R.PTE_R | AD, LEVEL_2M);
    t.write64(0x8040_0000 + 0x5000, 0x1111n);
    t.write64(0x8060_0000 + 0x5000, 0x2222n);
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: 0x4060_5000 });
    t.expectReg("before remap", RD, 0x1111n);
    pt.map(0x4060_0000, 0x8060_0000, R.PTE_R | AD, LEVEL_2M);
    // The kernel flushes the superpage by its base address (Linux flush_tlb_page does exactly this).
    exec(t, [enc.sfence_vma(9, 0), enc.ld(RD, ADDR, 0)], { [ADDR]: 0x4060_5000, 9: 0x4060_0000 });
    t.expectReg("after sfence.vma of the superpage's base", RD, 0x2222n);
  });
  it("sfence.vma va, asid drops a gigapage's other parts in that address space", () => {
    const { t, pt } = sv39(R.PRV_S, 5);
    pt.map(0x1_0000_0000, 0x8000_0000, R.PTE_R | AD, LEVEL_1G);
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: 0x1_0000_0000 + (FRAME_A - 0x8000_0000) });
    t.expectReg("before remap", RD, 0xaaaa_aaaa_aaaa_aaaan);
    pt.map(0x1_0000_0000, 0x8000_0000 - 0x4000_0000, R.PTE_R | AD, LEVEL_1G); // outside RAM now: reads must fault
    exec(t, [enc.sfence_vma(9, 10), enc.ld(RD, ADDR, 0)], { [ADDR]: 0x1_0000_0000 + (FRAME_A - 0x8000_0000), 9: 0x1_2345_6000, 10: 5 });
    t.expectMTrap("ld after remapping the gigapage", R.CAUSE_LOAD_ACCESS, CODE_BASE + 4);
  });
  it("address spaces with different ASIDs keep separate translations without a flush", () => {
    const t = new HartHarness();
    const a = new PageTables(t, DATA_BASE + 0x10_0000);
    const b = new PageTables(t, DATA_BASE + 0x18_0000);
    for (const pt of [a, b]) pt.map(CODE_BASE, CODE_BASE, RWX | AD);
    a.map(VA, FRAME_A, R.PTE_R | AD);
    b.map(VA, FRAME_B, R.PTE_R | AD);
    t.write64(FRAME_A, 0xaan);
    t.write64(FRAME_B, 0xbbn);
    t.setCsr(R.CSR_MTVEC, TRAP);
    t.setCsr(R.CSR_SATP, a.satp(1));
    t.setPriv(R.PRV_S);
    // ld; switch satp to b (ASID 2); ld; switch back to a; ld — no sfence anywhere.
    exec(t, [enc.ld(RD, ADDR, 0), enc.csrrw(0, R.CSR_SATP, 11), enc.ld(8, ADDR, 0), enc.csrrw(0, R.CSR_SATP, 12), enc.ld(9, ADDR, 0)], {
      [ADDR]: VA, 11: b.satp(2), 12: a.satp(1),
    });
    t.expectReg("ASID 1", RD, 0xaan);
    t.expectReg("ASID 2", 8, 0xbbn);
    t.expectReg("ASID 1 again", 9, 0xaan);
  });
  it("a global page survives sfence.vma x0, asid and is dropped by sfence.vma x0, x0", () => {
    const { t, pt } = sv39(R.PRV_S, 3);
    pt.map(VA, FRAME_A, R.PTE_R | R.PTE_G | AD);
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: VA });
    t.expectReg("global page", RD, 0xaaaa_aaaa_aaaa_aaaan);
    pt.map(VA, FRAME_B, R.PTE_R | R.PTE_G | AD);
    exec(t, [enc.sfence_vma(0, 9), enc.sfence_vma(0, 0), enc.ld(RD, ADDR, 0)], { [ADDR]: VA, 9: 3 });
    t.expectReg("after a full flush", RD, 0xbbbb_bbbb_bbbb_bbbbn);
  });
  it("a global page is visible from another ASID sharing the table", () => {
    const { t, pt } = sv39(R.PRV_S, 3);
    pt.map(VA, FRAME_A, R.PTE_R | R.PTE_G | AD);
    exec(t, [enc.ld(RD, ADDR, 0), enc.csrrw(0, R.CSR_SATP, 9), enc.ld(8, ADDR, 0)], { [ADDR]: VA, 9: pt.satp(4) });
    t.expectReg("ASID 3", RD, 0xaaaa_aaaa_aaaa_aaaan);
    t.expectReg("ASID 4", 8, 0xaaaa_aaaa_aaaa_aaaan);
  });
});

describe("MPRV (priv spec 3.1.6.3)", () => {
  function mprv(mpp: number, pageFlags: number): HartHarness {
    const t = new HartHarness();
    const pt = new PageTables(t);
    pt.map(VA, FRAME_A, pageFlags | AD);
    t.setCsr(R.CSR_SATP, pt.satp());
    t.setCsr(R.CSR_MTVEC, TRAP);
    t.setCsr(R.CSR_MSTATUS, R.MSTATUS_MPRV | (mpp << R.MSTATUS_MPP_SHIFT));
    t.write64(FRAME_A, 0xaaaa_aaaa_aaaa_aaaan);
    return t;
  }
  it("M-mode loads translate with MPP = S while fetches stay untranslated", () => {
    const t = mprv(R.PRV_S, R.PTE_R);
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: VA });
    t.expectReg("ld with MPRV, MPP=S", RD, 0xaaaa_aaaa_aaaa_aaaan);
    expect(t.priv).toBe(R.PRV_M);
  });
  it("MPP = U: a U page is accessible, an S page is not", () => {
    const u = mprv(R.PRV_U, R.PTE_R | R.PTE_U);
    exec(u, [enc.ld(RD, ADDR, 0)], { [ADDR]: VA });
    u.expectReg("ld with MPRV, MPP=U, U page", RD, 0xaaaa_aaaa_aaaa_aaaan);
    const s = mprv(R.PRV_U, R.PTE_R);
    exec(s, [enc.ld(RD, ADDR, 0)], { [ADDR]: VA });
    s.expectMTrap("ld with MPRV, MPP=U, S page", R.CAUSE_LOAD_PAGE_FAULT, CODE_BASE, VA);
  });
  it("MPP = S with SUM can reach a U page; stores obey W", () => {
    const t = mprv(R.PRV_S, R.PTE_R | R.PTE_U);
    t.setCsr(R.CSR_MSTATUS, R.MSTATUS_MPRV | R.MSTATUS_SUM | (R.PRV_S << R.MSTATUS_MPP_SHIFT));
    exec(t, [enc.ld(RD, ADDR, 0), enc.sd(RD, ADDR, 0)], { [ADDR]: VA });
    t.expectReg("ld MPRV+SUM", RD, 0xaaaa_aaaa_aaaa_aaaan);
    t.expectMTrap("sd to read-only with MPRV", R.CAUSE_STORE_PAGE_FAULT, CODE_BASE + 4, VA);
  });
  it("clearing MPRV with csrc takes effect on the next load (physical again)", () => {
    const t = mprv(R.PRV_S, R.PTE_R);
    exec(t, [enc.ld(RD, ADDR, 0), enc.csrrc(0, R.CSR_MSTATUS, SRC), enc.ld(8, 9, 0)], {
      [ADDR]: VA, [SRC]: R.MSTATUS_MPRV, 9: FRAME_A,
    });
    t.expectReg("ld virtual", RD, 0xaaaa_aaaa_aaaa_aaaan);
    t.expectReg("ld physical after MPRV cleared", 8, 0xaaaa_aaaa_aaaa_aaaan);
  });
  it("MPP = M with MPRV means no translation", () => {
    const t = mprv(R.PRV_M, R.PTE_R);
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: FRAME_A });
    t.expectReg("ld MPRV, MPP=M", RD, 0xaaaa_aaaa_aaaa_aaaan);
  });
});

describe("Bare mode", () => {
  it("satp MODE=Bare leaves S-mode addresses physical", () => {
    const t = new HartHarness();
    t.write64(FRAME_A, 0x77n);
    t.setPriv(R.PRV_S);
    exec(t, [enc.ld(RD, ADDR, 0)], { [ADDR]: FRAME_A });
    t.expectReg("bare ld in S", RD, 0x77n);
    expect(hex(t.pc)).toBe(hex(CODE_BASE + 4));
  });
});
