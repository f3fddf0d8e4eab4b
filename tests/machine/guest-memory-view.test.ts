/*
 * GuestMemoryView on the native board: little-endian accessors over PhysMem,
 * faults as return codes, and writes that forget decoded code like a store.
 * (A VM's view is tested in tests/hypervisor/guest-memory.test.ts; both run
 * the shared cases in tests/helpers/view-cases.ts.)
 */

import { describe, expect, it } from "vitest";
import { FAULT_OUTSIDE, GUEST_OK, GuestMemoryFault } from "../../src/machine/guest-memory-view.ts";
import { DRAM_BASE } from "../../src/machine/memlayout.ts";
import { PhysMem } from "../../src/machine/physmem.ts";
import { PhysMemView } from "../../src/machine/physmem-view.ts";
import { viewCases } from "../helpers/view-cases.ts";

const SIZE = 0x2_0000;

viewCases("PhysMemView (native board)", () => new PhysMemView(new PhysMem(SIZE)));

describe("PhysMemView", () => {
  it("translates guest-physical to the RAM offset, the whole range or nothing", () => {
    const v = new PhysMemView(new PhysMem(SIZE));
    expect(v.translate(DRAM_BASE + 0x1234, 0x3000)).toBe(0x1234);
    expect(v.translate(DRAM_BASE + SIZE - 4, 4)).toBe(SIZE - 4);
    expect(v.translate(DRAM_BASE + SIZE - 4, 5)).toBe(FAULT_OUTSIDE);
    expect(v.translate(DRAM_BASE - 1, 2)).toBe(FAULT_OUTSIDE);
  });

  it("makes a DMA write over code visible to the next fetch (decoded slots are dropped)", () => {
    const mem = new PhysMem(SIZE);
    const v = new PhysMemView(mem);
    const page = mem.decodedPage(1);
    page[0x10] = 0x1234; // a decoded slot at offset 0x10 of page 1
    page[0x40] = 0x5678; // one the write does not reach
    expect(v.writeU32(DRAM_BASE + 0x1010, 0x13)).toBe(GUEST_OK);
    expect(page[0x10]).toBe(0);
    expect(page[0x40]).toBe(0x5678);
  });

  it("turns a fault code into a GuestMemoryFault that says where and why", () => {
    const e = new GuestMemoryFault(FAULT_OUTSIDE, 0x1000_0000, 8);
    expect(e.message).toBe("guest memory: [0x10000000, +8) not guest RAM");
    expect(e.code).toBe(FAULT_OUTSIDE);
  });
});
