/*
 * Shadow page tables, driven from the guest's side: a small helper builds
 * Sv39 tables in guest RAM (as a guest kernel would, hostile or not), the
 * fault path fills the shadow, and the shadow is then walked exactly as the
 * vCPU's real hart walks it (real U-mode, machine memory). Every hostile
 * class must end in a guest fault or an MMIO exit — never in a mapping of a
 * machine frame outside the VM's guest-physical map.
 */

import { beforeEach, describe, expect, it } from "vitest";
import { FrameAllocator } from "../../../src/hypervisor/frames.ts";
import { GuestMemory } from "../../../src/hypervisor/guest-memory.ts";
import { RunPage, VCPU_EXIT, CONTROL_SHADOW_FLUSH } from "../../../src/hypervisor/runpage.ts";
import {
  FILL_DONE,
  FILL_FETCH_NOT_RAM,
  FILL_GUEST_FAULT,
  FILL_MMIO,
  FILL_UNBACKED,
  ShadowMmu,
} from "../../../src/hypervisor/shadow/shadow-mmu.ts";
import { ShadowState } from "../../../src/hypervisor/shadow/shadow-state.ts";
import { shootdown } from "../../../src/hypervisor/shadow/shootdown.ts";
import { STAT } from "../../../src/hypervisor/stats.ts";
import { VcpuContext, VmClock } from "../../../src/hypervisor/vcpu-context.ts";
import { DRAM_BASE, PAGE_SIZE } from "../../../src/machine/memlayout.ts";
import { ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE, walkSv39, type Access, type Translation } from "../../../src/machine/mmu.ts";
import * as R from "../../../src/machine/riscv.ts";

const RAM = 4 * 2 ** 20;
const ROOT = DRAM_BASE + 0x10_0000;
const L1 = ROOT + PAGE_SIZE;
const L0 = ROOT + 2 * PAGE_SIZE;
const DATA = DRAM_BASE + 0x20_0000;
const V = R.PTE_V, RD = R.PTE_R, WR = R.PTE_W, EX = R.PTE_X, US = R.PTE_U, AC = R.PTE_A, DI = R.PTE_D;

let frames: FrameAllocator;
let guest: GuestMemory;
let shadow: ShadowMmu;
let ctx: VcpuContext;
let stats: Float64Array;

/** The driver's page-table builder: writes a PTE into guest RAM as the guest kernel would. */
function pte(table: number, index: number, pa: number, flags: number): void {
  guest.view.writeU64(table + index * 8, (BigInt(Math.floor(pa / PAGE_SIZE)) << 10n) | BigInt(flags));
}
function guestPte(table: number, index: number): bigint {
  return guest.view.readU64(table + index * 8);
}
/** A 4 KiB mapping of `va` (below 1 GiB) through ROOT -> L1 -> L0. */
function map4k(va: number, pa: number, flags: number): void {
  pte(ROOT, 0, L1, V);
  pte(L1, (va >>> 21) & 0x1ff, L0, V);
  pte(L0, (va >>> 12) & 0x1ff, pa, flags);
}
function useSatp(priv: number, root = ROOT, asid = 0, status = 0): void {
  ctx.csr.priv = priv;
  ctx.csr.lo[R.CSR_SATP] = root / PAGE_SIZE;
  ctx.csr.hi[R.CSR_SATP] = (R.SATP_MODE_SV39 << 28) | (asid << R.SATP_HI_ASID_SHIFT);
  ctx.csr.mstatus = (ctx.csr.mstatus & ~(R.MSTATUS_SUM | R.MSTATUS_MXR | R.MSTATUS_MPRV | R.MSTATUS_MPP)) | status;
}

/** Walks the shadow as the real hart does (U-mode, machine memory): the machine address, or -cause. */
function hartWalk(slot: number, va: number, access: Access): number {
  const out: Translation = { pa: 0, global: false, writable: false, spanShift: 0 };
  const rootPpn = shadow.realSatpLo(slot);
  const cause = walkSv39(frames.mem, { rootPpn, priv: R.PRV_U, sum: false, mxr: false }, va | 0, Math.floor(va / 2 ** 32) | 0, access, out);
  return cause === 0 ? out.pa : -cause;
}
/** Machine address of a guest-physical address (the VM's map). */
function machineOf(gpa: number): number {
  return guest.view.translate(gpa, 1) + DRAM_BASE;
}

