/*
 * Self-modifying code and instruction fetch across pages (unpriv ch. 3
 * "Zifencei"; priv spec 4.3 for fetch faults). On one hart popek keeps
 * decoded instructions coherent with stores without fence.i (a legal, stronger
 * behaviour); fence.i also covers writes the hart did not make (DMA, loaders).
 * A 32-bit instruction may straddle two pages, each translated on its own.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import * as R from "../../src/machine/riscv.ts";
import { PAGE_SIZE } from "../../src/machine/memlayout.ts";
import { AD, CODE_BASE, HartHarness, PageTables, RWX, hex } from "../helpers/hart-harness.ts";

const TRAP = CODE_BASE + 0x3000;
const ADDR = 7, NEW = 6, COUNT = 8, LIMIT = 9, OUT = 5;

/**
 * A two-pass loop whose instruction at +4 (`target`) is overwritten by
 * `store` on the first pass, after it has already executed once.
 */
function twoPass(store: number, newBits: number): HartHarness {
  const t = new HartHarness();
  t.setCsr(R.CSR_MTVEC, TRAP);
  t.load([
    enc.addi(COUNT, COUNT, 1), // 0: pass counter
    enc.addi(OUT, 0, 1), // 4: target
    store, // 8: rewrite the target
    enc.bne(COUNT, LIMIT, -12), // 12: second pass
    enc.addi(0, 0, 0),
  ]);
  t.setRegs({ [ADDR]: CODE_BASE, [NEW]: newBits, [LIMIT]: 2 });
  t.run(8);
  return t;
}

describe("stores over already executed code (no fence.i needed on one hart)", () => {
  const replacement = enc.addi(OUT, 0, 2);
  it("sw over a 32-bit instruction", () => {
    const t = twoPass(enc.sw(NEW, ADDR, 4), replacement);
    t.expectReg("second pass runs the new instruction", OUT, 2n);
    t.expectPc("end", CODE_BASE + 16);
  });
  it("sh over only the upper half of a 32-bit instruction (its immediate)", () => {
    const t = twoPass(enc.sh(NEW, ADDR, 6), enc.addi(OUT, 0, 0x123) >>> 16);
    t.expectReg("new immediate", OUT, 0x123n);
  });
  it("sd covering the target and its neighbour", () => {
    const t = new HartHarness();
    const code = [enc.addi(COUNT, COUNT, 1), enc.addi(OUT, 0, 1), enc.sd(NEW, ADDR, 0), enc.bne(COUNT, LIMIT, -12)];
    t.load(code);
    const newPair = (BigInt(enc.addi(OUT, 0, 3)) << 32n) | BigInt(enc.addi(COUNT, COUNT, 1));
    t.setRegs({ [ADDR]: CODE_BASE, [NEW]: newPair, [LIMIT]: 2 });
    t.run(8);
    t.expectReg("sd rewrote two instructions", OUT, 3n);
  });
  it("a misaligned sw (slow, bytewise path) over an instruction", () => {
    const t = new HartHarness();
    // Target at +6 (2-aligned, after a c.nop), stored with a misaligned sw.
    t.load([enc.addi(COUNT, COUNT, 1), enc.c_nop(), enc.addi(OUT, 0, 1), enc.sw(NEW, ADDR, 6), enc.bne(COUNT, LIMIT, -14)]);
    t.setRegs({ [ADDR]: CODE_BASE, [NEW]: enc.addi(OUT, 0, 4), [LIMIT]: 2 });
    t.run(10);
    t.expectReg("misaligned store rewrote the instruction", OUT, 4n);
  });
  it("amoswap.w over an instruction", () => {
    const t = new HartHarness();
    t.load([enc.addi(COUNT, COUNT, 1), enc.addi(OUT, 0, 1), enc.amoswap_w(0, ADDR, NEW), enc.bne(COUNT, LIMIT, -12)]);
    t.setRegs({ [ADDR]: CODE_BASE + 4, [NEW]: replacement, [LIMIT]: 2 });
    t.run(8);
    t.expectReg("amoswap.w rewrote the instruction", OUT, 2n);
  });
  it("a compressed instruction replaced by a 32-bit one (store over two 16-bit slots)", () => {
    const t = new HartHarness();
    t.load([enc.addi(COUNT, COUNT, 1), enc.c_li(OUT, 1), enc.c_nop(), enc.sw(NEW, ADDR, 4), enc.bne(COUNT, LIMIT, -12)]);
    t.setRegs({ [ADDR]: CODE_BASE, [NEW]: enc.addi(OUT, 0, 5), [LIMIT]: 2 });
    t.run(9);
    t.expectReg("32-bit instruction where two compressed ones were", OUT, 5n);
  });
  it("a store through a second (writable) virtual mapping of the code page", () => {
    const t = new HartHarness();
    const pt = new PageTables(t);
    pt.map(CODE_BASE, CODE_BASE, R.PTE_R | R.PTE_X | AD);
    pt.map(0x4000_0000, CODE_BASE, R.PTE_R | R.PTE_W | AD);
    t.setCsr(R.CSR_SATP, pt.satp());
    t.setCsr(R.CSR_MTVEC, TRAP);
    t.load([enc.addi(COUNT, COUNT, 1), enc.addi(OUT, 0, 1), enc.sw(NEW, ADDR, 4), enc.bne(COUNT, LIMIT, -12)]);
    t.setRegs({ [ADDR]: 0x4000_0000, [NEW]: enc.addi(OUT, 0, 6), [LIMIT]: 2 });
    t.setPriv(R.PRV_S);
    t.run(8);
    t.expectReg("store through an alias", OUT, 6n);
    expect(t.priv).toBe(R.PRV_S);
  });
});

