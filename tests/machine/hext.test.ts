/*
 * The H extension on the hart (priv spec, "Hypervisor Extension" chapter):
 * its CSRs and their WARL rules, entering VS and VU, the s* -> vs*
 * substitution, two-stage translation and its faults (htval, GVA), traps
 * by hedeleg/hideleg, virtual-instruction exceptions, HLV/HLVX/HSV,
 * HFENCE, virtual interrupts, and TLBs that keep guest and host apart.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import * as R from "../../src/machine/riscv.ts";
import * as H from "../../src/machine/hext-defs.ts";
import { DRAM_BASE } from "../../src/machine/memlayout.ts";
import { AD, CODE_BASE, DATA_BASE, HartHarness, PageTables, RWX } from "../helpers/hart-harness.ts";
import { GStageTables } from "../helpers/gstage.ts";

const HS_TRAP = CODE_BASE + 0x800;
const M_TRAP = CODE_BASE + 0xc00;
const GUEST = CODE_BASE + 0x1000;
const VS_TRAP = CODE_BASE + 0x1800;
/** A guest physical page the G-stage maps elsewhere, and one it does not map. */
const GPA_MAPPED = 0x9000_0000;
const PA_BEHIND = DATA_BASE + 0x1000;
const GPA_UNMAPPED = 0xa000_0000;
const TWO_M = 2 ** 21;
const DELEGATED = [R.CAUSE_ILLEGAL_INSTRUCTION, R.CAUSE_ECALL_U, H.CAUSE_ECALL_VS, R.CAUSE_FETCH_PAGE_FAULT, R.CAUSE_LOAD_PAGE_FAULT,
  R.CAUSE_STORE_PAGE_FAULT, H.CAUSE_FETCH_GUEST_PAGE_FAULT, H.CAUSE_LOAD_GUEST_PAGE_FAULT, H.CAUSE_VIRTUAL_INSTRUCTION, H.CAUSE_STORE_GUEST_PAGE_FAULT]
  .reduce((m, c) => m | (1 << c), 0);
const A0 = 10, A1 = 11, A2 = 12;

/**
 * A hart with H in HS-mode: exceptions delegated to HS, a G-stage that maps
 * the first 4 MiB of RAM one to one (2 MiB leaves) and GPA_MAPPED to PA_BEHIND.
 */
function hypervisor(jit?: boolean): { t: HartHarness; g: GStageTables } {
  const t = new HartHarness({ h: true, jit });
  const g = new GStageTables(t, DRAM_BASE + 0x40_0000);
  g.map(DRAM_BASE, DRAM_BASE, RWX | AD, 1);
  g.map(DRAM_BASE + TWO_M, DRAM_BASE + TWO_M, RWX | AD, 1);
  g.map(GPA_MAPPED, PA_BEHIND, R.PTE_R | R.PTE_W | AD);
  t.setCsr(R.CSR_MTVEC, M_TRAP);
  t.setCsr(R.CSR_STVEC, HS_TRAP);
  t.setCsr(R.CSR_MEDELEG, DELEGATED);
  t.setCsr(H.CSR_HGATP, g.hgatp());
  t.setCsr(H.CSR_VSTVEC, VS_TRAP);
  t.setPriv(R.PRV_S);
  return { t, g };
}

/** Enters the guest at GUEST through sret from HS (hstatus.SPV=1); spp 1 is VS, 0 is VU. Runs the sret. */
function enterGuest(t: HartHarness, insns: number[], spp = R.PRV_S): void {
  t.load([enc.sret()], CODE_BASE);
  t.load(insns, GUEST);
  t.setCsr(H.CSR_HSTATUS, t.csr(H.CSR_HSTATUS) | BigInt(H.HSTATUS_SPV));
  const ms = t.csr(R.CSR_MSTATUS) & ~BigInt(R.MSTATUS_SPP);
  t.setCsr(R.CSR_MSTATUS, spp === R.PRV_S ? ms | BigInt(R.MSTATUS_SPP) : ms);
  t.setCsr(R.CSR_SEPC, GUEST);
  t.pc = CODE_BASE;
  t.run(1);
  expect(t.hart.csr.virt, "V after sret").toBe(1);
  expect(t.priv).toBe(spp);
}

function expectHsTrap(t: HartHarness, what: string, cause: bigint | number, epc: number, tval?: number): void {
  expect(t.hart.csr.virt, `${what}: V`).toBe(0);
  t.expectSTrap(what, cause, epc, tval);
  expect(t.pc, `${what}: at stvec`).toBe(HS_TRAP);
}