beforeEach(() => {
  frames = new FrameAllocator(16 * 2 ** 20);
  guest = new GuestMemory(frames, RAM);
  const state = ShadowState.create(frames, 32);
  ctx = new VcpuContext(0, new RunPage(), new VmClock(VmClock.now()));
  stats = ctx.stats;
  shadow = new ShadowMmu(state.buffer, frames.mem, guest.view, stats);
  guest.ensure(DATA, PAGE_SIZE);
  guest.view.writeU64(DATA, 0x1234n);
});

describe("selection: one shadow space per guest root, ASID and privilege view", () => {
  it("Bare satp and virtual M without MPRV use the guest-physical table", () => {
    ctx.csr.priv = R.PRV_S;
    expect(shadow.select(ctx.csr)).toBe(-1);
    useSatp(R.PRV_M);
    expect(shadow.select(ctx.csr)).toBe(-1);
  });

  it("virtual S, virtual U, SUM and MXR get separate spaces; switching back keeps the old one", () => {
    useSatp(R.PRV_S);
    const s = shadow.select(ctx.csr);
    useSatp(R.PRV_U);
    const u = shadow.select(ctx.csr);
    useSatp(R.PRV_S, ROOT, 0, R.MSTATUS_SUM);
    const sum = shadow.select(ctx.csr);
    expect(new Set([s, u, sum]).size).toBe(3);
    useSatp(R.PRV_S);
    expect(shadow.select(ctx.csr)).toBe(s);
    expect(stats[STAT.mmu_table_built]).toBe(3);
    expect(stats[STAT.mmu_table_kept]).toBe(1);
  });

  it("real satp names the shadow root with a per-space ASID", () => {
    useSatp(R.PRV_S);
    const s = shadow.select(ctx.csr);
    expect(shadow.realSatpHi(s) >>> 28).toBe(R.SATP_MODE_SV39);
    expect((shadow.realSatpHi(s) >>> R.SATP_HI_ASID_SHIFT) & R.SATP_ASID_MASK).toBe(s + 1);
  });
});

describe("lazy fill (priv spec 4.3.2 through the machine's walker)", () => {
  it("a valid mapping becomes a shadow entry to the guest page's machine frame (hidden fault)", () => {
    map4k(0x40_0000, DATA, V | RD | WR | AC | DI);
    useSatp(R.PRV_S);
    const slot = shadow.select(ctx.csr);
    expect(hartWalk(slot, 0x40_0008, ACCESS_LOAD)).toBe(-R.CAUSE_LOAD_PAGE_FAULT);
    expect(shadow.fill(slot, ACCESS_LOAD, 0x40_0008)).toBe(FILL_DONE);
    expect(hartWalk(slot, 0x40_0008, ACCESS_LOAD)).toBe(machineOf(DATA) + 8);
    expect(stats[STAT.pf_fixed]).toBe(1);
  });

  it("an invalid PTE is the guest's own page fault (true fault)", () => {
    map4k(0x40_0000, DATA, 0);
    useSatp(R.PRV_S);
    const slot = shadow.select(ctx.csr);
    expect(shadow.fill(slot, ACCESS_STORE, 0x40_0010)).toBe(FILL_GUEST_FAULT);
    expect(shadow.cause).toBe(R.CAUSE_STORE_PAGE_FAULT);
    expect(stats[STAT.pf_guest]).toBe(1);
  });

  it("A and D are set in the guest PTE as the guest would see them; writable only once D is set", () => {
    map4k(0x40_0000, DATA, V | RD | WR);
    useSatp(R.PRV_S);
    const slot = shadow.select(ctx.csr);
    expect(shadow.fill(slot, ACCESS_LOAD, 0x40_0000)).toBe(FILL_DONE);
    expect(guestPte(L0, 0x000) & BigInt(AC | DI)).toBe(BigInt(AC));
    expect(hartWalk(slot, 0x40_0000, ACCESS_STORE)).toBe(-R.CAUSE_STORE_PAGE_FAULT);
    expect(shadow.fill(slot, ACCESS_STORE, 0x40_0000)).toBe(FILL_DONE);
    expect(guestPte(L0, 0x000) & BigInt(AC | DI)).toBe(BigInt(AC | DI));
    expect(hartWalk(slot, 0x40_0000, ACCESS_STORE)).toBe(machineOf(DATA));
  });

  it("a guest page not yet backed asks for backing; the fill then succeeds", () => {
    const fresh = DATA + 0x10_0000;
    map4k(0x40_0000, fresh, V | RD | AC);
    useSatp(R.PRV_S);
    const slot = shadow.select(ctx.csr);
    expect(shadow.fill(slot, ACCESS_LOAD, 0x40_0000)).toBe(FILL_UNBACKED);
    expect(shadow.gpa).toBe(fresh);
    guest.ensure(fresh);
    expect(shadow.fill(slot, ACCESS_LOAD, 0x40_0000)).toBe(FILL_DONE);
  });
});

