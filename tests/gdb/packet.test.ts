/*
 * GDB Remote Serial Protocol framing (GDB manual, appendix E "Overview",
 * "Binary Data"): checksums, escapes, and a reader that survives whatever
 * the wire brings.
 */

import { describe, expect, it } from "vitest";
import { MAX_PACKET, PacketReader, checksum, escapeBinary, framePacket, fromHex, parseHexBig, parseHexInt, toHex, unescapeBinary, type WireEvent } from "../../src/gdb/packet.ts";

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "latin1"));

/** A packet as GDB frames it: $data#checksum. */
function wire(data: string): string {
  return `$${data}#${checksum(data).toString(16).padStart(2, "0")}`;
}

describe("checksum", () => {
  it("is the sum of the data bytes modulo 256, as two hex digits on the wire", () => {
    // 'O' + 'K' = 0x4f + 0x4b = 0x9a
    expect(checksum("OK")).toBe(0x9a);
    expect(framePacket("OK").toString("latin1")).toBe("$OK#9a");
    expect(checksum("")).toBe(0);
    expect(checksum("\xff\xff")).toBe(0xfe);
  });
});

describe("binary escapes", () => {
  it("escapes '#', '$', '}' and '*' as '}' and the byte XOR 0x20", () => {
    expect(escapeBinary("a#b$c}d*e")).toBe("a}\x03b}\x04c}]d}\x0ae");
    expect(unescapeBinary(escapeBinary("a#b$c}d*e"))).toBe("a#b$c}d*e");
  });

  it("refuses data that ends inside an escape", () => {
    expect(unescapeBinary("ab}")).toBeUndefined();
  });

  it("frames a reply with its escaped bytes and their checksum", () => {
    const framed = framePacket("l<x*y>").toString("latin1");
    expect(framed).toBe(wire("l<x}\x0ay>"));
  });
});

describe("PacketReader", () => {
  it("finds packets, acks and the interrupt byte in one stream", () => {
    const r = new PacketReader();
    const events = r.feed(bytes(`+${wire("qSupported:multiprocess+")}-\x03`));
    expect(events).toEqual<WireEvent[]>([
      { kind: "ack" },
      { kind: "packet", data: "qSupported:multiprocess+" },
      { kind: "nak" },
      { kind: "interrupt" },
    ]);
  });

  it("reassembles a packet split across reads, one byte at a time", () => {
    const r = new PacketReader();
    const events: WireEvent[] = [];
    for (const b of bytes(wire("m80000000,4"))) events.push(...r.feed(Uint8Array.of(b)));
    expect(events).toEqual([{ kind: "packet", data: "m80000000,4" }]);
  });

  it("reports a wrong checksum, a non-hex checksum, and goes on with the next packet", () => {
    const r = new PacketReader();
    expect(r.feed(bytes("$g#00$g#zz"))).toEqual([{ kind: "bad-packet" }, { kind: "bad-packet" }]);
    expect(r.feed(bytes(wire("g")))).toEqual([{ kind: "packet", data: "g" }]);
  });

  it("ignores noise between packets, and a '$' inside a packet starts it over", () => {
    const r = new PacketReader();
    expect(r.feed(bytes(`garbage\n${"$abc"}${wire("?")}`))).toEqual([{ kind: "packet", data: "?" }]);
  });

  it("refuses a packet longer than MAX_PACKET without holding more than that", () => {
    const r = new PacketReader();
    const long = "X".repeat(MAX_PACKET + 10);
    expect(r.feed(bytes(wire(long)))).toEqual([{ kind: "bad-packet" }]);
    expect(r.feed(bytes(wire("?")))).toEqual([{ kind: "packet", data: "?" }]);
  });

  it("keeps binary bytes (X data) as they came: escapes are the command's to undo", () => {
    const r = new PacketReader();
    const data = `X80000000,2:${escapeBinary("\x23\x00")}`;
    expect(r.feed(bytes(wire(data)))).toEqual([{ kind: "packet", data }]);
  });
});

describe("hex", () => {
  it("round-trips bytes and refuses odd or non-hex text", () => {
    expect(toHex(Uint8Array.of(0, 0xab, 0x10))).toBe("00ab10");
    expect(fromHex("00ab10")).toEqual(Uint8Array.of(0, 0xab, 0x10));
    expect(fromHex("abc")).toBeUndefined();
    expect(fromHex("zz")).toBeUndefined();
  });

  it("parses 64-bit addresses exactly and bounds small numbers", () => {
    expect(parseHexBig("ffffffffc0000000")).toBe(0xffffffffc0000000n);
    expect(parseHexBig("1ffffffffffffffff")).toBeUndefined();
    expect(parseHexBig("")).toBeUndefined();
    expect(parseHexInt("20")).toBe(32);
    expect(parseHexInt("80000000")).toBeUndefined();
    expect(parseHexInt("-1")).toBeUndefined();
  });
});
