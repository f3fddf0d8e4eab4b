/*
 * A VM's guest memory: the shared frame table behind its GuestMemoryView,
 * what "not yet touched" means for a view that never allocates, and a view
 * built on another thread from the shared buffers alone.
 */

import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { FrameAllocator } from "../../src/hypervisor/frames.ts";
import { GuestMemory } from "../../src/hypervisor/guest-memory.ts";
import { GuestPhysView } from "../../src/machine/guest-phys-view.ts";
import { FAULT_OUTSIDE, FAULT_SPLIT, FAULT_UNBACKED, GUEST_OK } from "../../src/machine/guest-memory-view.ts";
import { DRAM_BASE, PAGE_SIZE } from "../../src/machine/memlayout.ts";
import { viewCases } from "../helpers/view-cases.ts";

const RAM = 0x1_0000;

function vmMemory(): { frames: FrameAllocator; memory: GuestMemory } {
  const frames = new FrameAllocator(0x10_0000);
  return { frames, memory: new GuestMemory(frames, RAM) };
}

/** A view on "another thread": the same shared buffers, no way to back a page. */
function threadView(frames: FrameAllocator, memory: GuestMemory): GuestPhysView {
  return new GuestPhysView(frames.mem.buffer, memory.map);
}

viewCases("GuestPhysView (a VM, every page backed)", () => {
  const { memory } = vmMemory();
  expect(memory.ensure(DRAM_BASE, RAM)).toBe(true);
  return memory.view;
});

viewCases("GuestPhysView (a VM, built as another thread builds it)", () => {
  const { frames, memory } = vmMemory();
  memory.ensure(DRAM_BASE, RAM);
  return threadView(frames, memory);
});