describe("without H (the default)", () => {
  it("misa has no H, the hypervisor CSRs do not exist, and HLV and HFENCE are illegal", () => {
    const t = new HartHarness();
    expect(t.csr(R.CSR_MISA) & BigInt(H.MISA_H)).toBe(0n);
    t.setCsr(R.CSR_MTVEC, M_TRAP);
    for (const insn of [enc.csrrs(A0, H.CSR_HSTATUS, 0), enc.hlv_d(A0, A1), enc.hfence_gvma(0, 0)]) {
      t.program([insn]);
      t.setCsr(R.CSR_MTVEC, M_TRAP);
      t.run(1);
      t.expectMTrap("H-only instruction", R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE, insn >>> 0);
    }
  });
});

describe("H CSRs", () => {
  it("misa.H is set and mideleg's VS bits read as one", () => {
    const { t } = hypervisor();
    expect(t.csr(R.CSR_MISA) & BigInt(H.MISA_H)).toBe(BigInt(H.MISA_H));
    t.setCsr(R.CSR_MIDELEG, 0);
    t.expectCsr("mideleg", "mideleg", R.CSR_MIDELEG, H.VS_INTERRUPTS);
  });
  it("HS-mode reaches the hypervisor CSRs; hedeleg, hideleg and hstatus keep only their writable bits", () => {
    const { t } = hypervisor();
    t.load([enc.csrrw(0, H.CSR_HEDELEG, A0), enc.csrrw(0, H.CSR_HIDELEG, A0), enc.csrrs(A1, H.CSR_HEDELEG, 0), enc.csrrs(A2, H.CSR_HIDELEG, 0), enc.csrrs(13, H.CSR_HSTATUS, 0)]);
    t.pc = CODE_BASE;
    t.setReg(A0, -1);
    t.run(5);
    t.expectReg("hedeleg", A1, H.HEDELEG_WRITABLE);
    t.expectReg("hideleg", A2, H.VS_INTERRUPTS);
    t.expectReg("hstatus.VSXL = 64", 13, 2n << 32n);
  });
  it("hgatp ignores a write of an unsupported MODE and keeps 14 VMID bits", () => {
    const { t, g } = hypervisor();
    t.setCsr(H.CSR_HGATP, (9n << 60n) | 5n);
    t.expectCsr("unsupported mode", "hgatp", H.CSR_HGATP, g.hgatp());
    t.setCsr(H.CSR_HGATP, g.hgatp(0xffff));
    t.expectCsr("VMID", "hgatp", H.CSR_HGATP, g.hgatp(0x3fff));
  });
  it("U-mode may not touch them: illegal instruction", () => {
    const { t } = hypervisor();
    t.load([enc.csrrs(A0, H.CSR_HSTATUS, 0)]);
    t.pc = CODE_BASE;
    t.setPriv(R.PRV_U);
    t.run(1);
    expectHsTrap(t, "hstatus from U", R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE);
  });
});

