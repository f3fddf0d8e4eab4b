/*
 * A hart on a bench: RAM, a bus with an optional fake MMIO device, and one
 * Hart, driven the way the runner drives it (interrupts taken between
 * slices, wfi honoured). Tests write instructions with the encoder at
 * CODE_BASE, set registers, run N instructions and read registers and CSRs
 * back as unsigned 64-bit bigints, so expectations read like the spec's hex.
 *
 * Also a page-table builder for Sv39 tests: tables are allocated from a pool
 * in RAM and filled the way a kernel would (priv spec 4.4.1).
 */

import { expect } from "vitest";
import type { AccessWidth, MmioDevice } from "../../src/devices/device.ts";
import { Bus } from "../../src/machine/bus.ts";
import { Hart, type HartOptions } from "../../src/machine/hart.ts";
import { runSlice } from "../../src/machine/hart-loop.ts";
import { DRAM_BASE, PAGE_SIZE } from "../../src/machine/memlayout.ts";
import { PhysMem } from "../../src/machine/physmem.ts";
import * as R from "../../src/machine/riscv.ts";

export const CODE_BASE = DRAM_BASE;
/** A scratch data area well away from code and page tables. */
export const DATA_BASE = DRAM_BASE + 0x10_0000;
/** Where page tables are allocated from. */
const PT_POOL_BASE = DRAM_BASE + 0x20_0000;
/** Default RAM: 8 MiB is enough for code, data, page tables and a few target frames. */
const DEFAULT_MEM = 8 * 2 ** 20;
/** Where the fake device sits by default: in the board's free MMIO space. */
export const FAKE_DEVICE_BASE = 0x4000_0000;

const U64 = (v: bigint | number): bigint => BigInt.asUintN(64, BigInt(v));

/** 0x%016x of a 64-bit value. */
export function hex(v: bigint | number): string {
  return "0x" + U64(v).toString(16).padStart(16, "0");
}

/** A register window that remembers writes and answers reads from them (all ones when never written). */
export class FakeDevice implements MmioDevice {
  readonly name = "fake";
  readonly regs = new Map<number, number>();
  readonly log: string[] = [];
  constructor(readonly size = 0x1000) {}
  read(offset: number, width: AccessWidth): number {
    this.log.push(`r${width}@${offset}`);
    const v = this.regs.get(offset);
    if (v === undefined) return width === 4 ? 0xffff_ffff : width === 2 ? 0xffff : 0xff;
    return v >>> 0;
  }
  write(offset: number, width: AccessWidth, value: number): void {
    this.log.push(`w${width}@${offset}=${(value >>> 0).toString(16)}`);
    this.regs.set(offset, value >>> 0);
  }
}

export interface HarnessOptions {
  readonly memSize?: number;
  /** Map a FakeDevice at FAKE_DEVICE_BASE. */
  readonly device?: boolean;
  readonly hartId?: number;
  /** The block tier's switch; default as the Hart's. */
  readonly jit?: HartOptions["jit"];
  /** The hart's MMU (HartOptions.mmu); default the Sv39 walker. */
  readonly mmu?: HartOptions["mmu"];
  /** The hart's instruction-set variant (HartOptions.isaVariant); default standard. */
  readonly isaVariant?: HartOptions["isaVariant"];
  /** The H extension (HartOptions.h); default off. */
  readonly h?: boolean;
  /** RAM with a wasm arena and the hart on it, as the native board builds them (so hot blocks may be wasm); default on. */
  readonly arena?: boolean;
}

/**
 * The harness's compile threshold: low, so the block tier's tests reach compiled code in a
 * few dozen passes of a loop (the board's default, HOT_THRESHOLD, is tuned for real boots).
 */
export const TEST_HOT_THRESHOLD = 32;

export class HartHarness {
  readonly mem: PhysMem;
  readonly bus = new Bus();
  readonly hart: Hart;
  readonly device: FakeDevice | undefined;
  /** mtime as the hart sees it; tests move it by hand. */
  now = 0;

  constructor(opts: HarnessOptions = {}) {
    this.mem = new PhysMem(opts.memSize ?? DEFAULT_MEM, undefined, TEST_HOT_THRESHOLD, opts.arena === false ? 0 : 1);
    if (opts.device) {
      this.device = new FakeDevice();
      this.bus.map(FAKE_DEVICE_BASE, this.device);
    }
    this.hart = new Hart(opts.hartId ?? 0, { mem: this.mem, bus: this.bus, mtime: () => this.now }, { ...this.mem.arena?.hartStorage(0) }, { jit: opts.jit, mmu: opts.mmu, isaVariant: opts.isaVariant, h: opts.h });
    this.hart.reset(CODE_BASE);
  }

