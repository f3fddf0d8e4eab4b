import { describe, expect, it } from "vitest";
import { GuestImageError } from "../../src/errors.ts";
import {
  buildFdt,
  decodeCells,
  decodeString,
  decodeStrings,
  FDT_MAGIC,
  fdtNode,
  fdtToDts,
  findNode,
  getProp,
  parseFdt,
  parseFdtBlob,
  propBytes,
  propCells,
  propEmpty,
  propPhandle,
  propReg,
  propString,
  propStrings,
  propU32,
  propU64,
  rangesCells,
  type FdtNode,
} from "../../src/machine/fdt.ts";

function sampleTree(): FdtNode {
  return fdtNode(
    "",
    [propU32("#address-cells", 2), propU32("#size-cells", 2), propString("model", "test,board")],
    [
      fdtNode("memory@80000000", [propString("device_type", "memory"), propReg([{ addr: 0x8000_0000, size: 0x800_0000 }])]),
      fdtNode(
        "soc",
        [propEmpty("ranges"), propStrings("compatible", ["simple-bus"])],
        [
          fdtNode("uart@10000000", [
            propStrings("compatible", ["ns16550a", "ns16550"]),
            propU64("big", 0x1_2345_6789),
            propBytes("odd", new Uint8Array([1, 2, 3])),
            propPhandle(7),
          ]),
        ],
      ),
    ],
  );
}

/** Header field `index` (u32, big-endian). */
function header(blob: Uint8Array, index: number): number {
  return new DataView(blob.buffer, blob.byteOffset).getUint32(index * 4);
}

function poke32(blob: Uint8Array, offset: number, value: number): Uint8Array {
  new DataView(blob.buffer, blob.byteOffset).setUint32(offset, value);
  return blob;
}

describe("buildFdt: the DTB v17 layout (DT spec ch. 5)", () => {
  const blob = buildFdt(sampleTree(), { bootCpuid: 3, reserve: [{ addr: 0x8000_0000, size: 0x20_0000 }] });

  it("writes a v17 header whose totalsize is the blob's length", () => {
    expect(header(blob, 0)).toBe(FDT_MAGIC);
    expect(header(blob, 1)).toBe(blob.length);
    expect(header(blob, 5)).toBe(17);
    expect(header(blob, 6)).toBe(16);
    expect(header(blob, 7)).toBe(3);
  });

  it("places the reservation block 8-aligned and the structure block 4-aligned", () => {
    expect(header(blob, 4) % 8).toBe(0);
    expect(header(blob, 2) % 4).toBe(0);
    expect(header(blob, 9) % 4).toBe(0);
    expect(header(blob, 3)).toBe(header(blob, 2) + header(blob, 9));
  });

  it("stores each property name once in the strings block", () => {
    const strings = new TextDecoder().decode(blob.subarray(header(blob, 3), header(blob, 3) + header(blob, 8)));
    expect(strings.split("\0").filter((s) => s === "compatible")).toHaveLength(1);
    expect(strings.split("\0").filter((s) => s === "device_type")).toHaveLength(1);
  });

  it("round-trips through parseFdt", () => {
    const parsed = parseFdtBlob(blob);
    expect(parsed.root).toEqual(sampleTree());
    expect(parsed.bootCpuid).toBe(3);
    expect(parsed.reserve).toEqual([{ addr: 0x8000_0000, size: 0x20_0000 }]);
    expect(parsed.version).toBe(17);
  });

  it("refuses names the spec does not allow, and duplicates", () => {
    expect(() => buildFdt(fdtNode("", [], [fdtNode("bad name")]))).toThrow(RangeError);
    expect(() => buildFdt(fdtNode("", [propU32("x y", 1)]))).toThrow(RangeError);
    expect(() => buildFdt(fdtNode("", [propU32("a", 1), propU32("a", 2)]))).toThrow(/appears twice/);
    expect(() => buildFdt(fdtNode("", [], [fdtNode("n"), fdtNode("n")]))).toThrow(/appears twice/);
  });
});

