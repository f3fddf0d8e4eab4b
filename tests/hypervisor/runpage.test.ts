/*
 * The run page's layout is the exit path's cost model (runpage.ts): the
 * mailbox is one cache line, and what each thread writes all the time sits
 * on lines the other thread does not use.
 */

import { describe, expect, it } from "vitest";
import { RUN_PAGE_BYTES, RUN_PAGE_FIELDS, RunPage, fieldOffset, type RunPageField } from "../../src/hypervisor/runpage.ts";
import { EXIT_STATS, readStats, STAT } from "../../src/hypervisor/stats.ts";

const LINE = 64;
const MAILBOX: RunPageField[] = ["state", "exit", "exitDecoded", "exitOperand", "pc", "exitTval", "exitRetired"];

function lineOf(name: RunPageField): number {
  return Math.floor(fieldOffset(name) / LINE);
}

/** The last byte of a field. */
function endOf(name: RunPageField): number {
  const f = RUN_PAGE_FIELDS.find((x) => x.name === name);
  if (f === undefined) throw new Error(name);
  return fieldOffset(name) + f.count * (f.kind === "f64" ? 8 : 4) - 1;
}

describe("run page layout", () => {
  it("the exit mailbox is exactly one cache line, the first", () => {
    for (const name of MAILBOX) {
      expect(lineOf(name), name).toBe(0);
      expect(Math.floor(endOf(name) / LINE), `${name} ends in the line`).toBe(0);
    }
  });

  it("every other field starts a line of its own, and no two fields overlap", () => {
    const others = RUN_PAGE_FIELDS.map((f) => f.name).filter((n) => !MAILBOX.includes(n));
    for (const name of others) expect(fieldOffset(name) % LINE, name).toBe(0);
    const spans = RUN_PAGE_FIELDS.map((f) => [fieldOffset(f.name), endOf(f.name)] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThan(spans[i - 1][1]);
    expect(RUN_PAGE_BYTES % LINE).toBe(0);
    expect(spans[spans.length - 1][1]).toBeLessThan(RUN_PAGE_BYTES);
  });

  it("f64 fields are 8-byte aligned (a Float64Array view needs it)", () => {
    for (const f of RUN_PAGE_FIELDS) if (f.kind === "f64") expect(fieldOffset(f.name) % 8, f.name).toBe(0);
    expect(() => new RunPage()).not.toThrow();
  });

  it("the vCPU's and the main thread's counters are separate lines, summed when read", () => {
    const page = new RunPage();
    expect(lineOf("stats")).not.toBe(lineOf("mainStats"));
    expect(endOf("stats")).toBeLessThan(fieldOffset("mainStats"));
    expect(EXIT_STATS.length * 8).toBeLessThanOrEqual(64 * 8);
    page.stats[STAT.exits] = 5;
    page.mainStats[STAT.csr_exit] = 3;
    page.stats[STAT.csr_exit] = 1;
    const s = readStats(page);
    expect(s.exits).toBe(5);
    expect(s.csr_exit).toBe(4);
  });

  it("a fresh run page lives in page-aligned shared WebAssembly memory, so its lines are real cache lines", () => {
    const page = new RunPage();
    expect(page.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(page.buffer.byteLength % 65536).toBe(0);
    expect(page.buffer.byteLength).toBeGreaterThanOrEqual(RUN_PAGE_BYTES);
  });

  it("refuses a buffer too small for the layout", () => {
    expect(() => new RunPage(new SharedArrayBuffer(RUN_PAGE_BYTES - LINE))).toThrow(/too small/);
  });
});
