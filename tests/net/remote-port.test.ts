/*
 * A switch port whose NIC lives in another thread: frames through the same
 * shared rings, and a doorbell word each way instead of a direct call. Here
 * both ends are on this thread; the e2e tests run the NIC end in a worker.
 */

import { describe, expect, it } from "vitest";
import { BROADCAST_MAC, buildFrame, ETHERTYPE_LAB } from "../../src/net/ethernet.ts";
import { WorkerPort } from "../../src/net/remote-port.ts";
import { FrameSink } from "../../src/net/sink.ts";
import { Switch } from "../../src/net/switch.ts";
import { until } from "../helpers/until.ts";

const MAC_NIC = new Uint8Array([0x52, 0x54, 0x00, 0x00, 0x00, 0x01]);
const MAC_PEER = new Uint8Array([0x52, 0x54, 0x00, 0x00, 0x00, 0x02]);

describe("cross-thread switch port", () => {
  it("frames the NIC pushes reach the switch when it rings, once per batch", async () => {
    const sw = new Switch();
    const sink = new FrameSink(sw.attach("sink"));
    const remote = sw.attachRemote("nic");
    const nic = new WorkerPort(remote.handle);
    for (let i = 0; i < 5; i++) expect(nic.trySend(buildFrame(BROADCAST_MAC, MAC_NIC, ETHERTYPE_LAB, new Uint8Array(50)))).toBe(true);
    expect(sink.frames).toBe(0); // nothing moves before the bell
    nic.ring();
    await until("the switch to take 5 frames", () => sink.frames === 5);
    remote.close();
  });

  it("frames for the NIC wait in its ring and its bell is rung; a closed port is unplugged", () => {
    const sw = new Switch();
    const peer = sw.attach("peer");
    const remote = sw.attachRemote("nic");
    const nic = new WorkerPort(remote.handle);
    const seq = nic.seq;
    peer.send(buildFrame(BROADCAST_MAC, MAC_PEER, ETHERTYPE_LAB, new Uint8Array(50)));
    expect(nic.seq).not.toBe(seq);
    const got: number[] = [];
    expect(nic.toNic.drain((f) => got.push(f.length))).toBe(1);
    expect(got).toEqual([64]);
    remote.close();
    expect(sw.portCount).toBe(1);
    peer.send(buildFrame(BROADCAST_MAC, MAC_PEER, ETHERTYPE_LAB, new Uint8Array(50)));
    expect(nic.toNic.length).toBe(0);
  });

  it("a full ring refuses the frame (the NIC holds it) rather than dropping it silently", () => {
    const sw = new Switch();
    const remote = sw.attachRemote("nic", 2);
    const nic = new WorkerPort(remote.handle);
    const f = buildFrame(BROADCAST_MAC, MAC_NIC, ETHERTYPE_LAB, new Uint8Array(50));
    expect(nic.trySend(f) && nic.trySend(f)).toBe(true);
    expect(nic.canSend).toBe(false);
    expect(nic.trySend(f)).toBe(false);
    remote.close();
  });

  it("a NIC that found the switch's ring full and asked for room is rung once the switch has taken frames", async () => {
    const sw = new Switch();
    const sink = new FrameSink(sw.attach("sink"));
    const remote = sw.attachRemote("nic", 2);
    const nic = new WorkerPort(remote.handle);
    const f = buildFrame(BROADCAST_MAC, MAC_NIC, ETHERTYPE_LAB, new Uint8Array(50));
    expect(nic.trySend(f) && nic.trySend(f)).toBe(true);
    expect(nic.toSwitch.reserve(1)).toBe(0);
    nic.wantRoom();
    const seq = nic.seq;
    nic.ring();
    await until("the switch to take the frames and ring the NIC", () => sink.frames === 2 && nic.seq !== seq);
    expect(nic.toSwitch.reserve(2)).toBe(2);
    remote.close();
  });
});
