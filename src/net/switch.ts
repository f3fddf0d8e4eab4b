/*
 * The virtual L2 switch every NIC of every VM plugs into: a learning
 * bridge. For each frame it learns "source MAC is behind the port it came
 * from", then forwards: group destinations (broadcast, multicast) and unknown
 * unicast go to every other port (flooding), a known unicast MAC only to its
 * port, and a frame for the port it came from nowhere.
 *
 * Each port is two FrameRings in shared memory (port -> switch, switch ->
 * port): frames never travel by postMessage. Ports in this thread are
 * served at once — send() runs the switch and the switch delivers into
 * each destination's handler. A port whose NIC runs in another thread
 * (attachRemote, remote-port.ts) rings a doorbell in shared memory instead,
 * each way. The work one pump does is bounded
 * (MAX_FRAMES_PER_PUMP), so two endpoints answering each other forever
 * cannot hang the thread: what is left waits in the rings for the next pump.
 */

import { ETH_HEADER, isGroupMac, macKey } from "./ethernet.ts";
import type { SwitchPort } from "./port.ts";
import { RemotePort } from "./remote-port.ts";
import { DEFAULT_RING_SLOTS, FrameRing, MAX_FRAME } from "./ring.ts";

/** Frames one pump moves at most before returning. */
const MAX_FRAMES_PER_PUMP = 4096;
/**
 * Slots in each ring of a cross-thread port: more than a same-thread port's,
 * because every batch costs a wake-up of the other thread (tens of µs, far
 * more on a loaded machine), so each wake-up should move many frames.
 */
const REMOTE_RING_SLOTS = 4096;
/** MAC table entries at most (a guest spraying source MACs cannot grow it without bound); the oldest goes first. */
const MAX_MAC_ENTRIES = 4096;

/** The switch's counters. */
export interface SwitchStats {
  /** Frames taken from ports. */
  forwarded: number;
  /** Frames sent to every other port (group or unknown destination). */
  flooded: number;
  /** Frames dropped as shorter than an Ethernet header or longer than MAX_FRAME. */
  malformed: number;
  /** Frames a destination port's ring had no room for. */
  rxRingFull: number;
}

/** A port as the switch sees it: its two rings, and how the frames it queued reach the NIC. */
interface SwitchSide {
  readonly name: string;
  readonly toSwitch: FrameRing;
  readonly toNic: FrameRing;
  deliver(): void;
}

/** One port of the switch, as its NIC back-end sees it. */
export class RingPort implements SwitchPort, SwitchSide {
  /** Frames from the NIC towards the switch. */
  readonly toSwitch: FrameRing;
  /** Frames from the switch towards the NIC. */
  readonly toNic: FrameRing;
  private handler: ((frame: Uint8Array) => void) | undefined;

  constructor(
    readonly name: string,
    private readonly kick: () => void,
    slots: number,
  ) {
    this.toSwitch = FrameRing.create(slots);
    this.toNic = FrameRing.create(slots);
  }

  send(frame: Uint8Array): void {
    this.toSwitch.push(frame);
    this.kick();
  }

  onReceive(handler: (frame: Uint8Array) => void): void {
    this.handler = handler;
    this.deliver();
  }

  /** Hands the frames waiting for this port to its handler (kept in the ring until one is set). */
  deliver(): void {
    const h = this.handler;
    if (h !== undefined) this.toNic.drain(h);
  }
}

export class Switch {
  readonly stats: SwitchStats = { forwarded: 0, flooded: 0, malformed: 0, rxRingFull: 0 };
  private readonly ports: SwitchSide[] = [];
  /** MAC (macKey) -> port it was last seen behind; Map order is insertion order, so the first entry is the oldest. */
  private readonly macs = new Map<number, SwitchSide>();
  private pumping = false;

  constructor(readonly name = "switch") {}

  /** A new port; `slots` bounds each of its two rings. */
  attach(name: string, slots = DEFAULT_RING_SLOTS): RingPort {
    const port = new RingPort(name, () => this.pump(), slots);
    this.ports.push(port);
    return port;
  }

  /**
   * A new port for a NIC in another thread: hand `handle` to that thread
   * (WorkerPort). The switch starts listening for the NIC's bell at once;
   * close() the port when the NIC is gone.
   */
  attachRemote(name: string, slots = REMOTE_RING_SLOTS): RemotePort {
    const port = new RemotePort(name, () => this.pump(), slots, () => this.remove(port));
    this.ports.push(port);
    port.listen();
    return port;
  }

  /** Unplugs a port: nothing is forwarded to it any more, and the MACs learned behind it are forgotten. */
  private remove(port: SwitchSide): void {
    const i = this.ports.indexOf(port);
    if (i >= 0) this.ports.splice(i, 1);
    for (const [mac, p] of this.macs) if (p === port) this.macs.delete(mac);
  }

  /** The port a MAC was learned on, if any. */
  portOf(mac: Uint8Array): SwitchSide | undefined {
    return this.macs.get(macKey(mac, 0));
  }

  get portCount(): number {
    return this.ports.length;
  }

  /** MACs in the learning table (at most MAX_MAC_ENTRIES). */
  get macCount(): number {
    return this.macs.size;
  }

  /** Moves waiting frames from every port to their destinations, at most MAX_FRAMES_PER_PUMP; a nested call (a handler that sends) returns at once and the outer loop picks its frames up. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      let budget = MAX_FRAMES_PER_PUMP;
      let moved = true;
      while (moved && budget > 0) {
        moved = false;
        for (const port of this.ports) {
          const n = port.toSwitch.drain((frame) => this.forward(port, frame), Math.min(budget, 64));
          budget -= n;
          if (n > 0) moved = true;
          if (budget <= 0) break;
        }
        for (const port of this.ports) port.deliver();
      }
    } finally {
      this.pumping = false;
    }
  }

  private forward(from: SwitchSide, frame: Uint8Array): void {
    if (frame.length < ETH_HEADER || frame.length > MAX_FRAME) {
      this.stats.malformed++;
      return;
    }
    this.stats.forwarded++;
    if (!isGroupMac(frame, 6)) this.learn(macKey(frame, 6), from);
    const to = isGroupMac(frame, 0) ? undefined : this.macs.get(macKey(frame, 0));
    if (to === from) return;
    if (to !== undefined) {
      this.put(to, frame);
      return;
    }
    this.stats.flooded++;
    for (const p of this.ports) if (p !== from) this.put(p, frame);
  }

  private learn(key: number, port: SwitchSide): void {
    if (this.macs.get(key) === port) return;
    this.macs.delete(key);
    if (this.macs.size >= MAX_MAC_ENTRIES) {
      const oldest = this.macs.keys().next().value;
      if (oldest !== undefined) this.macs.delete(oldest);
    }
    this.macs.set(key, port);
  }

  private put(port: SwitchSide, frame: Uint8Array): void {
    if (!port.toNic.push(frame)) this.stats.rxRingFull++;
  }
}
