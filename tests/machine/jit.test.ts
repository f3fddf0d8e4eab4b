/*
 * The block-translation tier (src/machine/jit) against the interpreter: the
 * same program runs on two fresh harts, one with hart.jit on and one with it
 * off, and everything architectural must agree — registers, pc, instret,
 * RAM, trap CSRs, and where each slice ended. Loops run well past the hot
 * threshold so their blocks are compiled and then run many times.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import { runSlice } from "../../src/machine/hart-loop.ts";
import { PAGE_SIZE } from "../../src/machine/memlayout.ts";
import * as R from "../../src/machine/riscv.ts";
import { compileBlock } from "../../src/machine/jit/block-compiler.ts";
import { entryWord } from "../../src/machine/decoded-page.ts";
import { AD, CODE_BASE, DATA_BASE, FAKE_DEVICE_BASE, HartHarness, PageTables, RWX, hex, TEST_HOT_THRESHOLD } from "../helpers/hart-harness.ts";

const TRAP = CODE_BASE + 0x3000;
/**
 * Where programs end and trap handlers park: a loop that counts (x21 and
 * pc's parity change each instruction), so a miscounted instruction anywhere
 * before it shows in the final state.
 */
const SPIN = [enc.addi(21, 21, 1), enc.jal(0, -4)];
/** RAM compared after a run: code pages, the trap page, and the data area. */
const COMPARED = [
  [CODE_BASE, 4 * PAGE_SIZE],
  [DATA_BASE, 2 * PAGE_SIZE],
] as const;

interface Outcome {
  readonly regs: string[];
  readonly pc: string;
  readonly instret: number;
  /** Per slice: instructions executed and pc after it. */
  readonly slices: string[];
  readonly csrs: string[];
  readonly priv: number;
  readonly ram: Uint8Array[];
  readonly compiled: number;
  /** Modules the wasm tier compiled. */
  readonly wasmModules: number;
  /** Regions (wasm functions) the wasm tier compiled, and the blocks in them. */
  readonly wasmRegions: number;
  readonly wasmRegionBlocks: number;
  readonly harness: HartHarness;
}

interface RunSpec {
  /** Prepares a fresh harness (code, registers, CSRs); runs before jit is set. */
  readonly setup: (t: HartHarness) => void;
  readonly total: number;
  /** Budget of each slice (cycled). */
  readonly budgets?: readonly number[];
  readonly device?: boolean;
}

/**
 * Runs the spec on a fresh hart, slice by slice, as the runner does. `arena`:
 * RAM with a wasm arena, so hot blocks are wasm where they can be (else JS).
 */
function run(spec: RunSpec, jit: boolean, arena = true): Outcome {
  const t = new HartHarness({ device: spec.device, jit, arena });
  spec.setup(t);
  const h = t.hart;
  const budgets = spec.budgets ?? [100_000];
  const slices: string[] = [];
  let done = 0;
  for (let s = 0; done < spec.total && s < 100_000; s++) {
    const budget = Math.min(budgets[s % budgets.length], spec.total - done);
    h.takeInterrupt();
    const n = runSlice(h, budget);
    expect(n, `slice ${s} stays within its budget`).toBeLessThanOrEqual(budget);
    slices.push(`${n}@${hex(h.pc)}`);
    done += n;
  }
  const regs = [];
  for (let r = 0; r < 32; r++) regs.push(`x${r}=${hex(t.reg(r))}`);
  const csrNames = { mcause: R.CSR_MCAUSE, mepc: R.CSR_MEPC, mtval: R.CSR_MTVAL, scause: R.CSR_SCAUSE, sepc: R.CSR_SEPC };
  const csrs = Object.entries(csrNames).map(([name, num]) => `${name}=${hex(t.csr(num))}`);
  const ram = COMPARED.map(([pa, size]) => t.mem.u8.slice(t.mem.offsetOf(pa), t.mem.offsetOf(pa) + size));
  return { regs, pc: hex(h.pc), instret: h.instret, slices, csrs, priv: t.priv, ram, compiled: t.mem.blocks.compiled, wasmModules: t.mem.wasm?.modules ?? 0,
    wasmRegions: t.mem.wasm?.regions ?? 0, wasmRegionBlocks: t.mem.wasm?.regionBlocks ?? 0, harness: t };
}

/**
 * Runs with the tier off, then on with wasm and JS blocks, then on with JS
 * blocks only, and expects the same architectural outcome from all three;
 * returns the first compiled run.
 */
function expectSameAsInterpreter(spec: RunSpec): Outcome {
  const off = run(spec, false);
  expect(off.compiled, "the interpreter alone compiles nothing").toBe(0);
  const on = run(spec, true);
  expectSameOutcome(on, off);
  const js = run(spec, true, false);
  expect(js.wasmModules, "no wasm without an arena").toBe(0);
  expectSameOutcome(js, off);
  return on;
}

