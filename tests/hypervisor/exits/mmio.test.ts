/*
 * performMmio: the access a faulting load or store asked for, on the VM's
 * device bus, with the instruction's width and extension; pc steps past it.
 * On the main thread a load's value goes back in the exit mailbox (the vCPU
 * writes its register as it resumes); on the vCPU thread into the register.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../../src/isa/encode.ts";
import type { AccessWidth, MmioDevice } from "../../../src/devices/device.ts";
import { performMmio } from "../../../src/hypervisor/exits/mmio.ts";
import { accessStartInto } from "../../../src/hypervisor/exits/mmio-decode.ts";
import { EXIT_RESULT_REG, NO_RESULT_REG, RunPage } from "../../../src/hypervisor/runpage.ts";
import { VcpuContext, VmClock } from "../../../src/hypervisor/vcpu-context.ts";
import { Bus } from "../../../src/machine/bus.ts";
import { pairToNumber } from "../../../src/machine/u64.ts";

const DEV = 0x1000_0000;
const PC = 0x8000_1000;
const A0 = 10, A1 = 11, S0 = 8;

/** A device whose registers read back 0x80 + offset in every byte, and which logs writes. */
class Regs implements MmioDevice {
  readonly name = "regs";
  readonly size = 0x100;
  readonly writes: string[] = [];
  read(offset: number, width: AccessWidth): number {
    let v = 0;
    for (let i = 0; i < width; i++) v |= (0x80 + offset + i) << (8 * i);
    return v >>> 0;
  }
  write(offset: number, width: AccessWidth, value: number): void {
    this.writes.push(`${offset}/${width}=${(value >>> 0).toString(16)}`);
  }
}

function setup(onVcpuThread: boolean): { ctx: VcpuContext; bus: Bus; dev: Regs } {
  const page = new RunPage();
  const ctx = new VcpuContext(0, page, new VmClock(VmClock.now()), onVcpuThread);
  page.exit[EXIT_RESULT_REG] = NO_RESULT_REG;
  const bus = new Bus();
  const dev = new Regs();
  bus.map(DEV, dev);
  return { ctx, bus, dev };
}

