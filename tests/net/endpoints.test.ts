import { describe, expect, it } from "vitest";
import { buildFrame, ETHERTYPE_ARP, ETHERTYPE_IPV4, formatMac } from "../../src/net/ethernet.ts";
import { buildIpv4, buildUdp, getU16, internetChecksum, ip, ipFromBytes, IP_PROTO_ICMP, IP_PROTO_UDP, putIp, putU16 } from "../../src/net/ipv4.ts";
import { FrameSink } from "../../src/net/sink.ts";
import { FrameSource } from "../../src/net/source.ts";
import { Switch } from "../../src/net/switch.ts";
import { USER_GATEWAY_MAC, UserGateway } from "../../src/net/user.ts";
import { BCAST, labFrame, MAC_A, MAC_B } from "./frames.ts";

describe("sink endpoint", () => {
  it("counts frames and bytes", () => {
    const sw = new Switch();
    const sink = new FrameSink(sw.attach("sink"));
    const a = sw.attach("a");
    a.send(labFrame(BCAST, MAC_A, 0, 64));
    a.send(labFrame(BCAST, MAC_A, 0, 1514));
    expect(sink.frames).toBe(2);
    expect(sink.bytes).toBe(64 + 1514);
  });
});

describe("source endpoint", () => {
  it("sends frames of the given size at the given rate (on the clock it is given)", () => {
    const sw = new Switch();
    const sizes: number[] = [];
    const seqs: number[] = [];
    sw.attach("nic").onReceive((f) => (sizes.push(f.length), seqs.push(ipFromBytes(f, 14))));
    const src = new FrameSource(sw.attach("src"), { size: 100, pps: 1000, mac: MAC_B });
    src.tick(0);
    src.tick(10); // 10 ms at 1000/s: frames 0..10
    expect(src.sent).toBe(11);
    src.tick(10);
    expect(src.sent).toBe(11);
    expect(sizes.every((s) => s === 100)).toBe(true);
    expect(seqs).toEqual(Array.from({ length: 11 }, (_, i) => i));
  });

  it("refuses frame sizes and rates it cannot honour", () => {
    const port = new Switch().attach("x");
    expect(() => new FrameSource(port, { size: 13, pps: 1, mac: MAC_A })).toThrow(/frame size/);
    expect(() => new FrameSource(port, { size: 1519, pps: 1, mac: MAC_A })).toThrow(/frame size/);
    expect(() => new FrameSource(port, { size: 64, pps: 0, mac: MAC_A })).toThrow(/rate/);
  });
});

/** A guest's view: one port on a switch with the gateway, every frame it receives kept. */
function guestOnUserNet() {
  const sw = new Switch();
  const gw = new UserGateway(sw.attach("user"));
  const port = sw.attach("guest");
  const got: Uint8Array[] = [];
  port.onReceive((f) => got.push(f.slice()));
  return { gw, port, got };
}

function arpRequest(targetIp: string): Uint8Array {
  const a = new Uint8Array(28);
  putU16(a, 0, 1);
  putU16(a, 2, 0x0800);
  a[4] = 6;
  a[5] = 4;
  putU16(a, 6, 1);
  a.set(MAC_A, 8);
  putIp(a, 14, ip("10.0.2.15"));
  putIp(a, 24, ip(targetIp));
  return buildFrame(BCAST, MAC_A, ETHERTYPE_ARP, a);
}

function dhcpMessage(type: number, requested?: string): Uint8Array {
  const opts = [53, 1, type, ...(requested === undefined ? [] : [50, 4, ...requested.split(".").map(Number)]), 255];
  const m = new Uint8Array(240 + opts.length);
  m[0] = 1;
  m[1] = 1;
  m[2] = 6;
  putIp(m, 4, 0x1234abcd);
  m.set(MAC_A, 28);
  putIp(m, 236, 0x63825363);
  m.set(opts, 240);
  return buildFrame(BCAST, MAC_A, ETHERTYPE_IPV4, buildIpv4(0, 0xffffffff, IP_PROTO_UDP, buildUdp(68, 67, m)));
}

/** The DHCP options of a reply frame, by code. */
function dhcpReply(f: Uint8Array): { yiaddr: number; xid: number; opts: Map<number, number[]> } {
  const m = f.subarray(14 + 20 + 8);
  const opts = new Map<number, number[]>();
  for (let i = 240; m[i] !== 255; i += 2 + m[i + 1]) opts.set(m[i], [...m.subarray(i + 2, i + 2 + m[i + 1])]);
  return { yiaddr: ipFromBytes(m, 16), xid: ipFromBytes(m, 4), opts };
}