describe("fence.i (Zifencei)", () => {
  it("makes code written behind the hart's back (DMA, another thread) visible", () => {
    const t = new HartHarness();
    t.load([
      enc.addi(COUNT, COUNT, 1), // 0
      enc.addi(OUT, 0, 1), // 4: target
      enc.bne(COUNT, LIMIT, 8), // 8: first pass -> 16
      enc.jal(0, 0), // 12: end
      enc.fence_i(), // 16
      enc.jal(0, -20), // 20: -> 0
    ]);
    t.setReg(LIMIT, 2);
    t.run(3); // first pass: target decoded, branch to the fence.i
    // Rewrite the target without the hart's store path (no invalidation), like a device's DMA.
    const bits = enc.addi(OUT, 0, 7);
    putBytes(t, CODE_BASE + 4, bits, 4);
    t.run(5); // fence.i, jal back, counter, target, bne
    t.expectReg("after fence.i", OUT, 7n);
  });
  it("fence.i advances pc by 4", () => {
    const t = new HartHarness();
    t.load([enc.fence_i(), enc.addi(OUT, 0, 1)]);
    t.run(2);
    t.expectReg("after fence.i", OUT, 1n);
  });
});

/** Writes the low `n` bytes of `v` at a physical address, bypassing the hart (like a loader). */
function putBytes(t: HartHarness, pa: number, v: number, n: number): void {
  const off = t.mem.offsetOf(pa);
  for (let k = 0; k < n; k++) t.mem.u8[off + k] = (v >>> (8 * k)) & 0xff;
}