describe("property helpers", () => {
  it("encode u32, u64 (two cells, high first), reg and ranges as big-endian cells", () => {
    expect(Array.from(propU32("x", 0x0102_0304).value)).toEqual([1, 2, 3, 4]);
    expect(decodeCells(propU64("x", 0x1_0000_0002).value)).toEqual([1, 2]);
    expect(decodeCells(propReg([{ addr: 0x1000_0000, size: 0x100 }]).value)).toEqual([0, 0x1000_0000, 0, 0x100]);
    expect(decodeCells(propReg([{ addr: 0x1000, size: 0x10 }], 1, 1).value)).toEqual([0x1000, 0x10]);
    expect(rangesCells([{ child: 0, parent: 0x400_0000, size: 0x200_0000 }], 1, 2, 1)).toEqual([0, 0, 0x400_0000, 0x200_0000]);
  });

  it("encode string lists NUL-separated and boolean properties empty", () => {
    const compat = propStrings("compatible", ["sifive,plic-1.0.0", "riscv,plic0"]).value;
    expect(new TextDecoder().decode(compat)).toBe("sifive,plic-1.0.0\0riscv,plic0\0");
    expect(decodeStrings(compat)).toEqual(["sifive,plic-1.0.0", "riscv,plic0"]);
    expect(decodeString(propString("s", "okay").value)).toBe("okay");
    expect(propEmpty("interrupt-controller").value.length).toBe(0);
  });

  it("refuse cells that are not u32 and numbers that do not fit their cells", () => {
    expect(() => propCells("x", [-1])).toThrow(RangeError);
    expect(() => propCells("x", [2 ** 32])).toThrow(RangeError);
    expect(() => propReg([{ addr: 2 ** 32, size: 1 }], 1, 1)).toThrow(RangeError);
  });
});

describe("lookups and printing", () => {
  const root = parseFdt(buildFdt(sampleTree()));

  it("findNode follows an absolute path", () => {
    expect(findNode(root, "/soc/uart@10000000")?.name).toBe("uart@10000000");
    expect(findNode(root, "/")).toBe(root);
    expect(findNode(root, "/soc/nothing")).toBeUndefined();
  });

  it("getProp returns a property's bytes", () => {
    expect(decodeString(getProp(findNode(root, "/memory@80000000")!, "device_type")!)).toBe("memory");
    expect(getProp(root, "absent")).toBeUndefined();
  });

  it("fdtToDts prints strings, cells and bytes the way dtc does", () => {
    const dts = fdtToDts(root);
    expect(dts).toContain("\tmodel = \"test,board\";");
    expect(dts).toContain("\t\treg = <0x0 0x80000000 0x0 0x8000000>;");
    expect(dts).toContain("\t\tranges;");
    expect(dts).toContain('compatible = "ns16550a", "ns16550";');
    expect(dts).toContain("odd = [01 02 03];");
  });
});

describe("parseFdt: garbage is a GuestImageError", () => {
  const good = (): Uint8Array => buildFdt(sampleTree());
  const structOff = (b: Uint8Array): number => header(b, 2);

  const cases: [string, () => Uint8Array, RegExp][] = [
    ["a blob shorter than the header", () => good().subarray(0, 39), /too short/],
    ["a bad magic", () => poke32(good(), 0, 0xdeadbeef), /bad magic 0xdeadbeef/],
    ["a totalsize larger than the blob", () => poke32(good(), 4, 0x10_0000), /totalsize/],
    ["an old version", () => poke32(good(), 20, 3), /unsupported version 3/],
    ["a structure block outside the blob", () => poke32(good(), 36, 0x10_0000), /structure block/],
    ["a strings block outside the blob", () => poke32(good(), 12, 0xffff_fff0), /strings block/],
    ["an unknown token", () => { const b = good(); return poke32(b, structOff(b), 0x77); }, /unknown token 0x77/],
    ["a structure block without FDT_END", () => { const b = good(); return poke32(b, 36, header(b, 9) - 4); }, /without FDT_END/],
    [
      "a property name offset outside the strings block",
      () => { const b = good(); return poke32(b, structOff(b) + 8 + 8, 0xffff); },
      /name offset outside/,
    ],
    [
      "a property length running past the block",
      () => { const b = good(); return poke32(b, structOff(b) + 8 + 4, 0xffff_ff00); },
      /runs past/,
    ],
    ["a reservation block without a terminator", () => poke32(good(), 16, 0xffff_fff8), /reservation/],
  ];
  for (const [what, make, message] of cases) {
    it(`rejects ${what}`, () => {
      const blob = make();
      expect(() => parseFdt(blob)).toThrow(GuestImageError);
      expect(() => parseFdt(blob)).toThrow(message);
    });
  }

  it("rejects nesting deeper than its bound instead of recursing without end", () => {
    let node = fdtNode("leaf");
    for (let i = 0; i < 100; i++) node = fdtNode(`n${i}`, [], [node]);
    expect(() => parseFdt(buildFdt(fdtNode("", [], [node])))).toThrow(/nest deeper/);
  });
});