describe("privilege: U bit, SUM, MXR, MPRV", () => {
  beforeEach(() => {
    map4k(0x40_0000, DATA, V | RD | WR | AC | DI); // S-only
    map4k(0x40_1000, DATA, V | RD | WR | US | AC | DI); // user
    map4k(0x40_2000, DATA, V | EX | AC); // execute-only
  });

  it("virtual U never reaches an S-only page", () => {
    useSatp(R.PRV_U);
    const u = shadow.select(ctx.csr);
    expect(shadow.fill(u, ACCESS_LOAD, 0x40_0000)).toBe(FILL_GUEST_FAULT);
    expect(shadow.fill(u, ACCESS_LOAD, 0x40_1000)).toBe(FILL_DONE);
    // The S view filled the S-only page; the U view still has no entry for it.
    useSatp(R.PRV_S);
    expect(shadow.fill(shadow.select(ctx.csr), ACCESS_LOAD, 0x40_0000)).toBe(FILL_DONE);
    expect(hartWalk(u, 0x40_0000, ACCESS_LOAD)).toBe(-R.CAUSE_LOAD_PAGE_FAULT);
  });

  it("virtual S reaches a U page only with SUM, and never fetches from it", () => {
    useSatp(R.PRV_S);
    expect(shadow.fill(shadow.select(ctx.csr), ACCESS_LOAD, 0x40_1000)).toBe(FILL_GUEST_FAULT);
    useSatp(R.PRV_S, ROOT, 0, R.MSTATUS_SUM);
    const sum = shadow.select(ctx.csr);
    expect(shadow.fill(sum, ACCESS_LOAD, 0x40_1000)).toBe(FILL_DONE);
    expect(shadow.fill(sum, ACCESS_FETCH, 0x40_1000)).toBe(FILL_GUEST_FAULT);
    expect(shadow.cause).toBe(R.CAUSE_FETCH_PAGE_FAULT);
  });

  it("MXR makes an execute-only page readable, in its own view", () => {
    useSatp(R.PRV_S);
    expect(shadow.fill(shadow.select(ctx.csr), ACCESS_LOAD, 0x40_2000)).toBe(FILL_GUEST_FAULT);
    useSatp(R.PRV_S, ROOT, 0, R.MSTATUS_MXR);
    expect(shadow.fill(shadow.select(ctx.csr), ACCESS_LOAD, 0x40_2000)).toBe(FILL_DONE);
  });

  it("virtual M with MPRV: data translated at MPP, fetches untranslated", () => {
    useSatp(R.PRV_M, ROOT, 0, R.MSTATUS_MPRV | (R.PRV_S << R.MSTATUS_MPP_SHIFT));
    const m = shadow.select(ctx.csr);
    expect(m).toBeGreaterThanOrEqual(0);
    expect(shadow.fill(m, ACCESS_LOAD, 0x40_0000)).toBe(FILL_DONE);
    expect(hartWalk(m, 0x40_0000, ACCESS_LOAD)).toBe(machineOf(DATA));
    expect(shadow.fill(m, ACCESS_FETCH, DATA)).toBe(FILL_DONE);
    expect(hartWalk(m, DATA, ACCESS_FETCH)).toBe(machineOf(DATA));
    expect(shadow.fill(m, ACCESS_FETCH, 0x1000_0000)).toBe(FILL_FETCH_NOT_RAM);
  });
});

