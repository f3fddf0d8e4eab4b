/*
 * The bits of IPv4, ICMP and UDP the user-network gateway needs: headers
 * read and built, the Internet checksum (RFC 1071).
 *
 *   IPv4 header (20 bytes, no options when built here):
 *    0 ver/ihl  1 tos  2 total length  4 id  6 flags/frag  8 ttl  9 proto
 *   10 checksum 12 source  16 destination
 */

export const IP_PROTO_ICMP = 1;
export const IP_PROTO_UDP = 17;
export const IPV4_HEADER = 20;
export const UDP_HEADER = 8;
const DEFAULT_TTL = 64;

/** One's-complement sum of 16-bit words over bytes[start, end), folded and inverted. */
export function internetChecksum(bytes: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if ((end - start) & 1) sum += bytes[end - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function ipFromBytes(b: Uint8Array, offset: number): number {
  return ((b[offset] << 24) | (b[offset + 1] << 16) | (b[offset + 2] << 8) | b[offset + 3]) >>> 0;
}

export function putIp(b: Uint8Array, offset: number, ip: number): void {
  b[offset] = ip >>> 24;
  b[offset + 1] = (ip >>> 16) & 0xff;
  b[offset + 2] = (ip >>> 8) & 0xff;
  b[offset + 3] = ip & 0xff;
}

export function putU16(b: Uint8Array, offset: number, v: number): void {
  b[offset] = (v >>> 8) & 0xff;
  b[offset + 1] = v & 0xff;
}

export function getU16(b: Uint8Array, offset: number): number {
  return (b[offset] << 8) | b[offset + 1];
}

/** "10.0.2.2" as a number. */
export function ip(text: string): number {
  const p = text.split(".").map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new RangeError(`not an IPv4 address: "${text}"`);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

/** An IPv4 packet (header + payload), header checksum filled in. */
export function buildIpv4(src: number, dst: number, proto: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(IPV4_HEADER + payload.length);
  p[0] = 0x45;
  putU16(p, 2, p.length);
  p[8] = DEFAULT_TTL;
  p[9] = proto;
  putIp(p, 12, src);
  putIp(p, 16, dst);
  putU16(p, 10, internetChecksum(p, 0, IPV4_HEADER));
  p.set(payload, IPV4_HEADER);
  return p;
}

/** A UDP datagram; checksum 0 (none), which IPv4 allows. */
export function buildUdp(srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const u = new Uint8Array(UDP_HEADER + payload.length);
  putU16(u, 0, srcPort);
  putU16(u, 2, dstPort);
  putU16(u, 4, u.length);
  u.set(payload, UDP_HEADER);
  return u;
}