  /**
   * Writes instructions at `at` (default CODE_BASE): a word whose low two bits
   * are 11 is a 32-bit instruction, anything else a 16-bit compressed one.
   * Returns the address after the last one.
   */
  load(insns: readonly number[], at = CODE_BASE): number {
    const bytes: number[] = [];
    for (const w of insns) {
      const n = (w & 3) === 3 ? 4 : 2;
      for (let k = 0; k < n; k++) bytes.push((w >>> (8 * k)) & 0xff);
    }
    this.mem.writeBytes(at, Uint8Array.from(bytes));
    return at + bytes.length;
  }

  /** Resets the hart (M-mode, registers zero), loads a program at CODE_BASE and points pc at it. */
  program(insns: readonly number[]): this {
    this.hart.reset(CODE_BASE);
    this.load(insns);
    return this;
  }

  get pc(): number {
    return this.hart.pc;
  }
  set pc(v: number) {
    this.hart.pc = v;
  }

  /** xr as an unsigned 64-bit value. */
  reg(r: number): bigint {
    return U64(this.hart.getRegBig(r));
  }
  setReg(r: number, v: bigint | number): this {
    if (r === 0) return this;
    const u = U64(v);
    this.hart.x[2 * r] = Number(BigInt.asIntN(32, u));
    this.hart.x[2 * r + 1] = Number(BigInt.asIntN(32, u >> 32n));
    return this;
  }
  setRegs(regs: Readonly<Record<number, bigint | number>>): this {
    for (const [r, v] of Object.entries(regs)) this.setReg(Number(r), v);
    return this;
  }

  /** A CSR's value as software in M-mode would read it (no privilege check, no side effects beyond the read). */
  csr(num: number): bigint {
    this.hart.csr.read(num);
    return U64((BigInt(this.hart.csr.rhi) << 32n) | BigInt(this.hart.csr.rlo >>> 0));
  }
  /** Writes a CSR through its WARL rules, as csrw from M-mode would. */
  setCsr(num: number, v: bigint | number): this {
    const u = U64(v);
    this.hart.csr.write(num, Number(BigInt.asIntN(32, u)), Number(BigInt.asIntN(32, u >> 32n)));
    return this;
  }

  get priv(): number {
    return this.hart.csr.priv;
  }
  /** Drops to (or raises to) a privilege level directly, as if an xRET had just done so. */
  setPriv(p: number): this {
    this.hart.csr.priv = p;
    this.hart.translationChanged();
    return this;
  }

  /**
   * Runs up to `count` instructions the way the runner does: between slices a
   * waiting hart wakes only when an interrupt is pending, and a pending,
   * enabled interrupt is taken. Returns the instructions executed (a trap
   * counts as one; taking an interrupt counts as none). Stops early while the
   * hart waits in wfi with nothing pending.
   */
  run(count: number): number {
    const h = this.hart;
    let done = 0;
    while (done < count) {
      if (h.wfi) {
        if (!h.interruptPending()) break;
        h.wfi = false;
      }
      h.takeInterrupt();
      done += runSlice(h, count - done);
    }
    return done;
  }

  /** Runs and asserts on one register, in a conformance suite's words. */
  expectReg(what: string, r: number, expected: bigint | number): void {
    expect(hex(this.reg(r)), `${what}: x${r} @pc=${hex(this.pc)}`).toBe(hex(expected));
  }
  expectCsr(what: string, name: string, num: number, expected: bigint | number): void {
    expect(hex(this.csr(num)), `${what}: ${name}`).toBe(hex(expected));
  }
  expectPc(what: string, expected: number): void {
    expect(hex(this.pc), `${what}: pc`).toBe(hex(expected));
  }

  /** Asserts that the last trap went to M with these cause/epc/tval. */
  expectMTrap(what: string, cause: bigint | number, epc: number, tval?: bigint | number): void {
    this.expectCsr(what, "mcause", R.CSR_MCAUSE, cause);
    this.expectCsr(what, "mepc", R.CSR_MEPC, epc);
    if (tval !== undefined) this.expectCsr(what, "mtval", R.CSR_MTVAL, tval);
    expect(this.priv, `${what}: privilege after trap`).toBe(R.PRV_M);
  }
  expectSTrap(what: string, cause: bigint | number, epc: number, tval?: bigint | number): void {
    this.expectCsr(what, "scause", R.CSR_SCAUSE, cause);
    this.expectCsr(what, "sepc", R.CSR_SEPC, epc);
    if (tval !== undefined) this.expectCsr(what, "stval", R.CSR_STVAL, tval);
    expect(this.priv, `${what}: privilege after trap`).toBe(R.PRV_S);
  }

