/*
 * The hart dispatches on numeric op literals (so V8 builds a jump table) with
 * each op's name in a comment (src/isa/ops.ts). This test keeps those
 * comments honest: every `case N: // name` names OP_NAMES[N], a line of
 * several cases names each of them in order (or with one `*` pattern that
 * fits them all), and between the hot loop and the rare-op file every op is
 * handled exactly once.
 */

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { OP_NAMES } from "../../src/isa/ops.ts";

const FILES = ["src/machine/hart-loop.ts", "src/machine/hart-rare.ts"] as const;

interface CaseLine {
  readonly file: string;
  readonly line: number;
  readonly ops: number[];
  readonly comment: string | undefined;
}

/** The `case N:` lines of a file, with the trailing `//` comment if any. */
function caseLines(file: string): CaseLine[] {
  const text = readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");
  const out: CaseLine[] = [];
  text.split("\n").forEach((raw, index) => {
    const m = /^\s*((?:case \d+:\s*)+)(.*)$/.exec(raw);
    if (m === null) return;
    const ops = [...m[1].matchAll(/case (\d+):/g)].map((c) => Number(c[1]));
    const at = m[2].indexOf("//");
    out.push({ file, line: index + 1, ops, comment: at < 0 ? undefined : m[2].slice(at + 2).trim() });
  });
  return out;
}

/** The op names a comment gives: words up to the first ':' or '(' ("fence: ..." -> ["fence"]). */
function namesIn(comment: string): string[] {
  const head = comment.split(/[:(]/)[0];
  return head.split(/\s+/).filter((w) => w.length > 0);
}

function matches(pattern: string, name: string): boolean {
  const re = new RegExp("^" + pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[a-z]*") + "$");
  return re.test(name);
}

const ALL = FILES.flatMap(caseLines);

describe("op-number comments in the hart's dispatch match src/isa/ops.ts", () => {
  it("the files have case lines to check", () => {
    for (const f of FILES) expect(ALL.filter((c) => c.file === f).length, f).toBeGreaterThan(10);
  });
  for (const c of ALL) {
    const where = `${c.file}:${c.line}`;
    it(`${where}: case ${c.ops.join(", ")}`, () => {
      for (const op of c.ops) expect(op < OP_NAMES.length, `${where}: op ${op} exists`).toBe(true);
      if (c.comment === undefined) return; // reported by the next test
      const names = namesIn(c.comment);
      if (names.length === c.ops.length) {
        c.ops.forEach((op, i) => expect(names[i], `${where}: case ${op}`).toBe(OP_NAMES[op]));
      } else {
        expect(names.length, `${where}: one pattern for ${c.ops.length} cases, or one name per case`).toBe(1);
        for (const op of c.ops) expect(matches(names[0], OP_NAMES[op]), `${where}: case ${op} is ${OP_NAMES[op]}, comment says ${names[0]}`).toBe(true);
      }
    });
  }
  it("every case line carries a comment naming its ops", () => {
    const bare = ALL.filter((c) => c.comment === undefined).map((c) => `${c.file}:${c.line}`);
    expect(bare).toEqual([]);
  });
  it("every op is handled exactly once across the hot loop and hart-rare (the loop's default hands off the rest)", () => {
    const seen = new Map<number, string[]>();
    for (const c of ALL) for (const op of c.ops) seen.set(op, [...(seen.get(op) ?? []), `${c.file}:${c.line}`]);
    for (let op = 0; op < OP_NAMES.length; op++) {
      expect(seen.get(op)?.length ?? 0, `op ${op} (${OP_NAMES[op]}) at ${(seen.get(op) ?? []).join(", ")}`).toBe(1);
    }
  });
});
