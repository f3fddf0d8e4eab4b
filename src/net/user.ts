/*
 * The `user` endpoint: QEMU's user-network gateway (slirp) as a guest
 * configured for QEMU's default network meets it. The network is
 * 10.0.2.0/24; the gateway is 10.0.2.2 and the DNS server 10.0.2.3, both
 * at slirp's MAC 52:55:0a:00:02:02. It answers
 *   - ARP requests for 10.0.2.2 and 10.0.2.3,
 *   - ICMP echo requests to either (an echo reply with the same data),
 *   - DHCP (dhcp.ts): the guest gets 10.0.2.15.
 * Everything else is counted and dropped: there is no way out to the host's
 * network (no NAT); the lab measures the guest side.
 */

import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, DhcpServer, parseDhcp } from "./dhcp.ts";
import { buildFrame, ETH_HEADER, ETH_MIN_FRAME, ETHERTYPE_ARP, ETHERTYPE_IPV4, etherType } from "./ethernet.ts";
import { buildIpv4, buildUdp, getU16, internetChecksum, ip, ipFromBytes, IP_PROTO_ICMP, IP_PROTO_UDP, IPV4_HEADER, putIp, putU16, UDP_HEADER } from "./ipv4.ts";
import type { SwitchPort } from "./port.ts";

const USER_GATEWAY_IP = ip("10.0.2.2");
const USER_DNS_IP = ip("10.0.2.3");
const USER_FIRST_LEASE = ip("10.0.2.15");
const USER_MASK = ip("255.255.255.0");
/** slirp's gateway MAC: 52:55 followed by the gateway's address. */
export const USER_GATEWAY_MAC = new Uint8Array([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);
const BROADCAST_IP = 0xffffffff;

const ARP_LENGTH = 28;
const ARP_REQUEST = 1;
const ARP_REPLY = 2;
const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;

export interface UserNetStats {
  arpReplies: number;
  echoReplies: number;
  dhcpReplies: number;
  /** Frames the gateway had nothing to say to. */
  ignored: number;
}

export class UserGateway {
  readonly stats: UserNetStats = { arpReplies: 0, echoReplies: 0, dhcpReplies: 0, ignored: 0 };
  private readonly dhcp = new DhcpServer({ server: USER_GATEWAY_IP, router: USER_GATEWAY_IP, dns: USER_DNS_IP, mask: USER_MASK, firstLease: USER_FIRST_LEASE });

  constructor(private readonly port: SwitchPort) {
    port.onReceive((f) => this.receive(f));
  }

  private receive(f: Uint8Array): void {
    if (f.length < ETH_HEADER) return;
    const type = etherType(f);
    const answered = type === ETHERTYPE_ARP ? this.arp(f) : type === ETHERTYPE_IPV4 ? this.ipv4(f) : false;
    if (!answered) this.stats.ignored++;
  }

  private ours(addr: number): boolean {
    return addr === USER_GATEWAY_IP || addr === USER_DNS_IP;
  }

  /** ARP for IPv4 over Ethernet (RFC 826): a request for one of our addresses gets our MAC. */
  private arp(f: Uint8Array): boolean {
    const a = ETH_HEADER;
    if (f.length < a + ARP_LENGTH || getU16(f, a) !== 1 || getU16(f, a + 2) !== ETHERTYPE_IPV4 || f[a + 4] !== 6 || f[a + 5] !== 4) return false;
    const target = ipFromBytes(f, a + 24);
    if (getU16(f, a + 6) !== ARP_REQUEST || !this.ours(target)) return false;
    const r = new Uint8Array(ARP_LENGTH);
    r.set(f.subarray(a, a + 6), 0); // htype, ptype, hlen, plen as asked
    putU16(r, 6, ARP_REPLY);
    r.set(USER_GATEWAY_MAC, 8);
    putIp(r, 14, target);
    r.set(f.subarray(a + 8, a + 18), 18); // the asker's MAC and address
    this.send(f.subarray(6, 12), ETHERTYPE_ARP, r);
    this.stats.arpReplies++;
    return true;
  }

  private ipv4(f: Uint8Array): boolean {
    const p = ETH_HEADER;
    if (f.length < p + IPV4_HEADER || f[p] >> 4 !== 4) return false;
    const ihl = (f[p] & 0x0f) * 4;
    const total = getU16(f, p + 2);
    if (ihl < IPV4_HEADER || total < ihl || p + total > f.length) return false;
    if (internetChecksum(f, p, p + ihl) !== 0) return false;
    const src = ipFromBytes(f, p + 12);
    const dst = ipFromBytes(f, p + 16);
    const body = f.subarray(p + ihl, p + total);
    if (f[p + 9] === IP_PROTO_ICMP && this.ours(dst)) return this.echo(f, src, dst, body);
    if (f[p + 9] === IP_PROTO_UDP && (dst === BROADCAST_IP || dst === USER_GATEWAY_IP)) return this.udp(f, body);
    return false;
  }

  /** ICMP echo (RFC 792): the same identifier, sequence and data back. */
  private echo(f: Uint8Array, src: number, dst: number, icmp: Uint8Array): boolean {
    if (icmp.length < 8 || icmp[0] !== ICMP_ECHO_REQUEST || internetChecksum(icmp, 0, icmp.length) !== 0) return false;
    const r = icmp.slice();
    r[0] = ICMP_ECHO_REPLY;
    putU16(r, 2, 0);
    putU16(r, 2, internetChecksum(r, 0, r.length));
    this.send(f.subarray(6, 12), ETHERTYPE_IPV4, buildIpv4(dst, src, IP_PROTO_ICMP, r));
    this.stats.echoReplies++;
    return true;
  }

  private udp(f: Uint8Array, udp: Uint8Array): boolean {
    if (udp.length < UDP_HEADER || getU16(udp, 2) !== DHCP_SERVER_PORT) return false;
    const len = getU16(udp, 4);
    if (len < UDP_HEADER || len > udp.length) return false;
    const req = parseDhcp(udp.subarray(UDP_HEADER, len));
    const reply = req === undefined ? undefined : this.dhcp.answer(req);
    if (reply === undefined) return false;
    // The client has no address yet: to its MAC, IP broadcast (what slirp does).
    this.send(f.subarray(6, 12), ETHERTYPE_IPV4, buildIpv4(USER_GATEWAY_IP, BROADCAST_IP, IP_PROTO_UDP, buildUdp(DHCP_SERVER_PORT, DHCP_CLIENT_PORT, reply)));
    this.stats.dhcpReplies++;
    return true;
  }

  private send(dst: Uint8Array, type: number, payload: Uint8Array): void {
    const frame = buildFrame(dst, USER_GATEWAY_MAC, type, payload);
    this.port.send(frame.length >= ETH_MIN_FRAME ? frame : padded(frame));
  }
}

function padded(frame: Uint8Array): Uint8Array {
  const p = new Uint8Array(ETH_MIN_FRAME);
  p.set(frame);
  return p;
}
