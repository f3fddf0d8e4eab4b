/*
 * Ethernet II framing, as the switch and the host endpoints read it:
 *
 *   0  destination MAC (6)   bit 0 of byte 0 set: group (broadcast/multicast)
 *   6  source MAC (6)
 *  12  EtherType (2, big-endian)
 *  14  payload (46..1500 on the wire; shorter frames here are not padded)
 */

export const ETH_HEADER = 14;
/** Smallest frame on the wire without FCS (a shorter one is padded by the sender). */
export const ETH_MIN_FRAME = 60;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
/** IEEE 802 "local experimental" EtherType: the lab's own test frames. */
export const ETHERTYPE_LAB = 0x88b5;
export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** A MAC address at `offset` as one number (48 bits fit a double exactly), for map keys. */
export function macKey(frame: Uint8Array, offset: number): number {
  let k = 0;
  for (let i = 0; i < 6; i++) k = k * 256 + frame[offset + i];
  return k;
}

/** Group addresses (broadcast and multicast) have the I/G bit, bit 0 of the first byte. */
export function isGroupMac(frame: Uint8Array, offset: number): boolean {
  return (frame[offset] & 1) !== 0;
}

/** "52:54:00:12:34:56" to bytes; throws a RangeError naming the text otherwise. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new RangeError(`not a MAC address: "${text}" (want xx:xx:xx:xx:xx:xx)`);
  return new Uint8Array(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(mac: Uint8Array, offset = 0): string {
  return Array.from(mac.subarray(offset, offset + 6), (b) => b.toString(16).padStart(2, "0")).join(":");
}

export function etherType(frame: Uint8Array): number {
  return (frame[12] << 8) | frame[13];
}

/** A frame with the given header and payload. */
export function buildFrame(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(ETH_HEADER + payload.length);
  f.set(dst.subarray(0, 6), 0);
  f.set(src.subarray(0, 6), 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(payload, ETH_HEADER);
  return f;
}
