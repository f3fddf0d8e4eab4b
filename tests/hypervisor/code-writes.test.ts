/*
 * A VM's code-write log (src/machine/code-writes.ts) as its vCPU threads
 * see it: each vCPU's RAM is a PhysMem over machine memory sharing the VM's
 * log and code map, as vcpu-runner.ts builds it. fence.i drops exactly the
 * decoded pages someone else wrote since they were decoded: the main
 * thread through the VM's view, a device's DMA, another vCPU's stores.
 */

import { describe, expect, it } from "vitest";
import { FrameAllocator } from "../../src/hypervisor/frames.ts";
import { GuestMemory } from "../../src/hypervisor/guest-memory.ts";
import { GuestPhysView } from "../../src/machine/guest-phys-view.ts";
import { CodeWriteLog } from "../../src/machine/code-writes.ts";
import { vcpuArenaCodeMap } from "../../src/machine/jit/wasm-arena.ts";
import { DRAM_BASE, PAGE_SIZE } from "../../src/machine/memlayout.ts";
import { PhysMem } from "../../src/machine/physmem.ts";

const MACHINE = 1 << 20;
const RAM = 0x4_0000;

/** A VM with `vcpus` vCPU views of machine memory, each with its own arena, sharing the first arena's code map. */
function vm(vcpus: number) {
  const frames = new FrameAllocator(MACHINE, vcpus);
  const arenas = Array.from({ length: vcpus }, () => frames.claimArena());
  const memory = new GuestMemory(frames, RAM, false, false, vcpuArenaCodeMap(arenas[0]));
  memory.ensure(DRAM_BASE, RAM);
  const codeWrites = memory.map.codeWrites;
  const cpus = arenas.map((arenaAt) => new PhysMem(MACHINE, frames.mem.memory, undefined, 0, { arenaAt, codeWrites }));
  /** The machine page of guest page `n`. */
  const page = (n: number): number => memory.view.translate(DRAM_BASE + n * PAGE_SIZE, 1) / PAGE_SIZE;
  return { frames, memory, cpus, page };
}

describe("a vCPU's fence.i drops only the code other threads wrote", () => {
  it("keeps every decoded page when nobody else wrote (one vCPU storing into its own code marks nothing)", () => {
    const { cpus, page } = vm(1);
    const [a] = cpus;
    const code = a.decodedPage(page(1));
    a.decodedPage(page(2));
    a.invalidateCode(page(1) * PAGE_SIZE + 8, 4); // its own store: forgets the slots, nothing more
    a.fenceI();
    expect(a.decoded[page(1)]).toBe(code);
    expect(a.decoded[page(2)]).toBeDefined();
    expect(a.codeStats).toMatchObject({ fences: 1, sweeps: 0, pagesDropped: 0, flushes: 0 });
  });

  it("drops a page the main thread wrote through the VM's view (an emulated store, a device model's write)", () => {
    const { memory, cpus, page } = vm(1);
    const [a] = cpus;
    a.decodedPage(page(1));
    const kept = a.decodedPage(page(2));
    expect(memory.view.writeU32(DRAM_BASE + PAGE_SIZE + 16, 0x13)).toBe(0);
    a.fenceI();
    expect(a.decoded[page(1)]).toBeUndefined();
    expect(a.codeMap[page(1)]).toBe(0);
    expect(a.decoded[page(2)]).toBe(kept);
    expect(a.codeStats).toMatchObject({ sweeps: 1, pagesDropped: 1 });
    // Decoded again afterwards, it stays: the write is older than the new decode.
    const again = a.decodedPage(page(1));
    a.fenceI();
    expect(a.decoded[page(1)]).toBe(again);
  });

  it("drops a page DMA wrote from another thread (machineWritten, or the log itself in an I/O worker)", () => {
    const { frames, memory, cpus, page } = vm(1);
    const [a] = cpus;
    a.decodedPage(page(1));
    a.decodedPage(page(3));
    // A device on another thread: its own view, from the shared map, and machine offsets.
    const dmaView = new GuestPhysView(frames.mem.buffer, memory.map);
    dmaView.machineWritten(page(1) * PAGE_SIZE, 64);
    a.fenceI();
    expect(a.decoded[page(1)]).toBeUndefined();
    const worker = new CodeWriteLog(memory.map.codeWrites!, frames.mem.buffer);
    worker.written(page(3) * PAGE_SIZE + PAGE_SIZE - 4, 8); // into page 3 and the next
    a.fenceI();
    expect(a.decoded[page(3)]).toBeUndefined();
  });

  it("drops a page another vCPU stored into; the storing vCPU keeps its own copy", () => {
    const { cpus, page } = vm(2);
    const [a, b] = cpus;
    a.decodedPage(page(1));
    const bOwn = b.decodedPage(page(1));
    expect(a.codeMap[page(1)]).toBe(2); // one code map, counting both
    b.decodedPage(page(2));
    // b's store takes its slow path (the code map is not 0 there) and forgets what it overwrote.
    expect(b.codeMap[page(1)]).not.toBe(0);
    b.invalidateCode(page(1) * PAGE_SIZE + 8, 4);
    a.fenceI();
    b.fenceI();
    expect(a.decoded[page(1)]).toBeUndefined();
    expect(b.decoded[page(1)]).toBe(bOwn);
    expect(a.codeMap[page(1)]).toBe(1);
    // A page only the other vCPU has code on: a's store there is b's news.
    a.invalidateCode(page(2) * PAGE_SIZE, 2);
    b.fenceI();
    expect(b.decoded[page(2)]).toBeUndefined();
  });

  it("counts a vCPU out of the code map when it drops a page, so stores into pages nobody runs stay on the fast path", () => {
    const { memory, cpus, page } = vm(1);
    const [a] = cpus;
    a.decodedPage(page(1));
    expect(a.codeMap[page(1)]).toBe(1);
    memory.view.writeU8(DRAM_BASE + PAGE_SIZE, 0);
    a.fenceI();
    expect(a.codeMap[page(1)]).toBe(0);
    a.flushCode();
    expect(a.codeMap.every((n) => n === 0)).toBe(true);
  });
});
