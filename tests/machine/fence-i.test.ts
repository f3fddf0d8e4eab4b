import { describe, expect, it } from "vitest";
import { Board } from "../../src/machine/board.ts";
import { PhysMem } from "../../src/machine/physmem.ts";
import { CodeWriteLog, newCodeWriteShare } from "../../src/machine/code-writes.ts";
import { PAGE_SIZE } from "../../src/machine/memlayout.ts";

describe("fence.i and decoded code", () => {
  it("on the native board keeps decoded pages: every write there already forgot the code it overlapped", () => {
    const board = new Board({ harts: 1, memSize: 2 << 20, clock: "icount", output: () => {} });
    const page = board.mem.decodedPage(3);
    board.harts[0].fenceI();
    expect(board.mem.decoded[3]).toBe(page);
  });

  it("on RAM that others write behind the harts' back (a vCPU's) forgets every decoded page", () => {
    const mem = new PhysMem(2 << 20);
    mem.decodedPage(3);
    mem.fenceI();
    expect(mem.decoded[3]).toBeUndefined();
  });
});

describe("the code-write log (code-writes.ts)", () => {
  it("bumps the gen of every page a write touches, and the epoch only where some thread has code", () => {
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true });
    const share = newCodeWriteShare(64, -1);
    const log = new CodeWriteLog(share, memory.buffer as unknown as SharedArrayBuffer);
    log.written(PAGE_SIZE - 1, 2); // pages 0 and 1
    expect([log.gen[0], log.gen[1], log.gen[2]]).toEqual([1, 1, 0]);
    expect(log.epoch[0]).toBe(0);
    log.codeMap[5] = 1;
    log.written(5 * PAGE_SIZE, 1);
    expect(log.epoch[0]).toBe(1);
    log.written(5 * PAGE_SIZE, 0);
    expect(log.gen[5]).toBe(1);
  });

  it("writtenWhereCode marks only the pages some thread has code on, across a write's pages and within RAM", () => {
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true });
    const log = new CodeWriteLog(newCodeWriteShare(64, -1), memory.buffer as unknown as SharedArrayBuffer);
    log.codeMap[1] = 1;
    log.codeMap[3] = 1;
    log.barrier();
    log.writtenWhereCode(PAGE_SIZE - 1, 2 * PAGE_SIZE + 2); // pages 0 to 3
    expect([log.gen[0], log.gen[1], log.gen[2], log.gen[3]]).toEqual([0, 1, 0, 1]);
    expect(log.epoch[0]).toBe(2);
    log.codeMap[63] = 1;
    log.writtenWhereCode(63 * PAGE_SIZE, 4 * PAGE_SIZE); // runs past the last page: stops there
    log.writtenWhereCode(64 * PAGE_SIZE, 1); // beyond RAM: nothing
    log.writtenWhereCode(PAGE_SIZE, 0); // nothing written
    expect([log.gen[1], log.gen[63], log.epoch[0]]).toEqual([1, 1, 3]);
  });

  it("refuses a code map outside machine memory, and a log for another RAM size", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const buffer = memory.buffer as unknown as SharedArrayBuffer;
    expect(() => new CodeWriteLog(newCodeWriteShare(16, 65536 - 8), buffer)).toThrow(/not inside machine memory/);
    expect(() => new PhysMem(65536, memory, undefined, 0, { codeWrites: newCodeWriteShare(32, -1) })).toThrow(/code-write log for 32 pages/);
  });
});
