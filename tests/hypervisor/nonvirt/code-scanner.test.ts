/*
 * The code scanner (src/hypervisor/nonvirt/code-scanner.ts) on a bare hart:
 * U-mode on the nonvirt variant over a VM's guest-physical table mapped for
 * scanning, with the scanner as the host's first look at every trap — as
 * the vCPU thread runs it.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../../src/isa/encode.ts";
import { Bus } from "../../../src/machine/bus.ts";
import { Hart } from "../../../src/machine/hart.ts";
import { runSlice } from "../../../src/machine/hart-loop.ts";
import { DRAM_BASE, PAGE_SIZE } from "../../../src/machine/memlayout.ts";
import * as R from "../../../src/machine/riscv.ts";
import { FrameAllocator } from "../../../src/hypervisor/frames.ts";
import { GuestMemory } from "../../../src/hypervisor/guest-memory.ts";
import { CodeScanner, PATCH_LOW, SCAN_EMULATE, SCAN_HANDLED } from "../../../src/hypervisor/nonvirt/code-scanner.ts";
import { EXIT_STATS, STAT } from "../../../src/hypervisor/stats.ts";

const RAM = 4 * PAGE_SIZE;
const SPIN = enc.jal(0, 0);

class Bench {
  readonly frames = new FrameAllocator(0x10_0000);
  readonly memory = new GuestMemory(this.frames, RAM, true);
  readonly stats = new Float64Array(EXIT_STATS.length);
  readonly hart: Hart;
  readonly scanner: CodeScanner;
  /** What reached the host beyond the scanner: "emulate <bits>" or "trap <cause>". */
  readonly seen: string[] = [];

  constructor() {
    this.memory.ensure(DRAM_BASE, RAM);
    const satp = this.memory.satp();
    this.hart = new Hart(0, { mem: this.frames.mem, bus: new Bus(), mtime: () => 0 }, {}, { isaVariant: "nonvirt", jit: false });
    this.hart.csr.write(R.CSR_SATP, satp.lo, satp.hi);
    this.hart.csr.priv = R.PRV_U;
    this.hart.translationChanged();
    this.scanner = new CodeScanner(this.frames.mem, this.memory.view, this.memory.root, this.stats);
    this.hart.hostTraps = {
      trap: (h, cause, tvalLo, _tvalHi, pcLo) => {
        const scan = this.scanner.onTrap(h, cause, tvalLo >>> 0, pcLo >>> 0);
        if (scan === SCAN_HANDLED) return true;
        // The emulation stands in for the hypervisor's: record it and step over the instruction.
        if (scan === SCAN_EMULATE) {
          this.seen.push(`emulate ${this.scanner.original.toString(16)}`);
          h.pc = (pcLo >>> 0) + 4;
          return true;
        }
        this.seen.push(`trap ${cause}`);
        return false;
      },
    };
  }

  /** Writes 32-bit instructions at a guest address (as the loader would: no scan state involved yet). */
  code(gpa: number, insns: readonly number[]): void {
    const bytes = new Uint8Array(insns.length * 4);
    insns.forEach((w, i) => new DataView(bytes.buffer).setUint32(4 * i, w >>> 0, true));
    expect(this.memory.view.copyIn(gpa, bytes)).toBe(0);
  }

  run(pc: number, n: number): void {
    this.hart.pc = pc;
    runSlice(this.hart, n);
  }

  u16(gpa: number): number {
    return this.memory.view.readU16(gpa);
  }
}