describe("hostile guests: the shadow never maps a frame outside the VM's map", () => {
  it("a PTE past the end of RAM is no mapping: an MMIO exit (nothing answers: an access fault)", () => {
    map4k(0x40_0000, DRAM_BASE + RAM + 0x1000, V | RD | WR | AC | DI);
    useSatp(R.PRV_S);
    const slot = shadow.select(ctx.csr);
    expect(shadow.fill(slot, ACCESS_LOAD, 0x40_0000)).toBe(FILL_MMIO);
    expect(shadow.gpa).toBe(DRAM_BASE + RAM + 0x1000);
    expect(hartWalk(slot, 0x40_0000, ACCESS_LOAD)).toBe(-R.CAUSE_LOAD_PAGE_FAULT);
  });

  it("a PTE at a device becomes an MMIO exit at the device's guest-physical address, never a mapping", () => {
    map4k(0x40_0000, 0x1000_0000, V | RD | WR | EX | AC | DI);
    useSatp(R.PRV_S);
    const slot = shadow.select(ctx.csr);
    expect(shadow.fill(slot, ACCESS_STORE, 0x40_0005)).toBe(FILL_MMIO);
    expect(shadow.gpa).toBe(0x1000_0005);
    expect(hartWalk(slot, 0x40_0005, ACCESS_STORE)).toBe(-R.CAUSE_STORE_PAGE_FAULT);
    expect(shadow.fill(slot, ACCESS_FETCH, 0x40_0000)).toBe(FILL_FETCH_NOT_RAM);
  });

  it("a PTE at a device page the VM maps into the guest (an assigned device's registers) is a mapping for loads and stores, never for fetches", () => {
    const frame = guest.ownFrame();
    guest.mapDevicePage(0x1000_a000, frame);
    map4k(0x40_0000, 0x1000_a000, V | RD | WR | EX | AC | DI);
    useSatp(R.PRV_S);
    const slot = shadow.select(ctx.csr);
    expect(shadow.fill(slot, ACCESS_STORE, 0x40_0008)).toBe(FILL_DONE);
    expect(hartWalk(slot, 0x40_0008, ACCESS_STORE)).toBe(frame + 8);
    expect(shadow.fill(slot, ACCESS_FETCH, 0x40_0000)).toBe(FILL_FETCH_NOT_RAM);
    // Any other device page stays an MMIO exit.
    map4k(0x40_1000, 0x1000_b000, V | RD | WR | AC | DI);
    expect(shadow.fill(slot, ACCESS_LOAD, 0x40_1000)).toBe(FILL_MMIO);
  });

  it("a PTE naming the hypervisor's own frames (the shadow root, the VM's table) reaches only the guest's page of that number", () => {
    useSatp(R.PRV_S);
    const slot = shadow.select(ctx.csr);
    const shadowRoot = shadow.realSatpLo(slot) * PAGE_SIZE;
    for (const target of [shadowRoot, guest.root]) {
      map4k(0x40_0000, target, V | RD | WR | AC | DI);
      shadow.sfence(-1, -1);
      const got = shadow.fill(slot, ACCESS_STORE, 0x40_0000);
      if (got === FILL_UNBACKED) {
        guest.ensure(target);
        expect(shadow.fill(slot, ACCESS_STORE, 0x40_0000)).toBe(FILL_DONE);
      } else if (got !== FILL_DONE) {
        expect(got).toBe(FILL_MMIO); // outside guest RAM: not a mapping either
        continue;
      }
      const pa = hartWalk(slot, 0x40_0000, ACCESS_STORE);
      expect(pa).toBe(machineOf(target));
      expect(pa).not.toBe(shadowRoot);
      expect(pa).not.toBe(guest.root);
    }
  });

  it("a table pointer outside RAM is an access fault on the walk (the guest's, as on hardware)", () => {
    pte(ROOT, 0, 0x1000_0000, V);
    useSatp(R.PRV_S);
    expect(shadow.fill(shadow.select(ctx.csr), ACCESS_LOAD, 0x1000)).toBe(FILL_GUEST_FAULT);
    expect(shadow.cause).toBe(R.CAUSE_LOAD_ACCESS);
  });

  it("self-referencing tables end within three levels; a table mapped as data is only guest memory", () => {
    pte(ROOT, 0, ROOT, V); // root -> root -> root: a non-leaf at level 0
    useSatp(R.PRV_S);
    const slot = shadow.select(ctx.csr);
    expect(shadow.fill(slot, ACCESS_LOAD, 0x0)).toBe(FILL_GUEST_FAULT);
    expect(shadow.cause).toBe(R.CAUSE_LOAD_PAGE_FAULT);
    pte(ROOT, 1, ROOT, V | RD | WR | AC | DI); // a 1 GiB superpage whose PPN is the root's: misaligned
    expect(shadow.fill(slot, ACCESS_LOAD, 0x4000_0000)).toBe(FILL_GUEST_FAULT);
    map4k(0x40_0000, ROOT, V | RD | WR | AC | DI); // the root as a writable data page
    shadow.sfence(-1, -1);
    expect(shadow.fill(slot, ACCESS_STORE, 0x40_0000)).toBe(FILL_DONE);
    expect(hartWalk(slot, 0x40_0000, ACCESS_STORE)).toBe(machineOf(ROOT));
  });

  it("superpages with misaligned PPNs fault (step 6); aligned ones are shadowed as 4 KiB pieces", () => {
    pte(ROOT, 0, L1, V);
    pte(L1, 1, DATA + PAGE_SIZE, V | RD | AC); // 2 MiB page at 0x20_0000, PPN not 2 MiB-aligned
    pte(L1, 2, DATA, V | RD | AC); // 2 MiB page at 0x40_0000 -> DATA (2 MiB aligned)
    useSatp(R.PRV_S);
    const slot = shadow.select(ctx.csr);
    expect(shadow.fill(slot, ACCESS_LOAD, 0x20_0000)).toBe(FILL_GUEST_FAULT);
    expect(shadow.fill(slot, ACCESS_LOAD, 0x40_0000)).toBe(FILL_DONE);
    guest.ensure(DATA + 0x5000);
    expect(shadow.fill(slot, ACCESS_LOAD, 0x40_5000)).toBe(FILL_DONE);
    expect(hartWalk(slot, 0x40_5000, ACCESS_LOAD)).toBe(machineOf(DATA + 0x5000));
    // sfence.vma of any address in the superpage drops every piece of it.
    shadow.sfence(0x40_1000 / PAGE_SIZE, -1);
    expect(hartWalk(slot, 0x40_0000, ACCESS_LOAD)).toBe(-R.CAUSE_LOAD_PAGE_FAULT);
    expect(hartWalk(slot, 0x40_5000, ACCESS_LOAD)).toBe(-R.CAUSE_LOAD_PAGE_FAULT);
  });

  it("a table changed under a filled entry: the old mapping stays until sfence.vma (as a TLB), then the new one", () => {
    const other = DATA + PAGE_SIZE;
    guest.ensure(other);
    map4k(0x40_0000, DATA, V | RD | AC);
    useSatp(R.PRV_S);
    const slot = shadow.select(ctx.csr);
    expect(shadow.fill(slot, ACCESS_LOAD, 0x40_0000)).toBe(FILL_DONE);
    map4k(0x40_0000, other, V | RD | AC);
    expect(hartWalk(slot, 0x40_0000, ACCESS_LOAD)).toBe(machineOf(DATA));
    shadow.sfence(0x40_0000 / PAGE_SIZE, -1);
    expect(hartWalk(slot, 0x40_0000, ACCESS_LOAD)).toBe(-R.CAUSE_LOAD_PAGE_FAULT);
    expect(shadow.fill(slot, ACCESS_LOAD, 0x40_0000)).toBe(FILL_DONE);
    expect(hartWalk(slot, 0x40_0000, ACCESS_LOAD)).toBe(machineOf(other));
    expect(stats[STAT.mmu_shadow_zapped]).toBe(1);
  });
});

