/*
 * The note for a text file given as the image (src/cli/image-hint.ts): said
 * for text in any language, never for machine code, an ELF or data.
 */

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { textImageNote } from "../../src/cli/image-hint.ts";
import { enc } from "../../src/isa/encode.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("textImageNote", () => {
  it("names a text file, ASCII or not", () => {
    expect(textImageNote("README.md", utf8("# popek\n\nA lab.\r\n\tindented — µs\n"))).toMatch(/^popek: README\.md is text, not an ELF/);
  });

  it("looks at the first 4 KiB only, wherever a UTF-8 sequence straddles that end", () => {
    for (let pad = 4090; pad <= 4096; pad++) {
      const bytes = utf8("a".repeat(pad) + "µ".repeat(10) + "\u0001");
      expect(textImageNote("long.txt", bytes)).toBeDefined();
    }
  });

  it("says nothing of a RISC-V program, an ELF, data, or an empty file", () => {
    const program = new Uint8Array(new Uint32Array([enc.addi(1, 0, 1), enc.lui(2, 0x80000), enc.sw(2, 1, 0), enc.ebreak()]).buffer);
    expect(textImageNote("flat.bin", program)).toBeUndefined();
    expect(textImageNote("hello.elf", readFileSync("guests/bin/hello.elf"))).toBeUndefined();
    expect(textImageNote("zeros.bin", new Uint8Array(64))).toBeUndefined();
    expect(textImageNote("latin1.txt", Uint8Array.of(0x61, 0xe9, 0x62))).toBeUndefined(); // not UTF-8: not what we call text
    expect(textImageNote("empty", new Uint8Array(0))).toBeUndefined();
  });
});