describe("VS-mode", () => {
  it("sret with SPV enters VS; s* CSRs there are the vs* ones, and a trap to HS swaps them back", () => {
    const { t } = hypervisor();
    t.setCsr(R.CSR_SSCRATCH, 0x1111);
    t.setCsr(H.CSR_VSSCRATCH, 0x2222);
    enterGuest(t, [enc.csrrw(A0, R.CSR_SSCRATCH, A1), enc.ecall()]);
    t.setReg(A1, 0x3333);
    t.run(2);
    t.expectReg("guest read vsscratch", A0, 0x2222);
    expectHsTrap(t, "ecall from VS", H.CAUSE_ECALL_VS, GUEST + 4, 0);
    t.expectCsr("HS sscratch kept", "sscratch", R.CSR_SSCRATCH, 0x1111);
    t.expectCsr("guest wrote vsscratch", "vsscratch", H.CSR_VSSCRATCH, 0x3333);
    const hs = t.csr(H.CSR_HSTATUS);
    expect(hs & BigInt(H.HSTATUS_SPV | H.HSTATUS_SPVP)).toBe(BigInt(H.HSTATUS_SPV | H.HSTATUS_SPVP));
    expect(hs & BigInt(H.HSTATUS_GVA)).toBe(0n);
  });
  it("a hypervisor CSR from VS is a virtual-instruction exception", () => {
    const { t } = hypervisor();
    const insn = enc.csrrs(A0, H.CSR_HSTATUS, 0);
    enterGuest(t, [insn]);
    t.run(1);
    expectHsTrap(t, "hstatus from VS", H.CAUSE_VIRTUAL_INSTRUCTION, GUEST, insn >>> 0);
  });
  it("satp in VS traps with hstatus.VTVM, and wfi with VTW, as virtual instructions", () => {
    const { t } = hypervisor();
    t.setCsr(H.CSR_HSTATUS, H.HSTATUS_VTVM | H.HSTATUS_VTW);
    enterGuest(t, [enc.csrrs(A0, R.CSR_SATP, 0)]);
    t.run(1);
    expectHsTrap(t, "satp under VTVM", H.CAUSE_VIRTUAL_INSTRUCTION, GUEST);
    t.setPriv(R.PRV_S);
    enterGuest(t, [enc.wfi()]);
    t.run(1);
    expectHsTrap(t, "wfi under VTW", H.CAUSE_VIRTUAL_INSTRUCTION, GUEST);
  });
  it("a VU-mode access to a supervisor CSR is a virtual instruction; an exception hedeleg delegates goes to VS", () => {
    const { t } = hypervisor();
    enterGuest(t, [enc.csrrs(A0, R.CSR_SSTATUS, 0)], R.PRV_U);
    t.run(1);
    expectHsTrap(t, "sstatus from VU", H.CAUSE_VIRTUAL_INSTRUCTION, GUEST);
    expect(t.csr(H.CSR_HSTATUS) & BigInt(H.HSTATUS_SPVP)).toBe(0n);
    t.setCsr(H.CSR_HEDELEG, 1 << R.CAUSE_ECALL_U);
    enterGuest(t, [enc.ecall()], R.PRV_U);
    t.run(1);
    expect(t.hart.csr.virt, "still V=1").toBe(1);
    t.expectSTrap("ecall from VU to VS", R.CAUSE_ECALL_U, GUEST);
    expect(t.pc).toBe(VS_TRAP);
  });
  it("mret with MPV=1 enters VS directly from M", () => {
    const { t } = hypervisor();
    t.load([enc.mret()], CODE_BASE);
    t.load([enc.ecall()], GUEST);
    t.setPriv(R.PRV_M);
    t.setCsr(R.CSR_MSTATUS, (BigInt(H.MSTATUS_HI_MPV) << 32n) | BigInt(R.PRV_S << R.MSTATUS_MPP_SHIFT));
    t.setCsr(R.CSR_MEPC, GUEST);
    t.pc = CODE_BASE;
    t.run(2);
    expectHsTrap(t, "ecall after mret", H.CAUSE_ECALL_VS, GUEST);
  });
});