describe("a VM's guest-physical map", () => {
  it("translates to the page's machine frame, and says when neighbouring pages' frames are not adjacent", () => {
    const { memory } = vmMemory();
    // Page 1 first: its frame comes before page 0's, and page tables are allocated in between.
    memory.ensure(DRAM_BASE + PAGE_SIZE);
    memory.ensure(DRAM_BASE);
    const v = memory.view;
    const off0 = v.translate(DRAM_BASE + 8, 4);
    const off1 = v.translate(DRAM_BASE + PAGE_SIZE, 4);
    expect(off0).toBeGreaterThanOrEqual(0);
    expect(off1).toBeGreaterThanOrEqual(0);
    expect(off0 % PAGE_SIZE).toBe(8);
    expect(off1 + PAGE_SIZE).not.toBe(off0 + 8);
    expect(v.translate(DRAM_BASE + PAGE_SIZE - 2, 4)).toBe(FAULT_SPLIT);
    // The accessors split what translate will not.
    expect(v.writeU32(DRAM_BASE + PAGE_SIZE - 2, 0xa1b2_c3d4)).toBe(GUEST_OK);
    expect(v.readU32(DRAM_BASE + PAGE_SIZE - 2)).toBe(0xa1b2_c3d4);
    expect(v.readU16(DRAM_BASE + PAGE_SIZE)).toBe(0xa1b2);
  });

  it("never allocates to translate or read: untouched RAM is unbacked, and reads as the zeros it holds", () => {
    const { frames, memory } = vmMemory();
    const before = frames.allocated;
    const v = memory.view;
    expect(v.translate(DRAM_BASE + 0x2000, 4)).toBe(FAULT_UNBACKED);
    expect(v.readU32(DRAM_BASE + 0x2000)).toBe(0);
    expect(v.readU64(DRAM_BASE + 0x2ffc)).toBe(0n);
    const out = new Uint8Array(0x3000).fill(0xff);
    expect(v.copyOut(DRAM_BASE + 0x1000, out)).toBe(GUEST_OK);
    expect(out.every((b) => b === 0)).toBe(true);
    expect(frames.allocated).toBe(before);
    expect(memory.frameCount).toBe(0);
  });

  it("backs a page only through ensure: the main thread's view calls it before a write, another thread's reports FAULT_UNBACKED", () => {
    const { frames, memory } = vmMemory();
    const other = threadView(frames, memory);
    expect(other.writeU32(DRAM_BASE + 0x3000, 7)).toBe(FAULT_UNBACKED);
    expect(other.copyIn(DRAM_BASE + 0x3000, Uint8Array.of(1, 2))).toBe(FAULT_UNBACKED);
    expect(memory.frameCount).toBe(0);
    expect(memory.view.writeU32(DRAM_BASE + 0x3000, 7)).toBe(GUEST_OK);
    expect(memory.frameCount).toBeGreaterThan(0);
    // The frame the main thread backed is at once visible to the other thread's view.
    expect(other.readU32(DRAM_BASE + 0x3000)).toBe(7);
    expect(other.writeU32(DRAM_BASE + 0x3004, 8)).toBe(GUEST_OK);
    expect(memory.view.readU32(DRAM_BASE + 0x3004)).toBe(8);
  });

  it("refuses to back anything outside RAM, and backs nothing of a range that leaves it", () => {
    const { memory } = vmMemory();
    expect(memory.ensure(DRAM_BASE - PAGE_SIZE)).toBe(false);
    expect(memory.ensure(DRAM_BASE + RAM - PAGE_SIZE, 2 * PAGE_SIZE)).toBe(false);
    expect(memory.frameCount).toBe(0);
    expect(memory.view.writeU32(DRAM_BASE + RAM, 1)).toBe(FAULT_OUTSIDE);
  });

  it("is translated by a view built on a worker thread from the shared buffers, without asking the main thread", async () => {
    const { frames, memory } = vmMemory();
    expect(memory.view.writeU32(DRAM_BASE + 0x10, 0x1234_5678)).toBe(GUEST_OK);
    const gpas = [DRAM_BASE + 0x10, DRAM_BASE + 0x5000, DRAM_BASE + RAM];
    const worker = new Worker(new URL("../helpers/ts-worker.js", import.meta.url), {
      workerData: { entry: new URL("../helpers/view-worker.ts", import.meta.url).href, machine: frames.mem.buffer, map: memory.map, gpas },
    });
    const seen = await new Promise<{ translated: number[]; read: number[]; write: number[] }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    expect(seen.translated).toEqual([memory.view.translate(DRAM_BASE + 0x10, 4), FAULT_UNBACKED, FAULT_OUTSIDE]);
    expect(seen.read).toEqual([0x1234_5678, 0, FAULT_OUTSIDE]);
    expect(seen.write).toEqual([GUEST_OK, FAULT_UNBACKED, FAULT_OUTSIDE]);
    // The worker's write landed in the VM's own frame.
    expect(memory.view.readU32(DRAM_BASE + 0x10)).toBe(0x600d_f00d);
  }, 60_000); // starting a thread that compiles TypeScript takes seconds on a loaded machine
});

describe("a device page mapped straight into the guest (device assignment)", () => {
  it("is found by the shadow's lookup, on any thread's view, yet stays outside RAM for DMA and the VMM's accesses", () => {
    const frames = new FrameAllocator(2 ** 20);
    const mem = new GuestMemory(frames, RAM);
    const frame = mem.ownFrame();
    mem.mapDevicePage(0x1000_a000, frame);
    const other = new GuestPhysView(frames.mem.buffer, mem.map);
    expect(other.devicePage(0x1000_a123)).toBe(frame);
    expect(other.devicePage(0x1000_b000)).toBe(-1);
    expect(other.translate(0x1000_a000, 4)).toBe(FAULT_OUTSIDE);
    expect(() => mem.mapDevicePage(DRAM_BASE, frame)).toThrow(/outside RAM/);
    expect(() => mem.mapDevicePage(0x1000_a008, frame)).toThrow(/page-aligned/);
  });
});