function expectSameOutcome(on: Outcome, off: Outcome): void {
  expect(on.regs, "registers").toEqual(off.regs);
  expect(on.pc, "pc").toBe(off.pc);
  expect(on.instret, "instret").toBe(off.instret);
  expect(on.csrs, "trap CSRs").toEqual(off.csrs);
  expect(on.priv, "privilege").toBe(off.priv);
  expect(on.slices, "where each slice ended").toEqual(off.slices);
  on.ram.forEach((bytes, k) => {
    const firstDiff = bytes.findIndex((b, i) => b !== off.ram[k][i]);
    expect(firstDiff, `first differing RAM byte after ${hex(COMPARED[k][0])}`).toBe(-1);
  });
}

/** A small deterministic generator (xorshift32), so failures reproduce. */
class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s ^= this.s << 13;
    this.s ^= this.s >>> 17;
    this.s ^= this.s << 5;
    return this.s >>> 0;
  }
  below(n: number): number {
    return this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)];
  }
  /** A 64-bit value, often an edge case. */
  u64(): bigint {
    const edges = [0n, 1n, -1n, 0x7fff_ffffn, 0x8000_0000n, -0x8000_0000n, 0xffff_ffffn, 1n << 63n, (1n << 63n) - 1n];
    if (this.below(3) === 0) return this.pick(edges);
    return (BigInt(this.next()) << 32n) | BigInt(this.next());
  }
}

// Register roles in the generated programs.
const BASE = 7, COUNT = 8, LIMIT = 9;
const DEST = [0, 1, 5, 6, 10, 11, 12, 13, 14, 15];
const SRC = [0, 1, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15];
const C_REGS = [10, 11, 12, 13, 14, 15];

