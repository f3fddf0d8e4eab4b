/*
 * The Sv39 page-table walk on its own (priv spec 4.3.2, 4.4): page sizes,
 * permission rules, A/D updates, and the faults a hostile page table can
 * provoke. Tables are built in RAM with the harness's PageTables helper.
 */

import { describe, expect, it } from "vitest";
import { ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE, walkSv39, type Access, type Translation, type WalkContext } from "../../src/machine/mmu.ts";
import * as R from "../../src/machine/riscv.ts";
import { PAGE_SIZE } from "../../src/machine/memlayout.ts";
import { AD, DATA_BASE, HartHarness, LEVEL_1G, LEVEL_2M, LEVEL_4K, PageTables, RWX, hex } from "../helpers/hart-harness.ts";

const TWO_32 = 2 ** 32;
const MiB = 2 ** 20;

function setup(): { t: HartHarness; pt: PageTables } {
  const t = new HartHarness({ memSize: 8 * MiB });
  return { t, pt: new PageTables(t) };
}

interface WalkResult {
  cause: number;
  out: Translation;
}

function walk(t: HartHarness, pt: PageTables, va: number, access: Access, ctx: Partial<WalkContext> = {}): WalkResult {
  const full: WalkContext = { rootPpn: pt.root / PAGE_SIZE, priv: R.PRV_S, sum: false, mxr: false, ...ctx };
  const out: Translation = { pa: -1, global: false, writable: false, spanShift: -1 };
  const cause = walkSv39(t.mem, full, va | 0, Math.floor(va / TWO_32) | 0, access, out);
  return { cause, out };
}

const FAULT = [R.CAUSE_FETCH_PAGE_FAULT, R.CAUSE_LOAD_PAGE_FAULT, R.CAUSE_STORE_PAGE_FAULT];

describe("page sizes (priv spec 4.4.1)", () => {
  it("a 4 KiB page maps va bits 11:0 into its frame", () => {
    const { t, pt } = setup();
    pt.map(0x1234_5000, DATA_BASE + 0x3000, R.PTE_R | AD);
    const r = walk(t, pt, 0x1234_5abc, ACCESS_LOAD);
    expect(r.cause).toBe(0);
    expect(hex(r.out.pa)).toBe(hex(DATA_BASE + 0x3abc));
    expect(r.out.spanShift, "leaf size").toBe(0);
  });
  it("a 2 MiB megapage maps va bits 20:0", () => {
    const { t, pt } = setup();
    pt.map(0x4020_0000, 0x8040_0000, R.PTE_R | AD, LEVEL_2M);
    const r = walk(t, pt, 0x4020_0000 + 0x1_2345, ACCESS_LOAD);
    expect(r.cause).toBe(0);
    expect(hex(r.out.pa)).toBe(hex(0x8040_0000 + 0x1_2345));
    expect(r.out.spanShift, "leaf size").toBe(9);
  });
  it("a 1 GiB gigapage maps va bits 29:0, at a high (sign-extended) address", () => {
    const { t, pt } = setup();
    const va = -0x4000_0000; // 0xffff_ffff_c000_0000
    pt.map(va, 0x8000_0000, R.PTE_R | AD, LEVEL_1G);
    const r = walk(t, pt, va + 0x12_3456, ACCESS_LOAD);
    expect(r.cause).toBe(0);
    expect(hex(r.out.pa)).toBe(hex(0x8012_3456));
    expect(r.out.spanShift, "leaf size").toBe(18);
  });
  it("a misaligned megapage (ppn[0] != 0) is a page fault", () => {
    const { t, pt } = setup();
    pt.map(0x4020_0000, DATA_BASE + 0x1000, R.PTE_R | AD, LEVEL_2M);
    expect(walk(t, pt, 0x4020_0000, ACCESS_LOAD).cause).toBe(R.CAUSE_LOAD_PAGE_FAULT);
  });
  it("a misaligned gigapage (ppn[1] != 0) is a page fault", () => {
    const { t, pt } = setup();
    pt.map(0x4000_0000, 0x8020_0000, R.PTE_R | AD, LEVEL_1G);
    expect(walk(t, pt, 0x4000_0000, ACCESS_FETCH).cause).toBe(R.CAUSE_FETCH_PAGE_FAULT);
  });
});

