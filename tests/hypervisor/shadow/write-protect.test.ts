/*
 * --shadow-coherence wp: the guest's page-table pages are write-protected
 * in the shadow, a store to one is emulated (exits/pt-write.ts) and zaps
 * the shadow entries it changed, and a table written again and again with
 * no walk through it is unshadowed (flooding). Driven from the guest's side
 * as in shadow-mmu.test.ts: tables built in guest RAM, the fault path
 * filling the shadow, the shadow walked as the real hart walks it.
 */

import { beforeEach, describe, expect, it } from "vitest";
import { emulatePtWrite } from "../../../src/hypervisor/exits/pt-write.ts";
import { FrameAllocator } from "../../../src/hypervisor/frames.ts";
import { GuestMemory } from "../../../src/hypervisor/guest-memory.ts";
import { RunPage } from "../../../src/hypervisor/runpage.ts";
import { FILL_DONE, FILL_MMIO, FILL_PT_WRITE, ShadowMmu } from "../../../src/hypervisor/shadow/shadow-mmu.ts";
import { ShadowState } from "../../../src/hypervisor/shadow/shadow-state.ts";
import { STAT } from "../../../src/hypervisor/stats.ts";
import { VcpuContext, VmClock } from "../../../src/hypervisor/vcpu-context.ts";
import { DRAM_BASE, PAGE_SIZE } from "../../../src/machine/memlayout.ts";
import { ACCESS_LOAD, ACCESS_STORE, walkSv39, type Access, type Translation } from "../../../src/machine/mmu.ts";
import * as R from "../../../src/machine/riscv.ts";

const RAM = 4 * 2 ** 20;
const ROOT = DRAM_BASE + 0x10_0000;
const L1 = ROOT + PAGE_SIZE;
const L0 = ROOT + 2 * PAGE_SIZE;
const DATA = DRAM_BASE + 0x20_0000;
const OTHER = DATA + PAGE_SIZE;
const VA = 0x40_0000;
/** Where the guest maps its own leaf table L0 as data, through L0 itself. */
const L0_ALIAS = 0x40_1000;
/** A second leaf table, and where L0 is data through it (a kernel's direct map: its walk does not go through L0). */
const L0B = ROOT + 4 * PAGE_SIZE;
const L0_DIRECT = 0x60_0000;
const V = R.PTE_V, RD = R.PTE_R, WR = R.PTE_W, AC = R.PTE_A, DI = R.PTE_D;
const RW = V | RD | WR | AC | DI;
const PC = DRAM_BASE + 0x1000;
const T0 = 5, T1 = 6;

let frames: FrameAllocator;
let guest: GuestMemory;

/** One vCPU's view: its context and shadow. */
interface Vcpu {
  readonly ctx: VcpuContext;
  readonly shadow: ShadowMmu;
  readonly stats: Float64Array;
}

function vcpu(hart: number): Vcpu {
  const ctx = new VcpuContext(hart, new RunPage(), new VmClock(VmClock.now()));
  const state = ShadowState.create(frames, 32, "wp");
  const shadow = new ShadowMmu(state.buffer, frames.mem, guest.view, ctx.stats);
  ctx.csr.priv = R.PRV_S;
  ctx.csr.lo[R.CSR_SATP] = ROOT / PAGE_SIZE;
  ctx.csr.hi[R.CSR_SATP] = R.SATP_MODE_SV39 << 28;
  return { ctx, shadow, stats: ctx.stats };
}

/** The driver's page-table builder: writes a PTE into guest RAM as the guest kernel would. */
function pte(table: number, index: number, pa: number, flags: number): void {
  guest.view.writeU64(table + index * 8, (BigInt(Math.floor(pa / PAGE_SIZE)) << 10n) | BigInt(flags));
}
function pteValue(pa: number, flags: number): bigint {
  return (BigInt(Math.floor(pa / PAGE_SIZE)) << 10n) | BigInt(flags);
}
function map4k(va: number, pa: number, flags: number): void {
  pte(ROOT, 0, L1, V);
  pte(L1, (va >>> 21) & 0x1ff, L0, V);
  pte(L0, (va >>> 12) & 0x1ff, pa, flags);
}

/** Walks a vCPU's shadow as its real hart does (U-mode, machine memory): the machine address, or -cause. */
function hartWalk(v: Vcpu, va: number, access: Access): number {
  const out: Translation = { pa: 0, global: false, writable: false, spanShift: 0 };
  const slot = v.shadow.select(v.ctx.csr);
  const cause = walkSv39(frames.mem, { rootPpn: v.shadow.realSatpLo(slot), priv: R.PRV_U, sum: false, mxr: false }, va | 0, Math.floor(va / 2 ** 32) | 0, access, out);
  return cause === 0 ? out.pa : -cause;
}
function machineOf(gpa: number): number {
  return guest.view.translate(gpa, 1) + DRAM_BASE;
}
function fill(v: Vcpu, access: Access, va: number): number {
  return v.shadow.fill(v.shadow.select(v.ctx.csr), access, va);
}