describe("sfence.vma forms and the memory bound", () => {
  it("by ASID drops only that ASID's spaces; all drops every one", () => {
    map4k(0x40_0000, DATA, V | RD | AC);
    useSatp(R.PRV_S, ROOT, 1);
    const a1 = shadow.select(ctx.csr);
    shadow.fill(a1, ACCESS_LOAD, 0x40_0000);
    useSatp(R.PRV_S, ROOT, 2);
    const a2 = shadow.select(ctx.csr);
    shadow.fill(a2, ACCESS_LOAD, 0x40_0000);
    shadow.sfence(-1, 1);
    expect(hartWalk(a1, 0x40_0000, ACCESS_LOAD)).toBeLessThan(0);
    expect(hartWalk(a2, 0x40_0000, ACCESS_LOAD)).toBe(machineOf(DATA));
    shadow.sfence(0x40_0000 / PAGE_SIZE, 2);
    expect(hartWalk(a2, 0x40_0000, ACCESS_LOAD)).toBeLessThan(0);
    expect(shadow.takeFlushPending()).toBe(true);
    expect(shadow.takeFlushPending()).toBe(false);
  });

  it("many address spaces in a small pool recycle the least recently used, counted", () => {
    map4k(0x40_0000, DATA, V | RD | AC);
    const before = frames.allocated;
    for (let asid = 1; asid <= 40; asid++) {
      useSatp(R.PRV_S, ROOT, asid);
      expect(shadow.fill(shadow.select(ctx.csr), ACCESS_LOAD, 0x40_0000)).toBe(FILL_DONE);
    }
    expect(frames.allocated).toBe(before); // the pool is fixed: nothing allocated beyond it
    expect(stats[STAT.mmu_recycled]).toBeGreaterThan(0);
  });
});

