import { describe, expect, it } from "vitest";
import { FrameAllocator } from "../../src/hypervisor/frames.ts";
import { PhysMem } from "../../src/machine/physmem.ts";
import { WasmArena, vcpuArenaBytes, vcpuArenaRegs } from "../../src/machine/jit/wasm-arena.ts";
import { Vm } from "../../src/hypervisor/vm.ts";

const MEM = 1 << 20;

describe("vCPU wasm arenas in machine memory", () => {
  it("lie past the frames, one span each, and run out into -1 (the JS tier)", () => {
    const frames = new FrameAllocator(MEM, 2);
    const span = vcpuArenaBytes(MEM >>> 12);
    expect(frames.mem.size).toBe(MEM);
    expect(frames.mem.memory.buffer.byteLength).toBe(MEM + 2 * span);
    const a = frames.claimArena();
    const b = frames.claimArena();
    expect([a, b].sort((x, y) => x - y)).toEqual([MEM, MEM + span]);
    expect(frames.claimArena()).toBe(-1);
    frames.releaseArena(a);
    expect(() => frames.releaseArena(a)).toThrow(/not held/);
    expect(frames.claimArena()).toBe(a);
  });

  it("gives a vCPU's view of machine memory its own arena, cleared when a span is reused", () => {
    const frames = new FrameAllocator(MEM, 1);
    const at = frames.claimArena();
    const view = new PhysMem(MEM, frames.mem.memory, undefined, 0, { arenaAt: at });
    expect(view.arena?.codeMap.byteOffset).toBe(at);
    const regs = view.arena?.hartStorage(0).regs;
    expect(regs?.byteOffset).toBe(vcpuArenaRegs(frames.mem.buffer, at, frames.mem.pages).byteOffset);
    // An earlier thread's state: a register, a code page and a block map entry.
    regs?.fill(7);
    view.codeMap[3] = 1;
    view.arena?.setMapEntry(3, 0x10, 42);
    frames.releaseArena(at);
    expect(frames.claimArena()).toBe(at);
    const fresh = new WasmArena(frames.mem.buffer, at, frames.mem.pages, 1);
    expect(fresh.hartStorage(0).regs.every((w) => w === 0)).toBe(true);
    expect(fresh.codeMap[3]).toBe(0);
    expect(fresh.mapOf(3)).toBe(0);
  });

  it("refuses an arena that is not past RAM", () => {
    const frames = new FrameAllocator(MEM, 1);
    expect(() => new PhysMem(MEM, frames.mem.memory, undefined, 0, { arenaAt: MEM - 4096 })).toThrow(/not past RAM/);
    expect(() => new PhysMem(MEM, undefined, undefined, 0, { arenaAt: MEM })).toThrow(/view of existing memory/);
  });

  it("go back, with every frame, when building the VM fails after they were claimed", () => {
    const frames = new FrameAllocator(MEM, 2);
    const config = { name: "vm0", vcpus: 2, memSize: 1 << 16, wait: "spin" as const, exitHandler: "vcpu" as const, output: () => {} };
    // Nothing to boot: bootVm throws, after the arenas, shadow tables and guest frames were taken.
    expect(() => new Vm({ ...config, images: { bios: { kind: "none" } } }, frames, new SharedArrayBuffer(4))).toThrow(/nothing to run/);
    expect(frames.allocated).toBe(0);
    expect(frames.claimArena()).toBeGreaterThanOrEqual(MEM);
    expect(frames.claimArena()).toBeGreaterThanOrEqual(MEM);
  });
});
