import { describe, expect, it } from "vitest";
import { Switch } from "../../src/net/switch.ts";
import { BCAST, labFrame, MAC_A, MAC_B, MAC_C } from "./frames.ts";

function listen(sw: Switch, name: string) {
  const port = sw.attach(name);
  const got: number[] = [];
  port.onReceive((f) => got.push(f[14]));
  return { port, got };
}

describe("virtual L2 switch", () => {
  it("floods a broadcast to every port but the sender", () => {
    const sw = new Switch();
    const a = listen(sw, "a");
    const b = listen(sw, "b");
    const c = listen(sw, "c");
    a.port.send(labFrame(BCAST, MAC_A, 1));
    expect(a.got).toEqual([]);
    expect(b.got).toEqual([1]);
    expect(c.got).toEqual([1]);
  });

  it("floods unknown unicast, then learns and forwards only to the learned port", () => {
    const sw = new Switch();
    const a = listen(sw, "a");
    const b = listen(sw, "b");
    const c = listen(sw, "c");
    a.port.send(labFrame(MAC_B, MAC_A, 1)); // B unknown: flooded; A learned
    expect(b.got).toEqual([1]);
    expect(c.got).toEqual([1]);
    b.port.send(labFrame(MAC_A, MAC_B, 2)); // A known: only to a; B learned
    expect(a.got).toEqual([2]);
    expect(c.got).toEqual([1]);
    a.port.send(labFrame(MAC_B, MAC_A, 3));
    expect(b.got).toEqual([1, 3]);
    expect(c.got).toEqual([1]);
    expect(sw.portOf(MAC_A)).toBe(a.port);
    expect(sw.stats.flooded).toBe(1);
  });

  it("a MAC that moves is learned again on its new port", () => {
    const sw = new Switch();
    const a = listen(sw, "a");
    const b = listen(sw, "b");
    const c = listen(sw, "c");
    a.port.send(labFrame(BCAST, MAC_C, 0));
    expect(sw.portOf(MAC_C)).toBe(a.port);
    b.port.send(labFrame(BCAST, MAC_C, 0));
    expect(sw.portOf(MAC_C)).toBe(b.port);
    a.port.send(labFrame(MAC_C, MAC_A, 7));
    expect(b.got).toContain(7);
    expect(c.got).not.toContain(7);
  });

  it("drops a frame for the port it came from, and runts", () => {
    const sw = new Switch();
    const a = listen(sw, "a");
    const b = listen(sw, "b");
    a.port.send(labFrame(BCAST, MAC_A, 0));
    b.got.length = 0;
    a.port.send(labFrame(MAC_A, MAC_B, 5)); // to A, which lives on a's own port
    expect(a.got).toEqual([]);
    expect(b.got).toEqual([]);
    a.port.send(new Uint8Array(10));
    expect(sw.stats.malformed).toBe(1);
  });

  it("a destination that does not drain fills its bounded ring; the drops are counted", () => {
    const sw = new Switch();
    const a = sw.attach("a");
    const slow = sw.attach("slow", 4); // no handler: frames wait in its ring
    for (let i = 0; i < 10; i++) a.send(labFrame(BCAST, MAC_A, i));
    expect(slow.toNic.length).toBe(4);
    expect(sw.stats.rxRingFull).toBe(6);
    const got: number[] = [];
    slow.onReceive((f) => got.push(f[14]));
    expect(got).toEqual([0, 1, 2, 3]);
  });

  it("two endpoints answering each other forever cannot hang the switch: each pump is bounded", () => {
    const sw = new Switch();
    const a = sw.attach("a");
    const b = sw.attach("b");
    let echoes = 0;
    a.onReceive((f) => (echoes++, a.send(f.slice())));
    b.onReceive((f) => (echoes++, b.send(f.slice())));
    a.send(labFrame(BCAST, MAC_A, 1));
    expect(echoes).toBeGreaterThan(100);
    expect(echoes).toBeLessThanOrEqual(4096);
  });

  it("a guest spraying source MACs cannot grow the learning table without bound; the oldest go first", () => {
    const sw = new Switch();
    const a = sw.attach("a");
    sw.attach("b");
    const f = labFrame(BCAST, MAC_A, 0);
    for (let i = 0; i < 10_000; i++) {
      f[9] = i >> 16;
      f[10] = (i >> 8) & 0xff;
      f[11] = i & 0xff;
      a.send(f);
    }
    expect(sw.macCount).toBe(4096);
    expect(sw.portOf(new Uint8Array([0x52, 0x54, 0x00, 0x00, 0x00, 0x00]))).toBeUndefined();
    expect(sw.portOf(new Uint8Array([0x52, 0x54, 0x00, 0x00, 0x27, 0x0f]))).toBe(a);
  });
});