describe("a 32-bit instruction straddling two pages", () => {
  const EDGE = CODE_BASE + PAGE_SIZE - 2;
  it("bare: executes when reached sequentially and when jumped to", () => {
    const t = new HartHarness();
    t.load([enc.c_li(OUT, 0), enc.addi(OUT, OUT, 0x55), enc.addi(9, OUT, 1)], EDGE - 2);
    t.pc = EDGE - 2;
    t.run(3);
    t.expectReg("straddling addi", OUT, 0x55n);
    t.expectReg("next instruction", 9, 0x56n);
    t.expectPc("after", EDGE + 8);
    t.pc = EDGE;
    t.run(1);
    t.expectReg("straddling addi, jumped to", OUT, 0xaan);
  });
  it("Sv39: the halves come from two non-adjacent frames", () => {
    const t = new HartHarness();
    const pt = new PageTables(t);
    const va = 0x4000_0000;
    const lowFrame = CODE_BASE + 5 * PAGE_SIZE;
    const highFrame = CODE_BASE + 2 * PAGE_SIZE;
    pt.map(va, lowFrame, R.PTE_X | R.PTE_R | AD);
    pt.map(va + PAGE_SIZE, highFrame, R.PTE_X | R.PTE_R | AD);
    const insn = enc.lui(OUT, 0x12345);
    putBytes(t, lowFrame + PAGE_SIZE - 2, insn & 0xffff, 2);
    putBytes(t, highFrame, insn >>> 16, 2);
    t.load([enc.addi(9, 0, 1)], highFrame + 2);
    t.setCsr(R.CSR_SATP, pt.satp());
    t.setCsr(R.CSR_MTVEC, TRAP);
    t.setPriv(R.PRV_S);
    t.pc = va + PAGE_SIZE - 2;
    t.run(2);
    t.expectReg("lui assembled from two frames", OUT, 0x1234_5000n);
    t.expectReg("instruction after it", 9, 1n);
    t.expectPc("after", va + PAGE_SIZE + 6);
  });
  it("Sv39: the second page unmapped gives a fetch page fault with epc = the instruction and tval = the second page", () => {
    const t = new HartHarness();
    const pt = new PageTables(t);
    const va = 0x4000_0000;
    pt.map(va, CODE_BASE + 5 * PAGE_SIZE, R.PTE_X | R.PTE_R | AD);
    t.load([enc.addi(OUT, 0, 1)], CODE_BASE + 5 * PAGE_SIZE + PAGE_SIZE - 2);
    t.setCsr(R.CSR_SATP, pt.satp());
    t.setCsr(R.CSR_MTVEC, TRAP);
    t.setPriv(R.PRV_S);
    t.pc = va + PAGE_SIZE - 2;
    t.run(1);
    t.expectMTrap("straddling fetch, second page unmapped", R.CAUSE_FETCH_PAGE_FAULT, va + PAGE_SIZE - 2, va + PAGE_SIZE);
    t.expectReg("not executed", OUT, 0n);
  });
  it("Sv39: the first page unmapped faults with tval = pc", () => {
    const t = new HartHarness();
    const pt = new PageTables(t);
    pt.map(CODE_BASE, CODE_BASE, RWX | AD);
    t.setCsr(R.CSR_SATP, pt.satp());
    t.setCsr(R.CSR_MTVEC, TRAP);
    t.setPriv(R.PRV_S);
    t.pc = 0x4000_0000 + PAGE_SIZE - 2;
    t.run(1);
    t.expectMTrap("fetch from unmapped page", R.CAUSE_FETCH_PAGE_FAULT, 0x4000_0000 + PAGE_SIZE - 2, 0x4000_0000 + PAGE_SIZE - 2);
  });
  it("rewriting the upper half (in the second page) changes the straddling instruction", () => {
    const t = new HartHarness();
    // Loop: straddling addi at EDGE, then count and branch back.
    t.load([enc.addi(OUT, 0, 0x11), enc.addi(COUNT, COUNT, 1), enc.sh(NEW, ADDR, 0), enc.bne(COUNT, LIMIT, -12)], EDGE);
    t.setRegs({ [ADDR]: EDGE + 2, [NEW]: enc.addi(OUT, 0, 0x22) >>> 16, [LIMIT]: 2 });
    t.pc = EDGE;
    t.run(4);
    t.expectReg("first pass", OUT, 0x11n);
    t.run(1);
    t.expectReg("second pass runs the rewritten instruction", OUT, 0x22n);
  });
  it("a compressed instruction in the last slot of a page does not reach into the next page", () => {
    const t = new HartHarness({});
    t.load([enc.c_li(OUT, 9)], EDGE);
    t.load([enc.addi(9, 0, 1)], EDGE + 2);
    t.pc = EDGE;
    t.run(2);
    t.expectReg("c.li at the page's last slot", OUT, 9n);
    t.expectReg("next page's first instruction", 9, 1n);
    expect(hex(t.pc)).toBe(hex(EDGE + 6));
  });
});