describe("user endpoint (QEMU's user-network gateway)", () => {
  it("10.0.2.2 answers ARP with slirp's MAC", () => {
    const { port, got, gw } = guestOnUserNet();
    port.send(arpRequest("10.0.2.2"));
    expect(got).toHaveLength(1);
    const r = got[0];
    expect(formatMac(r, 0)).toBe(formatMac(MAC_A));
    expect(getU16(r, 12)).toBe(ETHERTYPE_ARP);
    expect(getU16(r, 14 + 6)).toBe(2); // reply
    expect(formatMac(r, 14 + 8)).toBe("52:55:0a:00:02:02");
    expect(ipFromBytes(r, 14 + 14)).toBe(ip("10.0.2.2"));
    expect(ipFromBytes(r, 14 + 24)).toBe(ip("10.0.2.15"));
    expect(r.length).toBe(60);
    expect(gw.stats.arpReplies).toBe(1);
  });

  it("ARP for an address that is not the gateway's gets no answer", () => {
    const { port, got, gw } = guestOnUserNet();
    port.send(arpRequest("10.0.2.77"));
    expect(got).toHaveLength(0);
    expect(gw.stats.ignored).toBe(1);
  });

  it("answers an ICMP echo request to 10.0.2.2 with the same id, sequence and data", () => {
    const { port, got } = guestOnUserNet();
    const icmp = new Uint8Array(16);
    icmp[0] = 8;
    putU16(icmp, 4, 0x77);
    putU16(icmp, 6, 3);
    icmp.set([1, 2, 3, 4, 5, 6, 7, 8], 8);
    putU16(icmp, 2, internetChecksum(icmp, 0, icmp.length));
    port.send(buildFrame(USER_GATEWAY_MAC, MAC_A, ETHERTYPE_IPV4, buildIpv4(ip("10.0.2.15"), ip("10.0.2.2"), IP_PROTO_ICMP, icmp)));
    expect(got).toHaveLength(1);
    const reply = got[0].subarray(14 + 20, 14 + 20 + 16);
    expect(reply[0]).toBe(0);
    expect(getU16(reply, 4)).toBe(0x77);
    expect(getU16(reply, 6)).toBe(3);
    expect([...reply.subarray(8)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(internetChecksum(reply, 0, 16)).toBe(0);
    expect(internetChecksum(got[0], 14, 34)).toBe(0);
    expect(ipFromBytes(got[0], 14 + 16)).toBe(ip("10.0.2.15"));
  });

  it("ignores an echo request with a bad checksum", () => {
    const { port, got } = guestOnUserNet();
    const icmp = new Uint8Array(8);
    icmp[0] = 8;
    port.send(buildFrame(USER_GATEWAY_MAC, MAC_A, ETHERTYPE_IPV4, buildIpv4(ip("10.0.2.15"), ip("10.0.2.2"), IP_PROTO_ICMP, icmp)));
    expect(got).toHaveLength(0);
  });

  it("DHCP: DISCOVER gets an OFFER of 10.0.2.15, REQUEST an ACK with router, DNS and mask", () => {
    const { port, got } = guestOnUserNet();
    port.send(dhcpMessage(1));
    expect(got).toHaveLength(1);
    const offer = dhcpReply(got[0]);
    expect(offer.xid).toBe(0x1234abcd);
    expect(offer.opts.get(53)).toEqual([2]);
    expect(offer.yiaddr).toBe(ip("10.0.2.15"));
    expect(getU16(got[0], 14 + 20)).toBe(67);
    expect(getU16(got[0], 14 + 22)).toBe(68);
    port.send(dhcpMessage(3, "10.0.2.15"));
    const ack = dhcpReply(got[1]);
    expect(ack.opts.get(53)).toEqual([5]);
    expect(ack.yiaddr).toBe(ip("10.0.2.15"));
    expect(ack.opts.get(3)).toEqual([10, 0, 2, 2]);
    expect(ack.opts.get(6)).toEqual([10, 0, 2, 3]);
    expect(ack.opts.get(1)).toEqual([255, 255, 255, 0]);
    expect(ack.opts.get(54)).toEqual([10, 0, 2, 2]);
  });

  it("DHCP: a REQUEST for another address gets a NAK", () => {
    const { port, got } = guestOnUserNet();
    port.send(dhcpMessage(3, "10.0.2.99"));
    expect(dhcpReply(got[0]).opts.get(53)).toEqual([6]);
  });

  it("DHCP: a truncated option list is ignored, not read past its end", () => {
    const { port, got, gw } = guestOnUserNet();
    const f = dhcpMessage(1);
    // Option 53 claims 200 bytes the message does not have.
    f[14 + 20 + 8 + 241] = 200;
    port.send(f);
    expect(got).toHaveLength(0);
    expect(gw.stats.ignored).toBe(1);
  });
});