/** One random instruction that is not a control transfer. */
function randomInsn(g: Rng, rare: boolean): number {
  const rd = g.pick(DEST), a = g.pick(SRC), b = g.pick(SRC);
  const imm12 = g.below(4096) - 2048;
  const off = g.below(8) === 0 ? g.below(2000) - 1000 : (g.below(250) - 125) * 8;
  switch (g.below(rare ? 12 : 11)) {
    case 0: return enc[g.pick(["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and"] as const)](rd, a, b);
    case 1: return enc[g.pick(["addw", "subw", "sllw", "srlw", "sraw", "mul", "mulw", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu", "divw", "divuw", "remw", "remuw"] as const)](rd, a, b);
    case 2: return enc[g.pick(["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"] as const)](rd, a, imm12);
    case 3: return enc[g.pick(["slli", "srli", "srai"] as const)](rd, a, g.pick([0, 1, 31, 32, 33, 63, g.below(64)]));
    case 4: return enc[g.pick(["slliw", "srliw", "sraiw"] as const)](rd, a, g.pick([0, 1, 31, g.below(32)]));
    case 5: return g.below(2) === 0 ? enc.lui(rd, g.next() & 0xfffff) : enc.auipc(rd, g.next() & 0xfffff);
    case 6:
    case 7: return enc[g.pick(["lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"] as const)](rd, BASE, off);
    case 8: return enc[g.pick(["sb", "sh", "sw", "sd"] as const)](b, BASE, off);
    case 9: {
      const cr = g.pick(C_REGS);
      return g.pick([enc.c_addi(cr, g.below(31) + 1), enc.c_mv(cr, g.pick(C_REGS)), enc.c_add(cr, g.pick(C_REGS)), enc.c_li(cr, g.below(64) - 32), enc.c_srli(cr, g.below(63) + 1)]);
    }
    case 10: return enc.fence();
    default:
      return g.pick([
        enc.divu(rd, a, b), enc.remw(rd, a, b), enc.fence_i(),
        // CSRs: compiled into blocks (reads, writes, set/clear, immediates) except the counters, which end one.
        enc.csrrs(rd, R.CSR_MSCRATCH, 0), enc.csrrw(rd, R.CSR_MSCRATCH, a), enc.csrrc(rd, R.CSR_SSCRATCH, a),
        enc.csrrsi(rd, R.CSR_SSCRATCH, g.below(32)), enc.csrrwi(rd, R.CSR_MSCRATCH, g.below(32)),
        enc.csrrs(rd, R.CSR_MINSTRET, 0), enc.csrrs(rd, R.CSR_INSTRET, 0),
      ]);
  }
}

/**
 * A loop of random instructions with forward branches and jumps inside,
 * `iterations` times, then a jal-to-self spin.
 */
function randomLoop(seed: number, iterations: number, rare: boolean): RunSpec {
  const g = new Rng(seed);
  const body: number[] = [];
  const length = 6 + g.below(40);
  for (let k = 0; k < length; k++) {
    const roll = g.below(10);
    if (roll === 0) {
      // Skip the next (4-byte) instruction, or not.
      body.push(enc[g.pick(["beq", "bne", "blt", "bge", "bltu", "bgeu"] as const)](g.pick(SRC), g.pick(SRC), 8));
      body.push(enc.addi(g.pick(DEST), g.pick(SRC), g.below(100)));
    } else if (roll === 1) {
      body.push(enc.jal(g.pick([0, 1]), 8));
      body.push(enc.addi(g.pick(DEST), g.pick(SRC), 1));
    } else body.push(randomInsn(g, rare));
  }
  const bytes = body.reduce((s, w) => s + ((w & 3) === 3 ? 4 : 2), 0);
  const program = [enc.addi(COUNT, COUNT, 1), ...body, enc.bne(COUNT, LIMIT, -(bytes + 4)), ...SPIN];
  const regs: Record<number, bigint> = {};
  for (const r of [1, 5, 6, 10, 11, 12, 13, 14, 15]) regs[r] = g.u64();
  const data = Array.from({ length: 2 * PAGE_SIZE }, () => g.below(256));
  return {
    setup: (t) => {
      t.program(program);
      t.mem.u8.set(data, t.mem.offsetOf(DATA_BASE));
      t.setRegs({ ...regs, [BASE]: DATA_BASE + PAGE_SIZE, [COUNT]: 0, [LIMIT]: iterations });
      t.setCsr(R.CSR_MTVEC, TRAP);
      t.load(SPIN, TRAP);
    },
    total: iterations * (length + 4) + 50,
  };
}

describe("compiled blocks compute what the interpreter computes", () => {
  it.each(Array.from({ length: 40 }, (_, k) => k + 1))("random loop #%i (RV64IM, C, loads and stores)", (seed) => {
    const on = expectSameAsInterpreter(randomLoop(seed, 3 * TEST_HOT_THRESHOLD, false));
    expect(on.compiled, "blocks were compiled").toBeGreaterThan(0);
    expect(on.wasmModules, "as wasm").toBeGreaterThan(0);
  });
  it.each([101, 102, 103, 104, 105, 106])("random loop #%i with ops the tier leaves to the interpreter (div, csr, fence.i)", (seed) => {
    expectSameAsInterpreter(randomLoop(seed, 3 * TEST_HOT_THRESHOLD, true));
  });
  it("calls and returns (auipc, jal, jalr) in a hot loop", () => {
    const on = expectSameAsInterpreter({
      setup: (t) => {
        t.program([
          enc.addi(COUNT, COUNT, 1), // 0
          enc.jal(1, 16), // 4: call f
          enc.auipc(5, 0x12345), // 8
          enc.bne(COUNT, LIMIT, -12), // 12
          enc.jal(0, 0), // 16
          enc.addi(10, 10, 3), // 20: f
          enc.c_jr(1), // 24: return
        ]);
        t.setRegs({ [LIMIT]: 200 });
      },
      total: 1200,
    });
    on.harness.expectReg("f ran 200 times", 10, 600n);
  });
});

describe("budgets", () => {
  it.each([[[1]], [[3]], [[7, 1, 64]], [[13, 100, 2]]])("slices of %j instructions end exactly where the interpreter's do", (budgets) => {
    const spec = randomLoop(7, 3 * TEST_HOT_THRESHOLD, false);
    expectSameAsInterpreter({ ...spec, budgets });
  });
  it("a self-loop block stops at the slice budget, not at the end of its loop", () => {
    const on = expectSameAsInterpreter({
      setup: (t) => {
        t.program([enc.addi(COUNT, COUNT, 1), enc.addi(5, 5, 2), enc.bne(COUNT, LIMIT, -8), enc.jal(0, 0)]);
        t.setRegs({ [LIMIT]: 100_000 });
      },
      total: 10_000,
      budgets: [1000, 999, 5],
    });
    expect(on.compiled).toBeGreaterThan(0);
  });
});

describe("traps inside a compiled block", () => {
  it("a load page fault in the middle of a block stops there: epc, tval, instret as the interpreter's", () => {
    const VA = 0x4000_0000;
    const on = expectSameAsInterpreter({
      setup: (t) => {
        const pt = new PageTables(t);
        pt.map(CODE_BASE, CODE_BASE, RWX | AD);
        pt.map(VA, DATA_BASE, R.PTE_R | R.PTE_W | AD); // VA + PAGE_SIZE stays unmapped
        t.program([
          enc.addi(COUNT, COUNT, 1), // 0
          enc.ld(10, BASE, 0), // 4: faults when BASE reaches the unmapped page
          enc.addi(BASE, BASE, 8), // 8
          enc.add(11, 11, 10), // 12
          enc.bne(COUNT, LIMIT, -16), // 16
          enc.jal(0, 0),
        ]);
        t.load([enc.addi(20, 20, 1), ...SPIN], TRAP);
        for (let i = 0; i < PAGE_SIZE; i += 8) t.write64(DATA_BASE + i, BigInt(i));
        t.setCsr(R.CSR_SATP, pt.satp());
        t.setCsr(R.CSR_MTVEC, TRAP);
        t.setRegs({ [BASE]: VA, [LIMIT]: 10_000 });
        t.setPriv(R.PRV_S);
      },
      total: 5000,
    });
    on.harness.expectMTrap("load page fault", R.CAUSE_LOAD_PAGE_FAULT, CODE_BASE + 4, VA + PAGE_SIZE);
    on.harness.expectReg("the handler ran once", 20, 1n);
    on.harness.expectReg("512 loads completed", COUNT, 513n);
    expect(on.compiled).toBeGreaterThan(0);
  });
  it("a load access fault (not RAM, bare) in a block", () => {
    expectSameAsInterpreter({
      setup: (t) => {
        t.program([enc.addi(COUNT, COUNT, 1), enc.addi(BASE, BASE, 1), enc.lbu(10, BASE, 0), enc.bne(COUNT, LIMIT, -12), enc.jal(0, 0)]);
        t.load(SPIN, TRAP);
        t.setCsr(R.CSR_MTVEC, TRAP);
        // RAM ends 60 bytes after BASE: the load faults after a hot stretch of the loop.
        t.setRegs({ [BASE]: CODE_BASE + t.mem.size - 60, [LIMIT]: 10_000 });
      },
      total: 1000,
    });
  });
});

describe("CSR instructions in a compiled block", () => {
  it("a hot loop around a CSR access runs as one block and agrees with the interpreter", () => {
    const on = expectSameAsInterpreter({
      setup: (t) => {
        t.program([enc.addi(COUNT, COUNT, 1), enc.csrrw(10, R.CSR_MSCRATCH, COUNT), enc.csrrs(11, R.CSR_MSTATUS, 0), enc.bne(COUNT, LIMIT, -12), enc.jal(0, 0)]);
        t.setRegs({ [LIMIT]: 50_000 });
      },
      total: 200_010,
      budgets: [10_000, 7],
    });
    expect(on.compiled).toBeGreaterThan(0);
    on.harness.expectReg("mscratch's old value", 10, 49_999n);
  });
  it("a counter read ends the block: minstret reads exactly as in the interpreter", () => {
    const on = expectSameAsInterpreter({
      setup: (t) => {
        t.program([enc.addi(COUNT, COUNT, 1), enc.addi(5, 5, 1), enc.csrrs(10, R.CSR_MINSTRET, 0), enc.add(11, 11, 10), enc.bne(COUNT, LIMIT, -16), enc.jal(0, 0)]);
        t.setRegs({ [LIMIT]: 2000 });
      },
      total: 20_000,
      budgets: [999, 64],
    });
    expect(on.compiled).toBeGreaterThan(0);
  });
  it("an illegal CSR access traps in the middle of a block: epc, tval and instret as the interpreter's", () => {
    const on = expectSameAsInterpreter({
      setup: (t) => {
        t.program([
          enc.addi(COUNT, COUNT, 1), // 0
          enc.csrrs(10, R.CSR_SSCRATCH, 0), // 4: legal in S, compiled into the block
          enc.addi(5, 5, 1), // 8
          enc.bne(COUNT, LIMIT, -12), // 12
          enc.csrrw(0, 0x7c0, 5), // 16: no such CSR: illegal instruction
          enc.jal(0, 0),
        ]);
        t.load([enc.addi(20, 20, 1), ...SPIN], TRAP);
        t.setCsr(R.CSR_MTVEC, TRAP);
        t.setRegs({ [LIMIT]: 1000 });
        t.setPriv(R.PRV_S);
      },
      total: 5000,
    });
    on.harness.expectMTrap("illegal CSR", R.CAUSE_ILLEGAL_INSTRUCTION, CODE_BASE + 16, BigInt(enc.csrrw(0, 0x7c0, 5)));
    on.harness.expectReg("the handler ran once", 20, 1n);
  });
  it("a CSR write that makes an interrupt takeable ends the slice right after it", () => {
    // mstatus.MIE set, MSIP pending: each write of mie.MSIE makes it takeable; the handler clears mie and returns.
    const handler = CODE_BASE + 0x40;
    const on = expectSameAsInterpreter({
      setup: (t) => {
        t.program([enc.addi(COUNT, COUNT, 1), enc.csrrw(0, R.CSR_MIE, 5), enc.csrrw(0, R.CSR_MIE, 0), enc.bne(COUNT, LIMIT, -12), enc.jal(0, 0)]);
        t.load([enc.csrrw(0, R.CSR_MIE, 0), enc.mret()], handler);
        t.setCsr(R.CSR_MTVEC, handler);
        t.setCsr(R.CSR_MSTATUS, R.MSTATUS_MIE);
        t.hart.csr.setHwPending(R.IRQ_M_SOFT, true);
        t.setRegs({ [LIMIT]: 200, 5: R.MIP_MSIP });
      },
      total: 600,
    });
    // Slices alternate: the handler (its mret ends one too) and the loop up to the next mie write.
    const perWrite = on.slices.filter((sl) => sl === `4@${hex(CODE_BASE + 8)}`).length;
    expect(perWrite, "a slice per mie write").toBeGreaterThan(90);
    expect(on.compiled).toBeGreaterThan(0);
  });
  it("a CSR write that leaves every interrupt masked does not end the slice", () => {
    const on = expectSameAsInterpreter({
      setup: (t) => {
        t.program([enc.addi(COUNT, COUNT, 1), enc.csrrs(0, R.CSR_MIE, 0), enc.csrrw(0, R.CSR_MIE, 0), enc.bne(COUNT, LIMIT, -12), enc.jal(0, 0)]);
        t.setRegs({ [LIMIT]: 200 });
      },
      total: 600,
    });
    expect(on.slices, "one slice").toEqual([`600@${hex(CODE_BASE)}`]);
    expect(on.compiled).toBeGreaterThan(0);
  });
  it("a CSR write that changes translation (satp) leaves the block, and the next fetch is translated", () => {
    expectSameAsInterpreter({
      setup: (t) => {
        const pt = new PageTables(t);
        pt.map(CODE_BASE, CODE_BASE, RWX | AD);
        t.program([enc.addi(COUNT, COUNT, 1), enc.csrrw(0, R.CSR_SATP, 6), enc.csrrw(0, R.CSR_SATP, 0), enc.bne(COUNT, LIMIT, -12), enc.jal(0, 0)]);
        t.setRegs({ [LIMIT]: 500, 6: pt.satp() });
        t.setPriv(R.PRV_S);
      },
      total: 3000,
    });
  });
});

describe("self-modifying code inside a hot loop", () => {
  /**
   * Each pass stores x12 either over data in the code page (harmless) or, in
   * pass `change`, over `target` later in the same block: addi x5,x5,1
   * becomes addi x5,x5,3 from that very pass on.
   */
  function smc(change: number): RunSpec {
    const TARGET = 36;
    const DATA_OFF = 0x7f0;
    return {
      setup: (t) => {
        t.program([
          enc.addi(COUNT, COUNT, 1), // 0
          enc.xori(11, COUNT, change), // 4
          enc.sltiu(11, 11, 1), // 8: x11 = pass == change
          enc.slli(12, 11, 21), // 12: +2 in the immediate field
          enc.add(12, 12, 6), // 16: the bits to store
          enc.mul(13, 11, 14), // 20: x14 = TARGET - DATA_OFF
          enc.add(13, 13, BASE), // 24
          enc.sw(12, 13, DATA_OFF), // 28: into the code page; over the target in pass `change`
          enc.addi(15, 15, 1), // 32
          enc.addi(5, 5, 1), // 36: target
          enc.bne(COUNT, LIMIT, -40), // 40
          enc.jal(0, 0), // 44
        ]);
        t.setRegs({ 6: enc.addi(5, 5, 1), 14: TARGET - DATA_OFF, [BASE]: CODE_BASE, [LIMIT]: 120 });
      },
      total: 120 * 11 + 20,
    };
  }
  it.each([TEST_HOT_THRESHOLD + 1, 40, 2 * TEST_HOT_THRESHOLD + 3, 100])("the rewritten instruction runs from pass %i on", (change) => {
    const on = expectSameAsInterpreter(smc(change));
    on.harness.expectReg("x5", 5, BigInt(change - 1 + 3 * (120 - change + 1)));
    expect(on.compiled).toBeGreaterThan(0);
  });
  it("fence.i drops compiled blocks: code written behind the hart's back runs after it", () => {
    const on = expectSameAsInterpreter({
      setup: (t) => {
        t.program([enc.addi(COUNT, COUNT, 1), enc.addi(5, 5, 1), enc.bne(COUNT, LIMIT, -8), enc.jal(0, 0)]);
        t.setRegs({ [LIMIT]: 100 });
      },
      total: 150,
    });
    const t = on.harness;
    // Rewrite the hot loop's addi without the hart's store path (like DMA), then fence.i and run it again.
    const bits = enc.addi(5, 5, 5);
    const off = t.mem.offsetOf(CODE_BASE + 4);
    for (let k = 0; k < 4; k++) t.mem.u8[off + k] = (bits >>> (8 * k)) & 0xff;
    t.hart.fenceI();
    t.setRegs({ [COUNT]: 0, [LIMIT]: 100, 5: 0 });
    t.pc = CODE_BASE;
    t.run(300);
    t.expectReg("after fence.i", 5, 500n);
  });
});

describe("MMIO stores", () => {
  it("an MMIO store ends the block and the slice right after it", () => {
    const on = expectSameAsInterpreter({
      device: true,
      setup: (t) => {
        t.program([enc.addi(COUNT, COUNT, 1), enc.sw(COUNT, BASE, 0), enc.addi(5, 5, 3), enc.bne(COUNT, LIMIT, -12), enc.jal(0, 0)]);
        t.setRegs({ [BASE]: FAKE_DEVICE_BASE, [LIMIT]: 100 });
      },
      total: 420,
    });
    expect(on.harness.device?.log.length, "one device write per pass").toBe(100);
    expect(on.slices.slice(40, 42), "a slice per store").toEqual([`4@${hex(CODE_BASE + 8)}`, `4@${hex(CODE_BASE + 8)}`]);
    expect(on.compiled).toBeGreaterThan(0);
  });
});

describe("where the interpreter counts visits (hart-loop.ts: only where control lands)", () => {
  it("counts the slot a run starts at, a branch's target and its fall-through, and not a slot inside straight-line code", () => {
    const t = new HartHarness({ jit: true });
    t.program([
      enc.addi(COUNT, COUNT, 1), // 0: where the run starts, then the branch's target
      enc.addi(10, 10, 2), // 4: straight on from 0
      enc.bne(COUNT, LIMIT, -8), // 8
      enc.addi(11, 11, 1), // 12: the fall-through
      enc.jal(0, 0), // 16
    ]);
    // One pass decodes every slot first (an undecoded slot is looked at again once it is decoded).
    t.setRegs({ [LIMIT]: 1 });
    expect(runSlice(t.hart, 5)).toBe(5);
    const dec = t.mem.decoded[t.mem.offsetOf(CODE_BASE) / PAGE_SIZE];
    if (dec === undefined) throw new Error("the code page is not decoded");
    const before = [0, 4, 12].map((po) => dec[entryWord(po)]);
    t.setRegs({ [COUNT]: 0, [LIMIT]: 5, 10: 0 });
    t.pc = CODE_BASE;
    expect(runSlice(t.hart, 5 * 3 + 1)).toBe(16);
    // Far below the hot threshold: nothing compiles, the counters only move.
    const visits = [0, 4, 12].map((po, k) => dec[entryWord(po)] - before[k]);
    expect(visits, "loop head (the start and 4 taken branches), inside straight-line code, the fall-through").toEqual([5, 0, 1]);
    t.expectReg("x10", 10, 10n);
  });
});

describe("turning the tier off", () => {
  it("hart.jit = false compiles nothing", () => {
    const off = run(randomLoop(3, 3 * TEST_HOT_THRESHOLD, false), false);
    expect(off.compiled).toBe(0);
  });
});

describe("the block host seam (jit/block-host.ts)", () => {
  it("every hart member a generated block names exists on a Hart", () => {
    // One block that uses every kind of member: loads, stores, a CSR, a 64-bit helper, a jump.
    const t = new HartHarness();
    t.load([enc.ld(5, 6, 0), enc.lw(7, 6, 8), enc.sd(5, 6, 16), enc.csrrs(8, R.CSR_MSCRATCH, 0), enc.mul(9, 5, 7), enc.sll(9, 9, 5), enc.jalr(0, 1, 0)]);
    const block = compileBlock(t.mem.decodedPage((CODE_BASE - t.mem.base) / PAGE_SIZE), t.mem.u16, CODE_BASE - t.mem.base, 0);
    const source = String(block?.fn);
    const named = new Set([...source.matchAll(/\bh\.(\w+)/g)].map((m) => m[1]));
    expect([...named].sort()).toEqual(expect.arrayContaining(["csrInstruction", "env", "loadTlb", "pc", "storeTlb", "x"]));
    for (const name of named) expect(name in t.hart, `Hart has ${name}`).toBe(true);
  });

  it("HartOptions.jit sets the tier; without it the environment's default applies", () => {
    expect(new HartHarness({ jit: false }).hart.jit).toBe(false);
    expect(new HartHarness({ jit: true }).hart.jit).toBe(true);
    expect(new HartHarness().hart.jit).toBe(process.env.POPEK_JIT !== "0");
  });
});

describe("a jump beyond 2^53 (u64.ts: pc cannot hold it)", () => {
  // addi count; beq count, limit -> spin; jalr x0, 0(x10) to a wild target. The handler copies mepc to x12, returns to the top.
  const WILD = 0x7fff_ffff_ffff_fffen;
  const spec: RunSpec = {
    setup: (t) => {
      t.program([enc.addi(COUNT, COUNT, 1), enc.beq(COUNT, LIMIT, 8), enc.jalr(0, 10, 0), ...SPIN]);
      t.load([enc.csrrs(12, R.CSR_MEPC, 0), enc.csrrw(0, R.CSR_MEPC, 11), enc.mret()], TRAP);
      t.setRegs({ 10: WILD, 11: BigInt(CODE_BASE), [COUNT]: 0, [LIMIT]: 3 * TEST_HOT_THRESHOLD });
      t.setCsr(R.CSR_MTVEC, TRAP);
      t.setCsr(R.CSR_MSTATUS, R.MSTATUS_MPP);
    },
    total: 3 * TEST_HOT_THRESHOLD * 6,
  };

  it("faults at once with mepc = mtval = the exact target, compiled or not", () => {
    const on = expectSameAsInterpreter(spec);
    expect(on.compiled).toBeGreaterThan(0);
    expect(on.regs, "the handler's copy of mepc").toContain(`x12=${hex(WILD)}`);
    expect(on.csrs).toContain(`mtval=${hex(WILD)}`);
    expect(on.csrs).toContain(`mcause=${hex(BigInt(R.CAUSE_FETCH_ACCESS))}`);
  });
});

describe("the M extension in compiled blocks (wasm: i64 ops and the spec's division edge cases)", () => {
  const OPS = ["mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu", "mulw", "divw", "divuw", "remw", "remuw"] as const;
  const MIN = -(1n << 63n);
  it.each([
    [7n, 0n], [-7n, 0n], [MIN, -1n], [MIN, 1n], [-1n, -1n], [-0x8000_0000n, -1n], [0x8000_0000n, 0xffff_ffffn],
    [0x1234_5678_9abc_def0n, -0x0fed_cba9_8765_4321n], [-3n, 0xffff_ffff_0000_0000n], [(1n << 63n) - 1n, (1n << 63n) - 1n],
  ])("a = %s, b = %s: every op's result as the interpreter's", (a, b) => {
    const on = expectSameAsInterpreter({
      setup: (t) => {
        const body = OPS.flatMap((op, k) => [enc[op](12, 10, 11), enc.sd(12, BASE, 8 * k)]);
        t.program([enc.addi(COUNT, COUNT, 1), ...body, enc.bne(COUNT, LIMIT, -(8 * OPS.length + 4)), ...SPIN]);
        t.setRegs({ 10: a, 11: b, [BASE]: DATA_BASE, [LIMIT]: 3 * TEST_HOT_THRESHOLD });
      },
      total: 3 * TEST_HOT_THRESHOLD * (2 * OPS.length + 2) + 20,
    });
    expect(on.wasmModules, "the loop ran as wasm").toBeGreaterThan(0);
  });
});

describe("blocks on other pages (the wasm dispatcher chains through the fetch TLB)", () => {
  /** A loop on the first code page that calls a function on the next one, which stores to memory and returns. */
  const crossPage = (satp: boolean): RunSpec => ({
    setup: (t) => {
      const F = CODE_BASE + PAGE_SIZE + 0x100;
      t.program([
        enc.addi(COUNT, COUNT, 1), // 0
        enc.jal(1, F - (CODE_BASE + 4)), // 4: call f on the next page
        enc.addi(11, 11, 1), // 8
        enc.bne(COUNT, LIMIT, -12), // 12
        ...SPIN,
      ]);
      t.load([enc.add(10, 10, COUNT), enc.sd(10, BASE, 0), enc.xori(12, 10, 5), enc.c_jr(1)], F);
      t.setRegs({ [LIMIT]: 3 * TEST_HOT_THRESHOLD + 7, [BASE]: DATA_BASE });
      t.setCsr(R.CSR_MTVEC, TRAP);
      t.load(SPIN, TRAP);
      if (satp) {
        const pt = new PageTables(t);
        pt.map(CODE_BASE, CODE_BASE, RWX | AD);
        pt.map(CODE_BASE + PAGE_SIZE, CODE_BASE + PAGE_SIZE, RWX | AD);
        pt.map(TRAP, TRAP, RWX | AD);
        pt.map(DATA_BASE, DATA_BASE, R.PTE_R | R.PTE_W | AD);
        t.setCsr(R.CSR_SATP, pt.satp());
        t.setPriv(R.PRV_S);
      }
    },
    total: 20 * TEST_HOT_THRESHOLD,
    budgets: [1000, 37, 5],
  });
  it("a call to another page and back, bare", () => {
    const on = expectSameAsInterpreter(crossPage(false));
    expect(on.wasmModules).toBeGreaterThan(0);
  });
  it("a call to another page and back, under Sv39 in S-mode", () => {
    const on = expectSameAsInterpreter(crossPage(true));
    expect(on.wasmModules).toBeGreaterThan(0);
  });
});

describe("wasm regions: the blocks a hot block reaches on its page run in one function", () => {
  const TARGET = 12;
  const DATA_OFF = 0x7f0;
  /**
   * A loop with an if/else inside (odd passes run A, even ones B, then both
   * join): one region of several blocks. In pass `change` a store rewrites
   * A (addi x10,x10,1 becomes addi x10,x10,5), a block of the region that
   * is not its entry; every other pass stores the same bits over data in
   * the code page.
   */
  function ifElse(change: number, passes: number, budgets?: readonly number[]): RunSpec {
    return {
      setup: (t) => {
        t.program([
          enc.addi(COUNT, COUNT, 1), // 0
          enc.andi(11, COUNT, 1), // 4
          enc.beq(11, 0, 12), // 8: even: B
          enc.addi(10, 10, 1), // 12: A (TARGET)
          enc.jal(0, 8), // 16
          enc.addi(5, 5, 1), // 20: B
          enc.xori(13, COUNT, change), // 24: join
          enc.sltiu(13, 13, 1), // 28: x13 = pass == change
          enc.mul(15, 13, 14), // 32: x14 = TARGET - DATA_OFF
          enc.add(15, 15, BASE), // 36
          enc.sw(6, 15, DATA_OFF), // 40: over A in pass `change`, else over data
          enc.bne(COUNT, LIMIT, -44), // 44
          enc.jal(0, 0), // 48
        ]);
        t.setRegs({ 6: enc.addi(10, 10, 5), 14: TARGET - DATA_OFF, [BASE]: CODE_BASE, [LIMIT]: passes });
      },
      total: passes * 11 + 20,
      budgets,
    };
  }
  /** x10 after `passes`: A runs in odd passes, adding 1 up to pass `change` and 5 after it. */
  const expectedA = (change: number, passes: number): bigint => {
    let a = 0n;
    for (let p = 1; p <= passes; p += 2) a += p <= change ? 1n : 5n;
    return a;
  };

  it("a loop with an if/else compiles to one region of several blocks", () => {
    const passes = 8 * TEST_HOT_THRESHOLD;
    const on = expectSameAsInterpreter(ifElse(passes + 1, passes));
    expect(on.wasmRegions, "regions").toBeGreaterThan(0);
    expect(on.wasmRegionBlocks, "more blocks than regions").toBeGreaterThan(on.wasmRegions);
    on.harness.expectReg("A ran in odd passes", 10, expectedA(passes + 1, passes));
  });
  it.each([[[1]], [[3]], [[7, 1, 64]], [[13, 100, 2]], [[5, 4, 9]]])("slices of %j instructions end where the interpreter's do, between a region's blocks too", (budgets) => {
    expectSameAsInterpreter(ifElse(10 * TEST_HOT_THRESHOLD, 8 * TEST_HOT_THRESHOLD, budgets));
  });
  it.each([TEST_HOT_THRESHOLD + 1, 3 * TEST_HOT_THRESHOLD + 2, 5 * TEST_HOT_THRESHOLD + 5])("a store over a block inside the region (pass %i) drops it: the new code runs from the next pass", (change) => {
    const passes = 8 * TEST_HOT_THRESHOLD;
    const on = expectSameAsInterpreter(ifElse(change, passes));
    on.harness.expectReg("x10", 10, expectedA(change, passes));
    expect(on.wasmRegions).toBeGreaterThan(0);
  });
  it("a block cut at its length limit and the block it runs on into make one region (that slot is counted when first decoded)", () => {
    // 100 adds, then the loop's branch: blocks of 64 and 37 instructions, the second reached only straight on.
    const body = Array.from({ length: 100 }, () => enc.addi(10, 10, 1));
    const passes = 8 * TEST_HOT_THRESHOLD;
    const on = expectSameAsInterpreter({
      setup: (t) => {
        t.program([...body, enc.addi(COUNT, COUNT, 1), enc.bne(COUNT, LIMIT, -4 * 101), enc.jal(0, 0)]);
        t.setRegs({ [LIMIT]: passes });
      },
      total: passes * 102 + 1,
    });
    expect(on.wasmRegions, "regions").toBe(1);
    expect(on.wasmRegionBlocks, "both blocks in it").toBe(2);
    on.harness.expectReg("x10", 10, BigInt(passes * 100));
  });
  it("a region reaches blocks before its entry: a store there drops it as well", () => {
    // The loop is entered in its middle (at the join, 24), so the hot entry is there and A and B lie before it.
    const passes = 12 * TEST_HOT_THRESHOLD;
    const spec = ifElse(9 * TEST_HOT_THRESHOLD + 1, passes);
    const on = expectSameAsInterpreter({
      ...spec,
      setup: (t) => {
        spec.setup(t);
        t.pc = CODE_BASE + 24;
      },
    });
    expect(on.wasmRegionBlocks).toBeGreaterThan(on.wasmRegions);
  });
});
