/*
 * branchy (bench cpu's short-lived code paths) is a real program: it ends
 * through the finisher with status 0, and the block JIT changes nothing in
 * what it computes, only how fast (its blocks cross the compile threshold).
 */

import { describe, expect, it } from "vitest";
import { branchyImage } from "../../bench/branchy.ts";
import { Board } from "../../src/machine/board.ts";
import { runBoard } from "../../src/machine/runner.ts";

const A0 = 10, A2 = 12, A4 = 14;
/** A compile threshold the rounds cross (branchy's round count is a 12-bit immediate; the board's default is higher). */
const HOT_THRESHOLD = 1024;

async function run(image: Uint8Array, jit: boolean): Promise<{ exitCode: number; instructions: number; regs: bigint[] }> {
  const board = new Board({ harts: 1, memSize: 16 * 2 ** 20, clock: "icount", jit, hotThreshold: HOT_THRESHOLD, output: () => {} });
  board.boot({ kernel: image });
  const r = await runBoard(board, { timeoutSeconds: 60 });
  const hart = board.harts[0];
  return { exitCode: r.exitCode, instructions: r.instructions, regs: [A0, A2, A4].map((x) => hart.getRegBig(x)) };
}

describe("branchy", () => {
  it("exits 0 and computes the same with the block JIT on and off", async () => {
    const image = branchyImage(300, HOT_THRESHOLD + 8);
    const on = await run(image, true);
    const off = await run(image, false);
    expect(on.exitCode).toBe(0);
    expect(off).toEqual(on);
    // Every block ran every round: at least 5 of its 6 instructions each time.
    expect(on.instructions).toBeGreaterThan(300 * 5 * (HOT_THRESHOLD + 8));
    // The data-dependent branch went both ways: a4 counts the fall-throughs, fewer than all.
    expect(on.regs[2]).toBeGreaterThan(0n);
    expect(on.regs[2]).toBeLessThan(BigInt(300 * (HOT_THRESHOLD + 8)));
  });

  it("is rebuilt the same each time (no randomness in the benchmark)", () => {
    expect(branchyImage(50, 3)).toEqual(branchyImage(50, 3));
  });
});
