/*
 * A host endpoint that sends frames of one size at a given rate: the far
 * end of a receive benchmark. Frames are broadcast from the source's own MAC
 * with the lab EtherType, a sequence number in the first payload bytes.
 *
 * Pacing is by the clock it is asked with (tick(nowMs)), so a test can run
 * it on a fake clock; start() drives it from a host timer.
 */

import { BROADCAST_MAC, ETH_HEADER, ETHERTYPE_LAB } from "./ethernet.ts";
import type { SwitchPort } from "./port.ts";
import { MAX_FRAME } from "./ring.ts";

export interface SourceOptions {
  /** Frame length in bytes, header included (14..MAX_FRAME). */
  readonly size: number;
  /** Frames per second (above 0). */
  readonly pps: number;
  readonly mac: Uint8Array;
  /** Where frames go (default broadcast). */
  readonly dst?: Uint8Array;
}

/** Frames one tick sends at most, so a stalled clock catching up cannot flood the switch in one go. */
const MAX_BURST = 1024;
const TIMER_MS = 1;

export class FrameSource {
  sent = 0;
  private readonly frame: Uint8Array;
  private startMs: number | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly port: SwitchPort,
    readonly opts: SourceOptions,
  ) {
    if (!Number.isInteger(opts.size) || opts.size < ETH_HEADER || opts.size > MAX_FRAME) throw new RangeError(`source: frame size ${opts.size} (${ETH_HEADER}..${MAX_FRAME})`);
    if (!(opts.pps > 0) || !Number.isFinite(opts.pps)) throw new RangeError(`source: rate ${opts.pps} frames/s (above 0)`);
    this.frame = new Uint8Array(opts.size);
    this.frame.set((opts.dst ?? BROADCAST_MAC).subarray(0, 6), 0);
    this.frame.set(opts.mac.subarray(0, 6), 6);
    this.frame[12] = ETHERTYPE_LAB >> 8;
    this.frame[13] = ETHERTYPE_LAB & 0xff;
  }

  /** Sends the frames due by `nowMs` since the first tick; returns how many it sent. */
  tick(nowMs: number): number {
    this.startMs ??= nowMs;
    const due = Math.floor(((nowMs - this.startMs) * this.opts.pps) / 1000) + 1;
    const n = Math.min(due - this.sent, MAX_BURST);
    for (let i = 0; i < n; i++) {
      const seq = this.sent;
      // The sequence number, where the payload has room for it.
      for (let b = 0; b < 4 && ETH_HEADER + b < this.frame.length; b++) this.frame[ETH_HEADER + b] = (seq >>> (24 - 8 * b)) & 0xff;
      this.port.send(this.frame);
      this.sent++;
    }
    return Math.max(n, 0);
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(performance.now()), TIMER_MS);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
