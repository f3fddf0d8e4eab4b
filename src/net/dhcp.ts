/*
 * The DHCP server of the user-network gateway (RFC 2131), as QEMU's slirp
 * runs one: the first client gets 10.0.2.15, the next .16, and so on
 * (MAX_LEASES at most); every answer names router 10.0.2.2, DNS 10.0.2.3
 * and mask 255.255.255.0.
 *
 *   BOOTP message (UDP 68 -> 67 and back):
 *     0 op (1 request, 2 reply)  1 htype (1)  2 hlen (6)  3 hops
 *     4 xid  8 secs  10 flags (0x8000: broadcast)  12 ciaddr  16 yiaddr
 *    20 siaddr  24 giaddr  28 chaddr (16)  44 sname (64)  108 file (128)
 *   236 magic cookie 99.130.83.99  240 options: code, length, value ... 255
 */

import { getU16, ipFromBytes, putIp, putU16 } from "./ipv4.ts";

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
const BOOTP_REQUEST = 1;
const BOOTP_REPLY = 2;
const BOOTP_FIXED = 236;
const MAGIC_COOKIE = 0x63825363;
const OPTIONS_AT = 240;

// Options (RFC 2132).
const OPT_PAD = 0;
const OPT_SUBNET_MASK = 1;
const OPT_ROUTER = 3;
const OPT_DNS = 6;
const OPT_REQUESTED_IP = 50;
const OPT_LEASE_TIME = 51;
const OPT_MESSAGE_TYPE = 53;
const OPT_SERVER_ID = 54;
const OPT_END = 255;

const DHCP_DISCOVER = 1;
const DHCP_OFFER = 2;
const DHCP_REQUEST = 3;
const DHCP_ACK = 5;
const DHCP_NAK = 6;

/** Leases handed out at most (slirp's NB_BOOTP_CLIENTS). */
const MAX_LEASES = 16;
/** Lease time in seconds (slirp's one day). */
const LEASE_SECONDS = 86400;

export interface DhcpNetwork {
  readonly server: number;
  readonly router: number;
  readonly dns: number;
  readonly mask: number;
  /** The first address handed out. */
  readonly firstLease: number;
}

/** What one BOOTP request asked, read with every length checked. */
export interface DhcpRequest {
  readonly type: number;
  readonly xid: number;
  readonly flags: number;
  readonly ciaddr: number;
  readonly chaddr: Uint8Array;
  readonly requested: number | undefined;
}

/** Reads a BOOTP request; undefined for anything that is not a well-formed DHCP request. */
export function parseDhcp(m: Uint8Array): DhcpRequest | undefined {
  if (m.length < OPTIONS_AT || m[0] !== BOOTP_REQUEST || m[1] !== 1 || m[2] !== 6) return undefined;
  if (ipFromBytes(m, BOOTP_FIXED) !== MAGIC_COOKIE) return undefined;
  let type: number | undefined;
  let requested: number | undefined;
  // Each option is at least one byte, so the walk ends within the message.
  for (let i = OPTIONS_AT; i < m.length; ) {
    const code = m[i];
    if (code === OPT_END) break;
    if (code === OPT_PAD) {
      i++;
      continue;
    }
    if (i + 1 >= m.length) return undefined;
    const len = m[i + 1];
    if (i + 2 + len > m.length) return undefined;
    if (code === OPT_MESSAGE_TYPE && len === 1) type = m[i + 2];
    if (code === OPT_REQUESTED_IP && len === 4) requested = ipFromBytes(m, i + 2);
    i += 2 + len;
  }
  if (type === undefined) return undefined;
  return { type, xid: ipFromBytes(m, 4), flags: getU16(m, 10), ciaddr: ipFromBytes(m, 12), chaddr: m.slice(28, 34), requested };
}

export class DhcpServer {
  /** Client MAC (as hex text) -> its address. */
  private readonly leases = new Map<string, number>();

  constructor(private readonly net: DhcpNetwork) {}

  /** The BOOTP reply to a request, or undefined when there is none to give (not DISCOVER/REQUEST, or no address left). */
  answer(req: DhcpRequest): Uint8Array | undefined {
    const lease = this.leaseFor(req.chaddr);
    if (req.type === DHCP_DISCOVER) return lease === undefined ? undefined : this.reply(req, DHCP_OFFER, lease);
    if (req.type !== DHCP_REQUEST) return undefined;
    const asked = req.requested ?? req.ciaddr;
    if (lease === undefined || (asked !== 0 && asked !== lease)) return this.reply(req, DHCP_NAK, 0);
    return this.reply(req, DHCP_ACK, lease);
  }

  private leaseFor(chaddr: Uint8Array): number | undefined {
    const key = Array.from(chaddr, (b) => b.toString(16).padStart(2, "0")).join("");
    const known = this.leases.get(key);
    if (known !== undefined) return known;
    if (this.leases.size >= MAX_LEASES) return undefined;
    const addr = (this.net.firstLease + this.leases.size) >>> 0;
    this.leases.set(key, addr);
    return addr;
  }

  private reply(req: DhcpRequest, type: number, yiaddr: number): Uint8Array {
    const opts: number[][] = [[OPT_MESSAGE_TYPE, 1, type], [OPT_SERVER_ID, 4, ...bytes4(this.net.server)]];
    if (type !== DHCP_NAK) {
      opts.push([OPT_LEASE_TIME, 4, ...bytes4(LEASE_SECONDS)], [OPT_SUBNET_MASK, 4, ...bytes4(this.net.mask)]);
      opts.push([OPT_ROUTER, 4, ...bytes4(this.net.router)], [OPT_DNS, 4, ...bytes4(this.net.dns)]);
    }
    const flat = [...opts.flat(), OPT_END];
    const m = new Uint8Array(OPTIONS_AT + flat.length);
    m[0] = BOOTP_REPLY;
    m[1] = 1;
    m[2] = 6;
    putIp(m, 4, req.xid);
    putU16(m, 10, req.flags);
    putIp(m, 16, yiaddr);
    putIp(m, 20, this.net.server);
    m.set(req.chaddr, 28);
    putIp(m, BOOTP_FIXED, MAGIC_COOKIE);
    m.set(flat, OPTIONS_AT);
    return m;
  }
}

function bytes4(v: number): number[] {
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}