/** The value the vCPU ends up with in register r: its own register, or the mailbox's result. */
function loaded(ctx: VcpuContext, r: number): bigint {
  const page = ctx.page;
  const fromMailbox = page.exit[EXIT_RESULT_REG] === 2 * r;
  const lo = fromMailbox ? page.exitOperand[0] : ctx.x[2 * r];
  const hi = fromMailbox ? page.exitOperand[1] : ctx.x[2 * r + 1];
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/**
 * performMmio as the exit path drives it: the vCPU thread computes the
 * access's start (accessStartInto) into the exit record, the handler gets it.
 */
function mmio(bus: Bus, ctx: VcpuContext, gpa: number, insn: number, va = gpa): boolean {
  const start = new Int32Array(2);
  const known = accessStartInto(insn, ctx.x, start);
  return performMmio(bus, ctx, gpa, insn, PC, known ? pairToNumber(start[0], start[1]) : Number.NaN, va);
}

describe("accessStartInto: a load's or store's start address, computed on the vCPU thread", () => {
  it("adds the sign-extended offset to the 64-bit base, carrying into the high word", () => {
    const { ctx } = setup(true);
    const out = new Int32Array(2);
    ctx.setRegPair(S0, -8, 0x1f); // 0x1f_ffff_fff8
    expect(accessStartInto(enc.ld(A0, S0, 16), ctx.x, out)).toBe(true);
    expect(pairToNumber(out[0], out[1])).toBe(0x20_0000_0008);
    ctx.setReg(S0, -0x39_ff7f_df80); // an upper-half address
    expect(accessStartInto(enc.sw(A1, S0, -4), ctx.x, out)).toBe(true);
    expect(pairToNumber(out[0], out[1])).toBe(-0x39_ff7f_df84);
  });

  it("is false for anything but a plain load or store", () => {
    const { ctx } = setup(true);
    expect(accessStartInto(enc.addi(A0, A0, 1), ctx.x, new Int32Array(2))).toBe(false);
  });
});

describe.each([false, true])("performMmio (vCPU thread: %s)", (onVcpuThread) => {
  it.each([
    ["lb", enc.lb(A0, S0, 0), 1, 0xffff_ffff_ffff_ff81n],
    ["lbu", enc.lbu(A0, S0, 0), 1, 0x81n],
    ["lh", enc.lh(A0, S0, 0), 2, 0xffff_ffff_ffff_8281n],
    ["lhu", enc.lhu(A0, S0, 0), 2, 0x8281n],
    ["lw", enc.lw(A0, S0, 0), 4, 0xffff_ffff_8483_8281n],
    ["lwu", enc.lwu(A0, S0, 0), 4, 0x8483_8281n],
    ["ld", enc.ld(A0, S0, 0), 4, 0x8887_8685_8483_8281n],
    ["c.lw", enc.c_lw(A0, S0, 0), 2, 0xffff_ffff_8483_8281n],
  ] as const)("%s: width, extension, pc + length", (_name, insn, _w, expected) => {
    const { ctx, bus } = setup(onVcpuThread);
    ctx.setReg(A0, 0x1234);
    ctx.setReg(S0, DEV + 1);
    expect(mmio(bus, ctx, DEV + 1, insn)).toBe(true);
    expect(loaded(ctx, A0)).toBe(expected);
    expect(ctx.pc).toBe(PC + ((insn & 3) === 3 ? 4 : 2));
    if (!onVcpuThread) expect(ctx.reg(A0), "the vCPU's own register is left to the vCPU").toBe(0x1234);
  });

  it("stores take the value from rs2, 8 bytes as two 4-byte accesses", () => {
    const { ctx, bus, dev } = setup(onVcpuThread);
    ctx.setRegPair(A1, 0x1122_3344, 0x5566_7788);
    ctx.setReg(S0, DEV + 8);
    expect(mmio(bus, ctx, DEV + 8, enc.sb(A1, S0, 0))).toBe(true);
    expect(mmio(bus, ctx, DEV + 8, enc.sd(A1, S0, 0))).toBe(true);
    expect(dev.writes).toEqual(["8/1=44", "8/4=11223344", "12/4=55667788"]);
    expect(ctx.page.exit[EXIT_RESULT_REG]).toBe(NO_RESULT_REG);
  });

  it("under guest paging the access is performed at the gpa its shadow fill found, whatever the virtual address", () => {
    const { ctx, bus, dev } = setup(onVcpuThread);
    const va = -0x39_ff7f_df80; // 0xffffffc600802080: an ioremap address of a paging kernel
    ctx.setRegPair(A1, 0x55, 0);
    ctx.setReg(S0, va);
    expect(mmio(bus, ctx, DEV + 8, enc.sw(A1, S0, 0), va)).toBe(true);
    expect(dev.writes).toEqual(["8/4=55"]);
    expect(ctx.pc).toBe(PC + 4);
  });

  it("nothing at the address, or no load/store: false, and nothing changed", () => {
    const { ctx, bus } = setup(onVcpuThread);
    ctx.pc = PC;
    expect(mmio(bus, ctx, DEV, enc.addi(A0, A0, 1))).toBe(false);
    expect(ctx.pc).toBe(PC);
    expect(ctx.page.exit[EXIT_RESULT_REG]).toBe(NO_RESULT_REG);
    expect(ctx.reg(A0)).toBe(0);
  });

  it("a load into x0 changes nothing", () => {
    const { ctx, bus } = setup(onVcpuThread);
    ctx.setReg(S0, DEV);
    expect(mmio(bus, ctx, DEV, enc.lw(0, S0, 0))).toBe(true);
    expect(ctx.page.exit[EXIT_RESULT_REG]).toBe(NO_RESULT_REG);
    expect(ctx.x[0]).toBe(0);
  });
});

describe("performMmio: the board's access rule (src/machine/mmio-access.ts)", () => {
  it("a misaligned sw is cut into QEMU's pieces, as natively", () => {
    const { ctx, bus, dev } = setup(true);
    ctx.setReg(S0, DEV + 1);
    ctx.setRegPair(A1, 0x1122_3344, 0);
    expect(mmio(bus, ctx, DEV + 1, enc.sw(A1, S0, 0))).toBe(true);
    expect(dev.writes).toEqual(["1/1=44", "2/1=33", "3/1=22", "4/1=11"]);
    expect(ctx.pc).toBe(PC + 4);
  });

  it("a piece outside every window: the load access fault is reflected at that piece, nothing is read", () => {
    const { ctx, bus } = setup(true);
    ctx.csr.priv = 3;
    ctx.setReg(S0, DEV + 0xfc);
    expect(mmio(bus, ctx, DEV + 0xfc, enc.ld(A0, S0, 0))).toBe(true);
    expect(ctx.csr.lo[0x342], "mcause").toBe(5);
    expect(ctx.csr.lo[0x343], "mtval: the second word's address").toBe(DEV + 0x100);
    expect(ctx.csr.lo[0x341], "mepc").toBe(PC | 0);
    expect(ctx.reg(A0)).toBe(0);
  });

  it("an access that began in RAM faults at its start (it is not all device memory)", () => {
    const { ctx, bus } = setup(true);
    ctx.csr.priv = 3;
    ctx.setReg(S0, DEV - 2);
    expect(mmio(bus, ctx, DEV, enc.sw(A1, S0, 0))).toBe(true);
    expect(ctx.csr.lo[0x342], "mcause").toBe(7);
    expect(ctx.csr.lo[0x343], "mtval").toBe(DEV - 2);
  });
});
