import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.ts";
import { parseNetdev, VirtualNetwork } from "../../src/net/netdevs.ts";
import { BCAST, labFrame, MAC_A, MAC_B } from "./frames.ts";

describe("--netdev registry", () => {
  it("parses QEMU's form", () => {
    expect(parseNetdev("user,id=n0")).toEqual({ kind: "user", id: "n0", options: {} });
    expect(parseNetdev("switch,id=s1,name=lab,user=on")).toEqual({ kind: "switch", id: "s1", options: { name: "lab", user: "on" } });
  });

  it.each([
    ["tap,id=t0", /unknown kind/],
    ["user", /needs id=/],
    ["user,id=n0,hostfwd=tcp::22-:22", /unknown option hostfwd/],
    ["user,id=n0,id=n1", /id given twice/],
    ["switch,id=s,bogus", /not key=value/],
  ])("refuses %s in one line", (text, msg) => {
    expect(() => parseNetdev(text)).toThrow(ConfigError);
    expect(() => parseNetdev(text)).toThrow(msg);
  });

  it("switch netdevs of several NICs meet on one named switch", () => {
    const net = new VirtualNetwork();
    const a = net.attach(parseNetdev("switch,id=a"));
    const b = net.attach(parseNetdev("switch,id=b"));
    const got: number[] = [];
    b.onReceive((f) => got.push(f[14]));
    a.send(labFrame(BCAST, MAC_A, 42));
    expect(got).toEqual([42]);
    expect(net.switchNamed("lan").portCount).toBe(2);
  });

  it("a netdev id serves one NIC", () => {
    const net = new VirtualNetwork();
    const spec = parseNetdev("user,id=n0");
    net.attach(spec);
    expect(() => net.attach(spec)).toThrow(/already used/);
  });

  it("sink and source netdevs are private switches with their endpoint", () => {
    const net = new VirtualNetwork();
    const toSink = net.attach(parseNetdev("sink,id=s"));
    toSink.send(labFrame(BCAST, MAC_B, 0, 64));
    expect(net.sinks.get("s")?.frames).toBe(1);
    const fromSource = net.attach(parseNetdev("source,id=r,size=128,pps=500"));
    const sizes: number[] = [];
    fromSource.onReceive((f) => sizes.push(f.length));
    net.sources.get("r")?.tick(0);
    expect(sizes).toEqual([128]);
    expect(() => net.attach(parseNetdev("source,id=q,size=9000"))).toThrow(/frame size/);
    expect(() => net.attach(parseNetdev("switch,id=u,user=maybe"))).toThrow(/user=maybe/);
    net.close();
  });
});
