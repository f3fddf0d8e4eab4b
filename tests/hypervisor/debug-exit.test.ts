/*
 * The debugger's breakpoint under trap-and-emulate: the guest executes the
 * planted ebreak in real U-mode, its vCPU's trap handler finds the pc in
 * the debugger's set and posts a debug exit, which the main thread holds
 * (vm-exits.ts, vm-debug.ts). The guest's own ebreak is still reflected
 * into the guest. Driven without a socket, through the VM's GDB target.
 */

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DebugBreakpoints, MAX_DEBUG_BREAKPOINTS } from "../../src/hypervisor/debug-breakpoints.ts";
import { VmGdbTarget } from "../../src/hypervisor/gdb-vm-target.ts";
import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import type { ExitHandlerPlace } from "../../src/hypervisor/vm.ts";
import { REGNUM_PC } from "../../src/gdb/target-xml.ts";
import { enc } from "../../src/isa/encode.ts";
import { REG } from "../../src/isa/regnames.ts";
import { Program } from "../../src/lab/program.ts";
import { DRAM_BASE } from "../../src/machine/memlayout.ts";
import * as R from "../../src/machine/riscv.ts";
import { mImage } from "../helpers/vm.ts";

const FINISHER = 0x10_0000;
const { t0, t1, t2, t3, s1, a0 } = REG;
/** Where the guest's trap handler starts, and the instruction the debugger breaks at. */
const HANDLER = 4;
const START = HANDLER + 5 * 4;

/**
 * M-mode: its own ebreak first (the handler counts it in s1 and skips it),
 * then `addi s1, s1, 10` at the returned offset — the debugger's target —
 * and the finisher: pass if s1 is 11 (both ran, each once), else fail.
 */
function guest(): { image: string; target: number } {
  const p = new Program();
  p.word(enc.jal(0, START));
  p.word(enc.addi(s1, s1, 1)).word(enc.csrrs(t2, R.CSR_MEPC, 0)).word(enc.addi(t2, t2, 4)).word(enc.csrrw(0, R.CSR_MEPC, t2)).word(enc.mret());
  if (p.here !== START) throw new Error("guest: the handler's size changed");
  p.li(t0, DRAM_BASE + HANDLER).word(enc.csrrw(0, R.CSR_MTVEC, t0)).li(s1, 0);
  p.word(enc.ebreak());
  const target = p.here;
  p.word(enc.addi(s1, s1, 10));
  p.li(t3, 11).li(t1, FINISHER).li(a0, 0x5555);
  p.word(enc.bne(s1, t3, 8)).word(enc.sw(a0, t1, 0));
  p.li(a0, (1 << 16) | 0x3333).word(enc.sw(a0, t1, 0)).word(enc.jal(0, 0));
  const path = join(mkdtempSync(join(tmpdir(), "popek-debug-exit-")), "guest.bin");
  writeFileSync(path, p.image());
  return { image: path, target: DRAM_BASE + target };
}

/** x`n` of vCPU 0 as a number, from the target's little-endian hex. */
function reg(t: VmGdbTarget, n: number): number {
  return Number(Buffer.from(t.readRegister(0, n) as string, "hex").readBigUInt64LE());
}

describe("a debugger breakpoint under --virt trap", () => {
  for (const exitHandler of ["main", "vcpu"] as const satisfies readonly ExitHandlerPlace[]) {
    it(`halts the vCPU at the planted ebreak with a debug exit, while the guest's own ebreak is reflected (--exit-handler ${exitHandler})`, async () => {
      const { image, target: at } = guest();
      const hv = new Hypervisor({ machineMemory: 80 * 2 ** 20 });
      const vm = hv.createVm({ name: "vm0", vcpus: 1, memSize: 64 * 2 ** 20, images: mImage(image), wait: "block", exitHandler, output: () => {} });
      const target = new VmGdbTarget(vm);
      vm.debug.requestHalt(); // -S: parked before the first instruction
      hv.start(vm);
      await vm.debug.halt();
      expect(reg(target, REGNUM_PC)).toBe(DRAM_BASE);
      expect(vm.debug.atBreakpoint(0)).toBe(false);

      expect(target.insertBreakpoint(0, BigInt(at), 4)).toBe(true);
      const stopped = new Promise<number>((resolve) => (vm.debug.onStop = resolve));
      vm.debug.resume([0]);
      expect(await stopped).toBe(0);
      await vm.debug.halt();
      expect(vm.debug.firstStopped).toBe(0);
      expect(vm.debug.atBreakpoint(0)).toBe(true);
      expect(reg(target, REGNUM_PC)).toBe(at); // stopped before the breakpoint's instruction
      expect(reg(target, s1)).toBe(1); // the guest's own ebreak went to its handler, once
      const original = Buffer.alloc(4);
      original.writeUInt32LE(enc.addi(s1, s1, 10) >>> 0);
      expect(Buffer.from(target.readMemory(0, BigInt(at), 4))).toEqual(original); // GDB never sees its own ebreak

      // GDB takes the breakpoint out to go on: the original instruction runs, on fresh decoded code.
      expect(target.removeBreakpoint(BigInt(at))).toBe(true);
      vm.debug.resume([0]);
      const result = await vm.result;
      expect(result.outcome).toBe("finisher");
      expect(result.exitCode).toBe(0);
    }, 60_000);
  }
});

describe("the debugger's breakpoint set", () => {
  it("is empty until published, and holds exactly what was published", () => {
    const set = new DebugBreakpoints();
    expect(set.empty).toBe(true);
    expect(set.has(0x8000_0000)).toBe(false);
    expect(set.publish([0x8000_0010, 0x8000_2000])).toBe(true);
    expect(set.empty).toBe(false);
    expect(set.has(0x8000_2000)).toBe(true);
    expect(set.has(0x8000_0000)).toBe(false);
    const other = new DebugBreakpoints(set.buffer); // another thread's view of the same buffer
    expect(other.has(0x8000_0010)).toBe(true);
    expect(set.publish([])).toBe(true);
    expect(other.empty).toBe(true);
  });

  it("refuses more than it can hold, changing nothing", () => {
    const set = new DebugBreakpoints();
    set.publish([0x8000_0000]);
    expect(set.publish(Array.from({ length: MAX_DEBUG_BREAKPOINTS + 1 }, (_, i) => 0x8000_0000 + 4 * i))).toBe(false);
    expect(set.has(0x8000_0000)).toBe(true);
    expect(set.has(0x8000_0004)).toBe(false);
  });

  it("refuses a buffer of the wrong size", () => {
    expect(() => new DebugBreakpoints(new SharedArrayBuffer(16))).toThrow(/wrong size/);
  });
});