describe("two-stage translation", () => {
  it("a guest load goes through the G-stage to the frame behind its guest physical address", () => {
    const { t } = hypervisor();
    t.write64(PA_BEHIND + 8, 0x1234_5678_9abc_def0n);
    enterGuest(t, [enc.ld(A0, A1, 8)]);
    t.setReg(A1, GPA_MAPPED);
    t.run(1);
    t.expectReg("ld through G-stage", A0, 0x1234_5678_9abc_def0n);
  });
  it("an unmapped guest physical address is a guest-page fault: stval the guest address, htval its GPA >> 2, GVA set", () => {
    const { t } = hypervisor();
    enterGuest(t, [enc.sd(A0, A1, 0x10)]);
    t.setReg(A1, GPA_UNMAPPED);
    t.run(1);
    expectHsTrap(t, "store guest-page fault", H.CAUSE_STORE_GUEST_PAGE_FAULT, GUEST, GPA_UNMAPPED + 0x10);
    t.expectCsr("htval", "htval", H.CSR_HTVAL, (GPA_UNMAPPED + 0x10) / 4);
    expect(t.csr(H.CSR_HSTATUS) & BigInt(H.HSTATUS_GVA)).toBe(BigInt(H.HSTATUS_GVA));
  });
  it("with vsatp on, loads go through both stages and the guest's own page fault can go to VS (hedeleg)", () => {
    const { t } = hypervisor();
    const vs = new PageTables(t);
    vs.map(GUEST, GUEST, RWX | AD);
    vs.map(VS_TRAP & ~0xfff, VS_TRAP & ~0xfff, RWX | AD);
    vs.map(0x4000_0000, GPA_MAPPED, R.PTE_R | AD);
    t.write64(PA_BEHIND, 0x77n);
    t.setCsr(H.CSR_VSATP, vs.satp(3));
    t.setCsr(H.CSR_HEDELEG, 1 << R.CAUSE_LOAD_PAGE_FAULT);
    enterGuest(t, [enc.ld(A0, A1, 0), enc.ld(A2, 13, 0)]);
    t.setRegs({ [A1]: 0x4000_0000, 13: 0x4000_1000 });
    t.run(2);
    t.expectReg("ld through both stages", A0, 0x77n);
    expect(t.hart.csr.virt).toBe(1);
    t.expectSTrap("VS page fault", R.CAUSE_LOAD_PAGE_FAULT, GUEST + 4, 0x4000_1000);
    expect(t.pc).toBe(VS_TRAP);
  });
  it("a VS-stage table outside the G-stage is a guest-page fault with htval the PTE's guest physical address", () => {
    const { t } = hypervisor();
    t.setCsr(H.CSR_VSATP, (8n << 60n) | BigInt(GPA_UNMAPPED / 4096));
    enterGuest(t, [enc.ld(A0, A1, 0)]);
    t.run(1);
    expectHsTrap(t, "guest-page fault on the fetch's VS table", H.CAUSE_FETCH_GUEST_PAGE_FAULT, GUEST, GUEST);
    t.expectCsr("htval: the root PTE's GPA >> 2", "htval", H.CSR_HTVAL, (GPA_UNMAPPED + 2 * 8) / 4);
  });
  it("host translations never see guest ones: the same address is the guest's GPA in VS and the host's VA in HS", () => {
    const { t } = hypervisor();
    t.write64(PA_BEHIND, 0x6a6an);
    const host = new PageTables(t, DRAM_BASE + 0x30_0000);
    host.map(CODE_BASE, CODE_BASE, RWX | AD);
    host.map(HS_TRAP & ~0xfff, HS_TRAP & ~0xfff, RWX | AD);
    host.map(GPA_MAPPED, DATA_BASE, R.PTE_R | AD);
    t.write64(DATA_BASE, 0x4848n);
    t.setCsr(R.CSR_SATP, host.satp());
    enterGuest(t, [enc.ld(A0, A1, 0), enc.ecall()]);
    t.setReg(A1, GPA_MAPPED);
    t.run(2);
    t.expectReg("guest", A0, 0x6a6an);
    t.load([enc.ld(A0, A1, 0)], CODE_BASE);
    t.pc = CODE_BASE;
    t.run(1);
    t.expectReg("host", A0, 0x4848n);
  });
  it("a new hgatp takes effect at once (hgatp writes flush the guest's TLB)", () => {
    const { t, g } = hypervisor();
    t.write64(PA_BEHIND, 1n);
    t.write64(PA_BEHIND + 0x1000, 2n);
    enterGuest(t, [enc.ld(A0, A1, 0), enc.ecall()]);
    t.setReg(A1, GPA_MAPPED);
    t.run(2);
    g.map(GPA_MAPPED, PA_BEHIND + 0x1000, R.PTE_R | AD);
    t.setCsr(H.CSR_HGATP, g.hgatp(1));
    enterGuest(t, [enc.ld(A0, A1, 0)]);
    t.run(1);
    t.expectReg("after remap", A0, 2n);
  });
});

