import { describe, expect, it } from "vitest";
import { warmInterpreter } from "../../src/machine/interp-warmup.ts";

describe("interpreter warm-up", () => {
  it("runs its program (M-mode, then S-mode under Sv39 at high addresses) to the end", () => {
    // It throws when the program stops anywhere but its end (a trap it did not expect, a wrong page table).
    expect(() => warmInterpreter("icount")).not.toThrow();
  });
});