  // ---- RAM access for tests ----
  private off(pa: number, width: number): number {
    const o = this.mem.offsetOf(pa);
    if (o < 0 || o + width > this.mem.size) throw new RangeError(`harness: 0x${pa.toString(16)} is not RAM`);
    return o;
  }
  read8(pa: number): number {
    return this.mem.u8[this.off(pa, 1)];
  }
  read64(pa: number): bigint {
    const o = this.off(pa, 8);
    let v = 0n;
    for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(this.mem.u8[o + k]);
    return v;
  }
  write64(pa: number, v: bigint | number): void {
    const o = this.off(pa, 8);
    let u = U64(v);
    for (let k = 0; k < 8; k++) {
      this.mem.u8[o + k] = Number(u & 0xffn);
      u >>= 8n;
    }
  }
  write32(pa: number, v: number): void {
    const o = this.off(pa, 4);
    for (let k = 0; k < 4; k++) this.mem.u8[o + k] = (v >>> (8 * k)) & 0xff;
  }
  read32(pa: number): number {
    const o = this.off(pa, 4);
    return (this.mem.u8[o] | (this.mem.u8[o + 1] << 8) | (this.mem.u8[o + 2] << 16) | (this.mem.u8[o + 3] << 24)) >>> 0;
  }
}

/** Sizes of Sv39 leaves by level (priv spec 4.4.1). */
export const LEVEL_4K = 0;
export const LEVEL_2M = 1;
export const LEVEL_1G = 2;
const LEVEL_SIZE = [PAGE_SIZE, 2 ** 21, 2 ** 30];

/** Builds Sv39 page tables in a harness's RAM, as a kernel would. */
export class PageTables {
  private next: number;
  readonly root: number;

  constructor(private readonly t: HartHarness, poolBase = PT_POOL_BASE) {
    this.next = poolBase;
    this.root = this.alloc();
  }

  /** A zeroed page-table page from the pool. */
  alloc(): number {
    const pa = this.next;
    this.next += PAGE_SIZE;
    for (let i = 0; i < PAGE_SIZE; i += 8) this.t.write64(pa + i, 0n);
    return pa;
  }

  /** satp for this root (MODE=Sv39) with an ASID. */
  satp(asid = 0): bigint {
    return (BigInt(R.SATP_MODE_SV39) << 60n) | (BigInt(asid) << 44n) | BigInt(this.root / PAGE_SIZE);
  }

  /** Address of the PTE for va at `level`, creating the tables above it (non-leaf V entries). */
  pteAddr(va: number, level = LEVEL_4K): number {
    const v = BigInt.asUintN(64, BigInt(va));
    let table = this.root;
    for (let l = 2; l > level; l--) {
      const idx = Number((v >> BigInt(12 + 9 * l)) & 0x1ffn);
      const at = table + idx * 8;
      const pte = this.t.read64(at);
      if ((pte & BigInt(R.PTE_V)) === 0n) {
        const child = this.alloc();
        this.t.write64(at, (BigInt(child / PAGE_SIZE) << 10n) | BigInt(R.PTE_V));
        table = child;
      } else {
        table = Number((pte >> 10n) & ((1n << 44n) - 1n)) * PAGE_SIZE;
      }
    }
    return table + Number((v >> BigInt(12 + 9 * level)) & 0x1ffn) * 8;
  }

  /** Maps va -> pa with PTE flags (V is added) at a level; returns the PTE's address. */
  map(va: number, pa: number, flags: number, level = LEVEL_4K): number {
    if (va % LEVEL_SIZE[level] !== 0 && level === LEVEL_4K) throw new RangeError("map: va not page aligned");
    const at = this.pteAddr(va, level);
    this.t.write64(at, (BigInt(Math.floor(pa / PAGE_SIZE)) << 10n) | BigInt(flags | R.PTE_V));
    return at;
  }

  /** Writes a raw PTE for va at a level. */
  setPte(va: number, level: number, pte: bigint): number {
    const at = this.pteAddr(va, level);
    this.t.write64(at, pte);
    return at;
  }

  pte(va: number, level = LEVEL_4K): bigint {
    return this.t.read64(this.pteAddr(va, level));
  }
}

/** PTE flag sets tests use often. */
export const RWX = R.PTE_R | R.PTE_W | R.PTE_X;
export const AD = R.PTE_A | R.PTE_D;
