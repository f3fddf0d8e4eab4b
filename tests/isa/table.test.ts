import { describe, expect, it } from "vitest";
import { OP, OP_NAMES } from "../../src/isa/ops.ts";
import { INSN_TABLE, RVC_TABLE } from "../../src/isa/table.ts";

describe("instruction table", () => {
  it("has exactly one 32-bit row for every op except undecoded and illegal", () => {
    for (const name of OP_NAMES) {
      const rows = INSN_TABLE.filter((r) => r.name === name);
      expect(rows.length, name).toBe(name === "undecoded" || name === "illegal" ? 0 : 1);
    }
  });

  it("gives every row the op number of its name", () => {
    for (const r of [...INSN_TABLE, ...RVC_TABLE]) expect(r.op).toBe(OP[r.name]);
  });

  it("has match bits only inside the mask", () => {
    for (const r of INSN_TABLE) expect(r.match & ~r.mask, r.name).toBe(0);
    for (const r of RVC_TABLE) expect(r.match & ~r.mask, r.cname).toBe(0);
  });

  it("has no two 32-bit rows matching the same instruction, so row order cannot matter", () => {
    for (let i = 0; i < INSN_TABLE.length; i++) {
      for (let j = i + 1; j < INSN_TABLE.length; j++) {
        const a = INSN_TABLE[i]!;
        const b = INSN_TABLE[j]!;
        const common = a.mask & b.mask;
        expect((a.match & common) === (b.match & common), `${a.name} overlaps ${b.name}`).toBe(false);
      }
    }
  });

  it("marks every compressed row as a 16-bit parcel (inst[1:0] != 3)", () => {
    for (const r of RVC_TABLE) expect(r.match & 3, r.cname).not.toBe(3);
  });
});
