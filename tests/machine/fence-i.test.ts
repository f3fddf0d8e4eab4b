import { describe, expect, it } from "vitest";
import { Board } from "../../src/machine/board.ts";
import { PhysMem } from "../../src/machine/physmem.ts";

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