describe("scan before first run", () => {
  it("patches csrr mstatus on the first fetch; the patch traps and the original is emulated", () => {
    const b = new Bench();
    const csrr = enc.csrrs(11, R.CSR_MSTATUS, 0);
    b.code(DRAM_BASE, [enc.addi(10, 0, 1), csrr, SPIN]);
    b.run(DRAM_BASE, 10);
    expect(b.seen).toEqual([`emulate ${csrr.toString(16)}`]);
    expect(b.u16(DRAM_BASE + 4), "the frame holds the patch").toBe(PATCH_LOW);
    expect(b.stats[STAT.scan_pages]).toBe(1);
    expect(b.stats[STAT.scan_patched_sites]).toBe(1);
    expect(b.stats[STAT.scan_patch_exit]).toBe(1);
    expect(b.hart.getReg(10)).toBe(1);
  });

  it("leaves the immediate forms and other CSRs alone (they trap by themselves)", () => {
    const b = new Bench();
    b.code(DRAM_BASE, [enc.csrrsi(0, R.CSR_MSTATUS, 8), SPIN]);
    b.run(DRAM_BASE, 10);
    expect(b.stats[STAT.scan_patched_sites]).toBe(0);
    expect(b.seen).toEqual([`trap ${R.CAUSE_ILLEGAL_INSTRUCTION}`]);
  });

  it("a guest reading its patched code gets the original bytes", () => {
    const b = new Bench();
    const csrr = enc.csrrs(11, R.CSR_MSTATUS, 0);
    b.code(DRAM_BASE, [enc.auipc(13, 0), enc.lwu(12, 13, 12), SPIN, csrr]);
    b.run(DRAM_BASE, 10);
    expect(b.u16(DRAM_BASE + 12)).toBe(PATCH_LOW);
    expect(b.hart.getReg(12)).toBe(csrr >>> 0);
    expect(b.stats[STAT.scan_code_reads]).toBe(1);
  });

  it("a store to scanned code restores the originals, and the next run rescans (self-modifying code)", () => {
    const b = new Bench();
    const read = enc.csrrs(11, R.CSR_MSTATUS, 0);
    const write = enc.csrrw(0, R.CSR_MSTATUS, 11);
    // Page 0 stores `write` over the csrr on page 1, then runs page 1 again.
    b.code(DRAM_BASE + PAGE_SIZE, [read, enc.jalr(0, 1, 0)]);
    const lo12 = (write << 20) >> 20;
    const hi20 = ((write - lo12) >>> 12) & 0xfffff;
    b.code(DRAM_BASE, [enc.auipc(5, 1), enc.jalr(1, 5, 0), enc.lui(6, hi20), enc.addi(6, 6, lo12), enc.sw(6, 5, 0), enc.jalr(1, 5, 0), SPIN]);
    b.run(DRAM_BASE, 30);
    expect(b.seen).toEqual([`emulate ${read.toString(16)}`, `emulate ${write.toString(16)}`]);
    expect(b.stats[STAT.scan_code_writes]).toBe(1);
    expect(b.stats[STAT.scan_rescans]).toBe(1);
    expect(b.u16(DRAM_BASE + PAGE_SIZE)).toBe(PATCH_LOW);
  });

  it("a store into its own scanned page is performed on the originals and the page rescanned at once (no livelock)", () => {
    const b = new Bench();
    const read = enc.csrrs(11, R.CSR_MSTATUS, 0);
    // sw x0 to the word at +20 of this very page, then run the csrr at +12.
    b.code(DRAM_BASE, [enc.auipc(5, 0), enc.sw(0, 5, 20), enc.jal(0, 4), read, SPIN, 0x12345678]);
    b.run(DRAM_BASE, 10);
    expect(b.seen).toEqual([`emulate ${read.toString(16)}`]);
    expect(b.memory.view.readU32(DRAM_BASE + 20)).toBe(0);
    expect(b.u16(DRAM_BASE + 12), "rescanned: the csrr is patched again").toBe(PATCH_LOW);
    expect(b.stats[STAT.scan_rescans]).toBe(1);
  });

  it("starts the sweep of a page after an instruction that crosses into it", () => {
    const b = new Bench();
    // addi x5, x6, 0 at the last halfword of page 0: its upper half (rs1 = x6) looks like a 32-bit instruction's start.
    const addi = enc.addi(5, 6, 0);
    expect((addi >>> 16) & 3).toBe(3);
    const csrr = enc.csrrs(11, R.CSR_MSTATUS, 0);
    const bytes = new Uint8Array(10);
    const v = new DataView(bytes.buffer);
    v.setUint32(0, addi >>> 0, true);
    v.setUint32(4, csrr >>> 0, true);
    v.setUint16(8, 0xa001, true); // c.j 0: spin
    expect(b.memory.view.copyIn(DRAM_BASE + PAGE_SIZE - 2, bytes)).toBe(0);
    b.run(DRAM_BASE + PAGE_SIZE - 2, 10);
    expect(b.seen).toEqual([`emulate ${csrr.toString(16)}`]);
    expect(b.u16(DRAM_BASE + PAGE_SIZE + 2)).toBe(PATCH_LOW);
  });
});