describe("malformed entries (priv spec 4.3.2 steps 3-4)", () => {
  const va = 0x1000_0000;
  for (const [what, pte] of [
    ["V = 0", BigInt(R.PTE_R | AD)],
    ["W without R", BigInt(R.PTE_V | R.PTE_W | AD)],
    ["W+X without R", BigInt(R.PTE_V | R.PTE_W | R.PTE_X | AD)],
    ["reserved bits 63:54 set", BigInt(R.PTE_V | R.PTE_R | AD) | (1n << 60n)],
    ["PBMT bits set (Svpbmt not implemented)", BigInt(R.PTE_V | R.PTE_R | AD) | (1n << 61n)],
  ] as const) {
    it(`a leaf with ${what} is a page fault for every access`, () => {
      const { t, pt } = setup();
      pt.setPte(va, LEVEL_4K, pte | (BigInt((DATA_BASE) / PAGE_SIZE) << 10n));
      for (const a of [ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE] as const) expect(walk(t, pt, va, a).cause, `access ${a}`).toBe(FAULT[a]);
    });
  }
  it("a pointer entry at level 0 is a page fault", () => {
    const { t, pt } = setup();
    pt.setPte(va, LEVEL_4K, BigInt(R.PTE_V) | (BigInt(pt.alloc() / PAGE_SIZE) << 10n));
    expect(walk(t, pt, va, ACCESS_LOAD).cause).toBe(R.CAUSE_LOAD_PAGE_FAULT);
  });
  it("a PTE outside RAM is an access fault, not a page fault", () => {
    const { t, pt } = setup();
    // Level-2 entry points to a table at 0x1000_0000: no RAM there.
    pt.setPte(va, LEVEL_1G, BigInt(R.PTE_V) | (BigInt(0x1000_0000 / PAGE_SIZE) << 10n));
    expect(walk(t, pt, va, ACCESS_LOAD).cause).toBe(R.CAUSE_LOAD_ACCESS);
    expect(walk(t, pt, va, ACCESS_STORE).cause).toBe(R.CAUSE_STORE_ACCESS);
    expect(walk(t, pt, va, ACCESS_FETCH).cause).toBe(R.CAUSE_FETCH_ACCESS);
  });
  it("a root outside RAM is an access fault", () => {
    const { t, pt } = setup();
    expect(walk(t, pt, va, ACCESS_LOAD, { rootPpn: 0x1000 }).cause).toBe(R.CAUSE_LOAD_ACCESS);
  });
  it("non-canonical addresses (bits 63:39 != bit 38) are page faults before any walk", () => {
    const { t, pt } = setup();
    pt.map(0, DATA_BASE, RWX | AD, LEVEL_1G);
    for (const bad of [2 ** 39, 2 ** 38, -(2 ** 39) - 4096, 2 ** 45]) {
      expect(walk(t, pt, bad, ACCESS_LOAD).cause, hex(bad)).toBe(R.CAUSE_LOAD_PAGE_FAULT);
    }
    pt.map(2 ** 38 - 4096, DATA_BASE, R.PTE_R | AD);
    expect(walk(t, pt, 2 ** 38 - 4096, ACCESS_LOAD).cause, "the top page of the lower half is canonical").toBe(0);
    pt.map(-(2 ** 38), DATA_BASE, R.PTE_R | AD);
    expect(walk(t, pt, -(2 ** 38), ACCESS_LOAD).cause, "the bottom page of the upper half is canonical").toBe(0);
  });
});

