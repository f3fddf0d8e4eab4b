/*
 * HTIF (src/machine/htif.ts): the one implementation the native board and
 * every VM poll, tested on a plain word memory.
 */

import { describe, expect, it } from "vitest";
import { htifSymbols, pollHtif, type HtifMemory } from "../../src/machine/htif.ts";

const TOHOST = 0x8000_1000;
const FROMHOST = 0x8000_1008;

function memory(): HtifMemory & { words: Map<number, number> } {
  const words = new Map<number, number>();
  return {
    words,
    readWord: (gpa) => (gpa >= 0x8000_0000 ? (words.get(gpa) ?? 0) : undefined),
    writeWord: (gpa, v) => void words.set(gpa, v | 0),
  };
}

const AT = { tohost: TOHOST, fromhost: FROMHOST };

describe("HTIF", () => {
  it("tohost = (code << 1) | 1 ends the program with code; the word is cleared", () => {
    const m = memory();
    m.words.set(TOHOST, (3 << 1) | 1);
    expect(pollHtif(m, AT, () => {})).toBe(3);
    expect(m.words.get(TOHOST)).toBe(0);
  });

  it("tohost = 1 is a pass (code 0); an exit code keeps its low 8 bits, as a process status does", () => {
    const m = memory();
    m.words.set(TOHOST, 1);
    expect(pollHtif(m, AT, () => {})).toBe(0);
    m.words.set(TOHOST, (0x1ff << 1) | 1);
    expect(pollHtif(m, AT, () => {})).toBe(0xff);
  });

  it("a console putchar (device 1, command 1) prints its byte and is acknowledged in fromhost", () => {
    const m = memory();
    const out: number[] = [];
    m.words.set(TOHOST, 0x41);
    m.words.set(TOHOST + 4, (1 << 24) | (1 << 16));
    expect(pollHtif(m, AT, (b) => out.push(b))).toBeUndefined();
    expect(out).toEqual([0x41]);
    expect([m.words.get(FROMHOST), m.words.get(FROMHOST + 4)]).toEqual([1, (1 << 24) | (1 << 16)]);
    expect([m.words.get(TOHOST), m.words.get(TOHOST + 4)]).toEqual([0, 0]);
  });

  it("zero, an unknown command, or a tohost outside memory does nothing (an unknown one is cleared)", () => {
    const m = memory();
    expect(pollHtif(m, AT, () => {})).toBeUndefined();
    m.words.set(TOHOST + 4, 7 << 24);
    expect(pollHtif(m, AT, () => {})).toBeUndefined();
    expect(m.words.get(TOHOST + 4)).toBe(0);
    expect(pollHtif(m, { tohost: 0x1000, fromhost: undefined }, () => {})).toBeUndefined();
  });

  it("finds tohost and fromhost among an ELF's symbols; a misaligned or missing tohost is none", () => {
    expect(htifSymbols(new Map([["tohost", TOHOST], ["fromhost", FROMHOST]]))).toEqual(AT);
    expect(htifSymbols(new Map([["tohost", TOHOST]]))).toEqual({ tohost: TOHOST, fromhost: undefined });
    expect(htifSymbols(new Map([["tohost", TOHOST + 4]]))).toBeUndefined();
    expect(htifSymbols(new Map())).toBeUndefined();
  });
});