describe("shootdown", () => {
  it("the caller flushes itself; a vCPU parked in an exit is flushed by the main thread on its behalf", () => {
    const pages = [new RunPage(), new RunPage()];
    Atomics.store(pages[1].state, 0, VCPU_EXIT);
    const flushed: number[] = [];
    shootdown(pages, 0, [0, 1], { flushesParked: true, flushHere: (h) => flushed.push(h), serveOwn: () => {} }, stats);
    expect(flushed).toEqual([0, 1]);
    expect(Atomics.load(pages[1].control, 0) & CONTROL_SHADOW_FLUSH).toBe(0);
    expect(stats[STAT.remote_tlb_flush]).toBe(1);
    expect(stats[STAT.remote_tlb_flush_ns]).toBeGreaterThan(0);
  });

  it("a halted vCPU (idle in wfi) is neither woken nor waited for: the request stays for it to take before it runs guest code", () => {
    const pages = [new RunPage(), new RunPage()];
    Atomics.store(pages[1].halted, 0, 1);
    const seq = Atomics.load(pages[1].wake, 0);
    const flushed: number[] = [];
    shootdown(pages, 0, [0, 1], { flushesParked: false, flushHere: (h) => flushed.push(h), serveOwn: () => {} }, stats);
    expect(flushed).toEqual([0]);
    expect(Atomics.load(pages[1].control, 0) & CONTROL_SHADOW_FLUSH).toBe(CONTROL_SHADOW_FLUSH);
    expect(Atomics.load(pages[1].wake, 0)).toBe(seq);
    expect(stats[STAT.remote_tlb_flush_halted]).toBe(1);
    expect(stats[STAT.remote_tlb_flush]).toBe(0);
  });
});
