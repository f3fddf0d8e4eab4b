/*
 * The H extension as a board option: off by default (misa and the device
 * tree exactly as before), on with BoardConfig.h / `--cpu rv64,h=true`
 * (misa.H and "h" in every cpu node's riscv,isa), and --cpu's parsing.
 */

import { describe, expect, it } from "vitest";
import { Board } from "../../src/machine/board.ts";
import { boardDeviceTree } from "../../src/machine/boot-layout.ts";
import { boardDevices } from "../../src/machine/board-devices.ts";
import { decodeString, findNode, getProp, parseFdt } from "../../src/machine/fdt.ts";
import { DRAM_BASE } from "../../src/machine/memlayout.ts";
import * as R from "../../src/machine/riscv.ts";
import { MISA_H } from "../../src/machine/hext-defs.ts";
import { parseCpu } from "../../src/cli/cpu-flag.ts";
import { ConfigError } from "../../src/errors.ts";

function isaOf(h: boolean | undefined): string {
  const { blob } = boardDeviceTree({ harts: 2, ramBase: DRAM_BASE, ramSize: 64 * 2 ** 20, devices: boardDevices(), h });
  const root = parseFdt(blob);
  const cpu = findNode(root, "/cpus/cpu@1");
  const v = cpu === undefined ? undefined : getProp(cpu, "riscv,isa");
  if (v === undefined) throw new Error("no riscv,isa");
  return decodeString(v);
}

describe("the H extension as a board option", () => {
  it("is off by default: the ISA string and misa are unchanged", () => {
    expect(isaOf(undefined)).toBe(R.ISA_STRING);
    const board = new Board({ harts: 1, memSize: 2 ** 20, clock: "icount", output: () => {} });
    expect(board.harts[0].hext).toBeUndefined();
    board.harts[0].csr.read(R.CSR_MISA);
    expect(board.harts[0].csr.rlo & MISA_H).toBe(0);
  });
  it("on, every hart has it: misa.H and rv64imach_... in the device tree", () => {
    expect(isaOf(true)).toBe("rv64imach_zicsr_zifencei_sstc");
    const board = new Board({ harts: 2, memSize: 2 ** 20, clock: "icount", output: () => {}, h: true });
    for (const hart of board.harts) {
      hart.csr.read(R.CSR_MISA);
      expect(hart.csr.rlo & MISA_H).toBe(MISA_H);
    }
  });
  it("--cpu takes rv64 with h=true|false|on|off, and refuses anything else", () => {
    expect(parseCpu(undefined).h).toBe(false);
    expect(parseCpu("rv64").h).toBe(false);
    expect(parseCpu("rv64,h=true").h).toBe(true);
    expect(parseCpu("rv64,h=on").h).toBe(true);
    expect(parseCpu("rv64,h=off").h).toBe(false);
    expect(() => parseCpu("rv32")).toThrow(ConfigError);
    expect(() => parseCpu("rv64,v=true")).toThrow(/unknown property "v=true"/);
    expect(() => parseCpu("rv64,h=maybe")).toThrow(ConfigError);
  });
});
