import { describe, expect, it } from "vitest";
import { TLB_MASK, Tlb } from "../../src/machine/tlb.ts";

const hit = (t: Tlb, vpn: number, asid: number): boolean => t.key[vpn & TLB_MASK] === vpn + asid * 2 ** 27;

describe("Tlb flushes", () => {
  it("sfence.vma va drops every 4 KiB part of the superpage it names, and nothing else", () => {
    const t = new Tlb();
    t.fill(0x200, 1, false, 0x1000, 9); // 2 MiB superpage 0x200..0x3ff
    t.fill(0x3fe, 1, false, 0x2000, 9);
    t.fill(0x400, 1, false, 0x3000, 9); // the next superpage
    t.fill(0x17, 1, false, 0x4000, 0);
    t.flushPage(0x3ff);
    expect([hit(t, 0x200, 1), hit(t, 0x3fe, 1), hit(t, 0x400, 1), hit(t, 0x17, 1)]).toEqual([false, false, true, true]);
  });

  it("still finds superpage parts when more were filled than the TLB has slots (the whole-TLB scan)", () => {
    const t = new Tlb();
    for (let k = 0; k < 3000; k++) t.fill(0x40000 + k, 2, false, k * 4096, 18);
    const last = 0x40000 + 2999;
    expect(hit(t, last, 2)).toBe(true);
    t.flushPageAsid(last, 2);
    expect(hit(t, last, 2)).toBe(false);
    expect(hit(t, last - 1, 2)).toBe(false);
  });

  it("a listed slot refilled with a 4 KiB page is not dropped by an unrelated superpage flush", () => {
    const t = new Tlb();
    t.fill(0x200, 1, false, 0x1000, 9);
    t.fill(0x200 + 1024 * 8, 1, false, 0x5000, 0); // same slot, 4 KiB page outside the superpage
    t.flushPage(0x300);
    expect(hit(t, 0x200 + 1024 * 8, 1)).toBe(true);
  });

  it("finds 2 MiB parts by region after more regions were marked than it lists, and across a full flush", () => {
    const t = new Tlb();
    for (let r = 0; r < 1500; r++) t.fill(r * 512 + 3, 1, false, r * 4096, 9); // 1,500 regions: past the region list
    t.flushAll();
    t.fill(0x200 + 7, 1, false, 0x1000, 9);
    t.fill(0x17, 1, false, 0x4000, 0);
    t.flushPage(0x17); // a 4 KiB page outside every superpage region
    expect([hit(t, 0x207, 1), hit(t, 0x17, 1)]).toEqual([true, false]);
    t.flushPage(0x3ff); // the same 2 MiB region as 0x207
    expect(hit(t, 0x207, 1)).toBe(false);
    t.fill(0x40000 + 5, 1, false, 0x2000, 18); // a 1 GiB part
    t.flushPage(0x40000 + 0x3ffff);
    expect(hit(t, 0x40005, 1)).toBe(false);
  });

  it("a full flush after fills empties the TLB; flushes of an empty one change nothing", () => {
    const t = new Tlb();
    t.flushAll();
    t.fill(5, 0, true, 0, 0);
    t.flushAsid(3);
    expect(hit(t, 5, 0)).toBe(true);
    t.flushAll();
    expect(hit(t, 5, 0)).toBe(false);
    t.fill(6, 0, true, 0, 0);
    expect(hit(t, 6, 0)).toBe(true);
  });
});
