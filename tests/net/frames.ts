/* Hand-built frames for the network tests. */

import { buildFrame, parseMac } from "../../src/net/ethernet.ts";

export const MAC_A = parseMac("52:54:00:00:00:0a");
export const MAC_B = parseMac("52:54:00:00:00:0b");
export const MAC_C = parseMac("52:54:00:00:00:0c");
export const BCAST = parseMac("ff:ff:ff:ff:ff:ff");

/** A lab frame (EtherType 0x88b5) of `size` bytes whose payload starts with `tag`. */
export function labFrame(dst: Uint8Array, src: Uint8Array, tag = 0, size = 60): Uint8Array {
  const payload = new Uint8Array(size - 14);
  payload[0] = tag;
  return buildFrame(dst, src, 0x88b5, payload);
}