describe("permissions (priv spec 4.3.2 step 5, 4.1.1 SUM/MXR)", () => {
  const va = 0x2000_0000;
  function perm(flags: number, access: Access, ctx: Partial<WalkContext>): number {
    const { t, pt } = setup();
    pt.map(va, DATA_BASE, flags | AD);
    return walk(t, pt, va, access, ctx).cause;
  }
  it("R, W, X each allow exactly their access", () => {
    expect(perm(R.PTE_R, ACCESS_LOAD, {})).toBe(0);
    expect(perm(R.PTE_R, ACCESS_STORE, {})).toBe(R.CAUSE_STORE_PAGE_FAULT);
    expect(perm(R.PTE_R, ACCESS_FETCH, {})).toBe(R.CAUSE_FETCH_PAGE_FAULT);
    expect(perm(R.PTE_R | R.PTE_W, ACCESS_STORE, {})).toBe(0);
    expect(perm(R.PTE_X, ACCESS_FETCH, {}), "execute-only fetch").toBe(0);
    expect(perm(R.PTE_X, ACCESS_LOAD, {}), "execute-only load").toBe(R.CAUSE_LOAD_PAGE_FAULT);
  });
  it("MXR makes executable pages readable, but not writable", () => {
    expect(perm(R.PTE_X, ACCESS_LOAD, { mxr: true })).toBe(0);
    expect(perm(R.PTE_X, ACCESS_STORE, { mxr: true })).toBe(R.CAUSE_STORE_PAGE_FAULT);
  });
  it("U pages: U mode yes; S mode only for loads/stores with SUM, never for fetch", () => {
    const U = R.PTE_U | RWX;
    expect(perm(U, ACCESS_LOAD, { priv: R.PRV_U })).toBe(0);
    expect(perm(U, ACCESS_LOAD, { priv: R.PRV_S })).toBe(R.CAUSE_LOAD_PAGE_FAULT);
    expect(perm(U, ACCESS_STORE, { priv: R.PRV_S })).toBe(R.CAUSE_STORE_PAGE_FAULT);
    expect(perm(U, ACCESS_LOAD, { priv: R.PRV_S, sum: true })).toBe(0);
    expect(perm(U, ACCESS_STORE, { priv: R.PRV_S, sum: true })).toBe(0);
    expect(perm(U, ACCESS_FETCH, { priv: R.PRV_S, sum: true })).toBe(R.CAUSE_FETCH_PAGE_FAULT);
  });
  it("S pages are never accessible from U", () => {
    for (const a of [ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE] as const) expect(perm(RWX, a, { priv: R.PRV_U })).toBe(FAULT[a]);
  });
});

describe("A and D bits (priv spec 4.3.2 step 7; updated in hardware as QEMU does)", () => {
  const va = 0x3000_0000;
  it("a load sets A only; a store sets A and D; a fetch sets A", () => {
    for (const [access, want] of [[ACCESS_LOAD, R.PTE_A], [ACCESS_STORE, R.PTE_A | R.PTE_D], [ACCESS_FETCH, R.PTE_A]] as const) {
      const { t, pt } = setup();
      const at = pt.map(va, DATA_BASE, RWX);
      expect(walk(t, pt, va, access).cause).toBe(0);
      expect(Number(t.read64(at) & BigInt(R.PTE_A | R.PTE_D)), `access ${access}`).toBe(want);
    }
  });
  it("a faulting access sets neither", () => {
    const { t, pt } = setup();
    const at = pt.map(va, DATA_BASE, R.PTE_R);
    expect(walk(t, pt, va, ACCESS_STORE).cause).toBe(R.CAUSE_STORE_PAGE_FAULT);
    expect(t.read64(at) & BigInt(R.PTE_A | R.PTE_D)).toBe(0n);
  });
  it("the walk reports a page writable for the store TLB only when W and (now) D are set", () => {
    const { t, pt } = setup();
    pt.map(va, DATA_BASE, R.PTE_R | R.PTE_W);
    expect(walk(t, pt, va, ACCESS_LOAD).out.writable, "clean page after a load").toBe(false);
    expect(walk(t, pt, va, ACCESS_STORE).out.writable, "after a store set D").toBe(true);
    pt.map(va + PAGE_SIZE, DATA_BASE, R.PTE_R | AD);
    expect(walk(t, pt, va + PAGE_SIZE, ACCESS_LOAD).out.writable, "read-only page").toBe(false);
  });
  it("G in a pointer entry makes the whole subtree global", () => {
    const { t, pt } = setup();
    pt.map(va, DATA_BASE, R.PTE_R | AD);
    expect(walk(t, pt, va, ACCESS_LOAD).out.global).toBe(false);
    const l2 = pt.pteAddr(va, LEVEL_1G);
    t.write64(l2, t.read64(l2) | BigInt(R.PTE_G));
    expect(walk(t, pt, va, ACCESS_LOAD).out.global).toBe(true);
  });
});