describe("HLV, HLVX, HSV and HFENCE", () => {
  it("HS-mode loads and stores the guest's memory through both stages", () => {
    const { t } = hypervisor();
    t.write64(PA_BEHIND + 0x20, 0xffff_fffe_8000_0001n);
    t.load([enc.hlv_w(A0, A1), enc.hlv_wu(A2, A1), enc.hsv_d(13, 14), enc.hlv_d(15, 13)], CODE_BASE);
    t.pc = CODE_BASE;
    t.setRegs({ [A1]: GPA_MAPPED + 0x20, 13: GPA_MAPPED + 0x40, 14: 0x5555n });
    t.run(4);
    t.expectReg("hlv.w sign-extends", A0, 0xffff_ffff_8000_0001n);
    t.expectReg("hlv.wu zero-extends", A2, 0x8000_0001n);
    t.expectReg("hsv.d then hlv.d", 15, 0x5555n);
    expect(t.read64(PA_BEHIND + 0x40)).toBe(0x5555n);
  });
  it("HLVX needs execute permission, and an HLV fault is a guest-page fault with GVA", () => {
    const { t } = hypervisor();
    const insn = enc.hlvx_hu(A0, A1);
    t.load([insn, enc.hlvx_hu(A0, A2)], CODE_BASE);
    t.pc = CODE_BASE;
    t.setRegs({ [A1]: GUEST, [A2]: GPA_MAPPED });
    t.run(2);
    expectHsTrap(t, "hlvx of a non-executable page", H.CAUSE_LOAD_GUEST_PAGE_FAULT, CODE_BASE + 4, GPA_MAPPED);
    expect(t.csr(H.CSR_HSTATUS) & BigInt(H.HSTATUS_GVA)).toBe(BigInt(H.HSTATUS_GVA));
  });
  it("HLV from U needs hstatus.HU; from VS it is a virtual instruction; HFENCE.GVMA under TVM is illegal", () => {
    const { t } = hypervisor();
    t.load([enc.hlv_d(A0, A1)], CODE_BASE);
    t.pc = CODE_BASE;
    t.setReg(A1, GPA_MAPPED);
    t.setPriv(R.PRV_U);
    t.run(1);
    expectHsTrap(t, "hlv from U", R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE);
    t.setCsr(H.CSR_HSTATUS, H.HSTATUS_HU);
    t.pc = CODE_BASE;
    t.setPriv(R.PRV_U);
    t.run(1);
    expect(t.pc, "hlv from U with HU").toBe(CODE_BASE + 4);
    t.setPriv(R.PRV_S);
    enterGuest(t, [enc.hfence_vvma(0, 0)]);
    t.run(1);
    expectHsTrap(t, "hfence.vvma from VS", H.CAUSE_VIRTUAL_INSTRUCTION, GUEST);
    t.setCsr(R.CSR_MSTATUS, t.csr(R.CSR_MSTATUS) | BigInt(R.MSTATUS_TVM));
    t.load([enc.hfence_gvma(0, 0)], CODE_BASE);
    t.pc = CODE_BASE;
    t.run(1);
    expectHsTrap(t, "hfence.gvma under TVM", R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE);
  });
});

describe("virtual interrupts", () => {
  it("hvip.VSSIP delegated by hideleg reaches VS as a supervisor software interrupt; not delegated, it goes to HS as cause 2", () => {
    const { t } = hypervisor();
    t.setCsr(R.CSR_MIE, H.MIP_VSSIP);
    t.setCsr(H.CSR_HIDELEG, H.MIP_VSSIP);
    t.setCsr(H.CSR_VSSTATUS, R.MSTATUS_SIE);
    enterGuest(t, [enc.addi(A0, 0, 1), enc.addi(A0, 0, 2)]);
    t.setCsr(H.CSR_HVIP, H.MIP_VSSIP);
    expect(t.hart.takeInterrupt()).toBe(true);
    expect(t.hart.csr.virt).toBe(1);
    t.expectCsr("vscause in scause slot", "scause", R.CSR_SCAUSE, (1n << 63n) | 1n);
    expect(t.pc).toBe(VS_TRAP);
    t.expectCsr("vsip shows SSIP", "sip", R.CSR_SIP, R.MIP_SSIP);
    // Not delegated: HS takes it even with its own SIE clear, since V=1.
    t.setCsr(H.CSR_HIDELEG, 0);
    expect(t.hart.takeInterrupt()).toBe(true);
    expectHsTrap(t, "VSSI to HS", (1n << 63n) | BigInt(H.IRQ_VS_SOFT), VS_TRAP);
  });
});

describe("the block tier stays exact across V switches", () => {
  it("a guest loop through two-stage translation gives the same result with and without compiled blocks", () => {
    const results = [false, true].map((jit) => {
      const { t } = hypervisor(jit);
      for (let i = 0; i < 64; i++) t.write64(PA_BEHIND + 8 * i, BigInt(i * i));
      // sum += mem[i] for 64 words, 20 times over; then ecall.
      enterGuest(t, [
        enc.addi(5, 0, 20),
        enc.addi(6, 0, 64), enc.addi(7, A1, 0),
        enc.ld(8, 7, 0), enc.add(A0, A0, 8), enc.addi(7, 7, 8), enc.addi(6, 6, -1), enc.bne(6, 0, -16),
        enc.addi(5, 5, -1), enc.bne(5, 0, -32),
        enc.ecall(),
      ]);
      t.setReg(A1, GPA_MAPPED);
      t.run(1 + 20 * (2 + 64 * 5 + 2) + 1);
      expectHsTrap(t, `jit=${jit}`, H.CAUSE_ECALL_VS, GUEST + 40);
      return t.reg(A0);
    });
    expect(results[0]).toBe(results[1]);
    expect(results[0]).toBe(20n * 85344n);
  });
});