// A tiny encoder for the stores the tests make (unpriv spec 2.6, A extension).
function sd(rs2: number, rs1: number, imm: number): number {
  return (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (0b011 << 12) | ((imm & 0x1f) << 7) | 0b0100011;
}
function amoswapD(rd: number, rs2: number, rs1: number): number {
  return (0b00001 << 27) | (rs2 << 20) | (rs1 << 15) | (0b011 << 12) | (rd << 7) | 0b0101111;
}
function setReg(ctx: VcpuContext, r: number, value: bigint): void {
  ctx.x[2 * r] = Number(BigInt.asIntN(32, value));
  ctx.x[2 * r + 1] = Number(BigInt.asIntN(32, value >> 32n));
}

/**
 * The guest's kernel stores `value` into PTE `index` of L0 through its data
 * alias, as a fault of the real hart would deliver it: the store faults
 * (write-protected), the fill says FILL_PT_WRITE, the store is emulated.
 */
function guestStorePte(v: Vcpu, index: number, value: bigint, insn = sd(T1, T0, 0), alias = L0_ALIAS): boolean {
  const va = alias + index * 8;
  setReg(v.ctx, T0, BigInt(va));
  setReg(v.ctx, T1, value);
  expect(hartWalk(v, va, ACCESS_STORE)).toBe(-R.CAUSE_STORE_PAGE_FAULT);
  expect(fill(v, ACCESS_STORE, va)).toBe(FILL_PT_WRITE);
  return emulatePtWrite(v.ctx, v.shadow, v.shadow.gpa, va, insn, PC);
}

beforeEach(() => {
  frames = new FrameAllocator(16 * 2 ** 20);
  guest = new GuestMemory(frames, RAM);
  guest.ensure(DATA, 2 * PAGE_SIZE);
  map4k(VA, DATA, RW);
  pte(L0, (L0_ALIAS >>> 12) & 0x1ff, L0, RW); // the leaf table is also a data page of the kernel
  pte(L1, (L0_DIRECT >>> 21) & 0x1ff, L0B, V);
  pte(L0B, 0, L0, RW);
});

describe("--shadow-coherence wp: the guest's tables are write-protected", () => {
  it("a table the walk went through is mapped read-only, even where the guest maps it writable and dirty", () => {
    const a = vcpu(0);
    expect(fill(a, ACCESS_LOAD, VA)).toBe(FILL_DONE);
    expect(a.stats[STAT.mmu_pt_protected]).toBe(3); // root, L1, L0
    expect(fill(a, ACCESS_LOAD, L0_ALIAS)).toBe(FILL_DONE);
    expect(hartWalk(a, L0_ALIAS, ACCESS_LOAD)).toBe(machineOf(L0));
    expect(hartWalk(a, L0_ALIAS, ACCESS_STORE)).toBe(-R.CAUSE_STORE_PAGE_FAULT);
    expect(fill(a, ACCESS_STORE, L0_ALIAS)).toBe(FILL_PT_WRITE);
    expect(a.shadow.gpa).toBe(L0);
  });

  it("a page mapped writable before it became a table loses W when a walk first goes through it", () => {
    const a = vcpu(0);
    pte(L0, 0x100, ROOT + 3 * PAGE_SIZE, RW); // VA 0x50_0000 -> a page that is still plain data
    guest.ensure(ROOT + 3 * PAGE_SIZE);
    expect(fill(a, ACCESS_STORE, 0x50_0000)).toBe(FILL_DONE);
    expect(hartWalk(a, 0x50_0000, ACCESS_STORE)).toBe(machineOf(ROOT + 3 * PAGE_SIZE));
    // The guest makes that page a leaf table for VA 0x60_0000 and touches through it.
    pte(L1, 3, ROOT + 3 * PAGE_SIZE, V);
    pte(ROOT + 3 * PAGE_SIZE, 0, DATA, RW);
    expect(fill(a, ACCESS_LOAD, 0x60_0000)).toBe(FILL_DONE);
    expect(hartWalk(a, 0x50_0000, ACCESS_STORE)).toBe(-R.CAUSE_STORE_PAGE_FAULT);
    expect(hartWalk(a, 0x50_0000, ACCESS_LOAD)).toBe(machineOf(ROOT + 3 * PAGE_SIZE));
    expect(a.shadow.takeFlushPending()).toBe(true); // the hart's TLB may still allow the store
  });
});

describe("--shadow-coherence wp: a store to a table is emulated and zaps what it changed", () => {
  it("a guest that rewrites its PTE without sfence.vma sees the new mapping at once", () => {
    const a = vcpu(0);
    expect(fill(a, ACCESS_LOAD, VA)).toBe(FILL_DONE);
    expect(hartWalk(a, VA, ACCESS_LOAD)).toBe(machineOf(DATA));
    expect(guestStorePte(a, 0, pteValue(OTHER, RW))).toBe(true);
    expect(a.ctx.pc).toBe(PC + 4);
    expect(guest.view.readU64(L0)).toBe(pteValue(OTHER, RW)); // performed through the guest memory view
    expect(a.stats[STAT.mmu_pte_write]).toBe(1);
    expect(hartWalk(a, VA, ACCESS_LOAD)).toBe(-R.CAUSE_LOAD_PAGE_FAULT); // zapped, no fence needed
    expect(fill(a, ACCESS_LOAD, VA)).toBe(FILL_DONE);
    expect(hartWalk(a, VA, ACCESS_LOAD)).toBe(machineOf(OTHER));
  });

  it("a store to a non-leaf entry drops the whole region below it; other entries stay", () => {
    const a = vcpu(0);
    pte(L0, 0x10, OTHER, RW);
    expect(fill(a, ACCESS_LOAD, VA)).toBe(FILL_DONE);
    expect(fill(a, ACCESS_LOAD, VA + 0x10_000)).toBe(FILL_DONE);
    // The guest clears L0's entry 0x10 (a leaf), then its L1 entry for VA (through L1's own alias).
    expect(guestStorePte(a, 0x10, 0n)).toBe(true);
    expect(hartWalk(a, VA + 0x10_000, ACCESS_LOAD)).toBe(-R.CAUSE_LOAD_PAGE_FAULT);
    expect(hartWalk(a, VA, ACCESS_LOAD)).toBe(machineOf(DATA));
    pte(L0, 0x102, L1, RW); // L1 as data at VA 0x50_2000
    expect(fill(a, ACCESS_LOAD, VA)).toBe(FILL_DONE);
    setReg(a.ctx, T0, BigInt(0x50_2000 + 2 * 8));
    setReg(a.ctx, T1, 0n);
    expect(fill(a, ACCESS_STORE, 0x50_2000 + 2 * 8)).toBe(FILL_PT_WRITE);
    expect(emulatePtWrite(a.ctx, a.shadow, a.shadow.gpa, 0x50_2000 + 2 * 8, sd(T1, T0, 0), PC)).toBe(true);
    expect(hartWalk(a, VA, ACCESS_LOAD)).toBe(-R.CAUSE_LOAD_PAGE_FAULT);
  });

  it("flooding: a table stored to 3 times with no walk between is unshadowed, then protected again by the next walk", () => {
    const a = vcpu(0);
    expect(fill(a, ACCESS_LOAD, VA)).toBe(FILL_DONE);
    // A kernel filling a table through its direct map: no walk goes through L0 meanwhile.
    for (let i = 1; i <= 3; i++) expect(guestStorePte(a, 0x20 + i, pteValue(OTHER, RW), sd(T1, T0, 0), L0_DIRECT)).toBe(true);
    expect(a.stats[STAT.mmu_pte_write]).toBe(3);
    expect(a.stats[STAT.mmu_flooded]).toBe(1);
    expect(hartWalk(a, VA, ACCESS_LOAD)).toBe(-R.CAUSE_LOAD_PAGE_FAULT); // what it fed is gone
    // Unshadowed: the kernel's next stores to it run natively.
    expect(fill(a, ACCESS_STORE, L0_DIRECT)).toBe(FILL_DONE);
    expect(hartWalk(a, L0_DIRECT, ACCESS_STORE)).toBe(machineOf(L0));
    // A walk through L0 protects it again and takes W off the direct mapping.
    const protectedBefore = a.stats[STAT.mmu_pt_protected];
    expect(fill(a, ACCESS_LOAD, VA)).toBe(FILL_DONE);
    expect(a.stats[STAT.mmu_pt_protected]).toBe(protectedBefore + 1);
    expect(hartWalk(a, L0_DIRECT, ACCESS_STORE)).toBe(-R.CAUSE_STORE_PAGE_FAULT);
  });

  it("a store of the same table that a walk uses in between is never flooded", () => {
    const a = vcpu(0);
    for (let i = 0; i < 6; i++) {
      expect(fill(a, ACCESS_LOAD, VA)).toBe(FILL_DONE);
      expect(guestStorePte(a, 0, pteValue(i % 2 === 0 ? OTHER : DATA, RW), sd(T1, T0, 0), L0_DIRECT)).toBe(true);
    }
    expect(a.stats[STAT.mmu_flooded]).toBe(0);
    expect(a.stats[STAT.mmu_pte_write]).toBe(6);
  });

  it("an AMO to a table is not emulated: the table is unprotected and the fill after it lets the store run natively", () => {
    const a = vcpu(0);
    expect(fill(a, ACCESS_LOAD, VA)).toBe(FILL_DONE);
    expect(guestStorePte(a, 0, pteValue(OTHER, RW), amoswapD(T1, T1, T0))).toBe(false);
    expect(a.ctx.pc).not.toBe(PC + 4);
    expect(a.stats[STAT.mmu_flooded]).toBe(1);
    expect(hartWalk(a, VA, ACCESS_LOAD)).toBe(-R.CAUSE_LOAD_PAGE_FAULT);
    // The retry: L0's own walk goes through L0, which stays unprotected for this one fill.
    expect(fill(a, ACCESS_STORE, L0_ALIAS)).toBe(FILL_DONE);
    expect(hartWalk(a, L0_ALIAS, ACCESS_STORE)).toBe(machineOf(L0));
    // The next walk through L0 protects it again, and takes W off that mapping.
    expect(fill(a, ACCESS_LOAD, VA)).toBe(FILL_DONE);
    expect(hartWalk(a, L0_ALIAS, ACCESS_STORE)).toBe(-R.CAUSE_STORE_PAGE_FAULT);
  });

  it("a store that stays inside the page but starts on the page before is not emulated (its start is not the fault address)", () => {
    const a = vcpu(0);
    expect(fill(a, ACCESS_LOAD, VA)).toBe(FILL_DONE);
    setReg(a.ctx, T0, BigInt(L0_ALIAS - 4));
    setReg(a.ctx, T1, 0n);
    expect(fill(a, ACCESS_STORE, L0_ALIAS)).toBe(FILL_PT_WRITE);
    expect(emulatePtWrite(a.ctx, a.shadow, a.shadow.gpa, L0_ALIAS, sd(T1, T0, 0), PC)).toBe(false);
    expect(guest.view.readU64(L0)).toBe(pteValue(DATA, RW));
  });
});

describe("--shadow-coherence wp: hostile guests and several vCPUs", () => {
  it("a table changed by one vCPU while another walks it: the writer's shadow follows at once, the other's at its fence, never outside the map", () => {
    const a = vcpu(0);
    const b = vcpu(1);
    expect(fill(a, ACCESS_LOAD, VA)).toBe(FILL_DONE);
    expect(fill(b, ACCESS_LOAD, VA)).toBe(FILL_DONE);
    // vCPU b points the PTE past the end of RAM.
    expect(guestStorePte(b, 0, pteValue(DRAM_BASE + RAM + 0x1000, RW))).toBe(true);
    expect(hartWalk(b, VA, ACCESS_LOAD)).toBe(-R.CAUSE_LOAD_PAGE_FAULT);
    expect(fill(b, ACCESS_LOAD, VA)).toBe(FILL_MMIO); // no mapping: an MMIO exit that nothing answers
    // vCPU a keeps its entry as a TLB would until the guest's remote fence, then sees the same.
    expect(hartWalk(a, VA, ACCESS_LOAD)).toBe(machineOf(DATA));
    a.shadow.flushAll();
    expect(fill(a, ACCESS_LOAD, VA)).toBe(FILL_MMIO);
    // a's walk just went through L0 again: its own stores to it are emulated too.
    expect(fill(a, ACCESS_LOAD, L0_ALIAS)).toBe(FILL_DONE);
    expect(guestStorePte(a, 0, pteValue(DATA, RW))).toBe(true);
    expect(fill(a, ACCESS_LOAD, VA)).toBe(FILL_DONE);
    expect(hartWalk(a, VA, ACCESS_LOAD)).toBe(machineOf(DATA));
  });

  it("an upper-half address's table: a store to its PTE zaps the upper-half entry", () => {
    const a = vcpu(0);
    const high = -0x4000_0000 + VA; // 0xffff_ffff_c040_0000: ROOT entry 511
    pte(ROOT, 511, L1, V);
    expect(fill(a, ACCESS_LOAD, high)).toBe(FILL_DONE);
    expect(hartWalk(a, high, ACCESS_LOAD)).toBe(machineOf(DATA));
    expect(guestStorePte(a, 0, pteValue(OTHER, RW))).toBe(true);
    expect(hartWalk(a, high, ACCESS_LOAD)).toBe(-R.CAUSE_LOAD_PAGE_FAULT);
    expect(fill(a, ACCESS_LOAD, high)).toBe(FILL_DONE);
    expect(hartWalk(a, high, ACCESS_LOAD)).toBe(machineOf(OTHER));
  });
});
