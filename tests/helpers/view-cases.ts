/*
 * What every GuestMemoryView must do, whatever maps it: little-endian typed
 * accessors, copies both ways, and faults (never exceptions) for any range
 * that leaves guest RAM, with nothing written. `make` returns a view whose
 * RAM is all backed, at least 64 KiB from DRAM_BASE.
 */

import { describe, expect, it } from "vitest";
import { FAULT_OUTSIDE, GUEST_OK, type GuestMemoryView } from "../../src/machine/guest-memory-view.ts";
import { DRAM_BASE, MROM_BASE, UART0_BASE } from "../../src/machine/memlayout.ts";

export function viewCases(title: string, make: () => GuestMemoryView): void {
  describe(`${title}: the GuestMemoryView contract`, () => {
    const at = DRAM_BASE + 0x100;

    it("writes and reads every width little-endian", () => {
      const v = make();
      expect(v.writeU64(at, 0x0102_0304_0506_0708n)).toBe(GUEST_OK);
      expect(v.readU8(at)).toBe(0x08);
      expect(v.readU16(at)).toBe(0x0708);
      expect(v.readU32(at)).toBe(0x0506_0708);
      expect(v.readU32(at + 4)).toBe(0x0102_0304);
      expect(v.readU64(at)).toBe(0x0102_0304_0506_0708n);
      expect(v.writeU32(at, 0xdead_beef)).toBe(GUEST_OK);
      expect(v.readU32(at)).toBe(0xdead_beef);
      expect(v.writeU16(at + 1, 0xaabb)).toBe(GUEST_OK);
      expect(v.readU32(at)).toBe(0xdeaa_bbef);
      expect(v.writeU8(at + 3, 0x7f)).toBe(GUEST_OK);
      expect(v.readU32(at)).toBe(0x7faa_bbef);
    });

    it("keeps all 64 bits of a value near 2^64", () => {
      const v = make();
      expect(v.writeU64(at, 0xffff_ffff_ffff_fffen)).toBe(GUEST_OK);
      expect(v.readU64(at)).toBe(0xffff_ffff_ffff_fffen);
    });

    it("accesses a value that straddles a page boundary", () => {
      const v = make();
      const edge = DRAM_BASE + 0x1000 - 3;
      expect(v.writeU64(edge, 0x1122_3344_5566_7788n)).toBe(GUEST_OK);
      expect(v.readU64(edge)).toBe(0x1122_3344_5566_7788n);
      expect(v.readU32(edge + 2)).toBe(0x3344_5566);
    });

    it("copies bytes in and out, across pages", () => {
      const v = make();
      const bytes = Uint8Array.from({ length: 0x2100 }, (_, i) => (i * 7) & 0xff);
      expect(v.copyIn(DRAM_BASE + 0xf80, bytes)).toBe(GUEST_OK);
      const back = new Uint8Array(bytes.length);
      expect(v.copyOut(DRAM_BASE + 0xf80, back)).toBe(GUEST_OK);
      expect(back).toEqual(bytes);
      expect(v.copyIn(DRAM_BASE, new Uint8Array(0))).toBe(GUEST_OK);
    });

    it("faults outside RAM — an MMIO hole, below RAM, past its end — with a code, not an exception", () => {
      const v = make();
      const end = v.ramBase + v.ramSize;
      for (const gpa of [UART0_BASE, MROM_BASE, DRAM_BASE - 4, end, end + 0x1000]) {
        expect(v.translate(gpa, 4)).toBe(FAULT_OUTSIDE);
        expect(v.readU8(gpa)).toBe(FAULT_OUTSIDE);
        expect(v.readU32(gpa)).toBe(FAULT_OUTSIDE);
        expect(v.readU64(gpa)).toBe(BigInt(FAULT_OUTSIDE));
        expect(v.writeU32(gpa, 1)).toBe(FAULT_OUTSIDE);
        expect(v.copyOut(gpa, new Uint8Array(4))).toBe(FAULT_OUTSIDE);
      }
      expect(v.translate(Number.NaN, 1)).toBe(FAULT_OUTSIDE);
      expect(v.translate(2 ** 64, 1)).toBe(FAULT_OUTSIDE);
    });

    it("writes nothing when a range runs past the end of RAM", () => {
      const v = make();
      const last = v.ramBase + v.ramSize - 4;
      expect(v.writeU32(last, 0x1111_1111)).toBe(GUEST_OK);
      expect(v.writeU64(last, 0xffff_ffff_ffff_ffffn)).toBe(FAULT_OUTSIDE);
      expect(v.copyIn(last, new Uint8Array(8).fill(0xee))).toBe(FAULT_OUTSIDE);
      expect(v.readU32(last)).toBe(0x1111_1111);
    });
  });
}
