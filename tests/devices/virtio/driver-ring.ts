/*
 * The driver's side of a split virtqueue, for tests: builds descriptor
 * tables and rings in guest RAM (as a driver would), offers chains and reads
 * what the device returned. Hostile tests write whatever they like with it.
 */

import type { GuestMemoryView } from "../../../src/machine/guest-memory-view.ts";
import { PhysMem } from "../../../src/machine/physmem.ts";
import { PhysMemView } from "../../../src/machine/physmem-view.ts";
import { availBytes, DESC_F_INDIRECT, DESC_F_NEXT, DESC_F_WRITE, type QueueLayout } from "../../../src/devices/virtio/queue.ts";

export { DESC_F_INDIRECT, DESC_F_NEXT, DESC_F_WRITE };

export const RAM_BASE = 0x8000_0000;

/** A board's RAM and its view: `size` bytes at 0x8000_0000. */
export function guestRam(size = 0x10_0000): PhysMemView {
  return new PhysMemView(new PhysMem(size));
}

export interface Buffer {
  readonly addr: number;
  readonly len: number;
  readonly write?: boolean;
}

export class DriverRing {
  readonly layout: QueueLayout;
  private availIdx = 0;

  /** Lays the queue out from `base`: descriptors, then the available ring, then the used ring (4-aligned). */
  constructor(
    readonly mem: GuestMemoryView,
    base: number,
    readonly size: number,
  ) {
    const avail = base + 16 * size;
    const used = Math.ceil((avail + availBytes(size)) / 4) * 4;
    this.layout = { size, desc: base, avail, used };
  }

  /** Writes descriptor i of the table at `table` (the queue's own by default). */
  desc(i: number, addr: number, len: number, flags: number, next = 0, table = this.layout.desc): void {
    const d = table + 16 * i;
    this.mem.writeU64(d, BigInt(addr));
    this.mem.writeU32(d + 8, len >>> 0);
    this.mem.writeU16(d + 12, flags);
    this.mem.writeU16(d + 14, next);
  }

  /** Writes `buffers` as one chain from descriptor `first` on (consecutive), returns its head. */
  chain(first: number, buffers: readonly Buffer[], table = this.layout.desc): number {
    buffers.forEach((b, k) => {
      const last = k === buffers.length - 1;
      this.desc(first + k, b.addr, b.len, (last ? 0 : DESC_F_NEXT) | (b.write ? DESC_F_WRITE : 0), last ? 0 : first + k + 1, table);
    });
    return first;
  }

  /** Puts `head` in the available ring and publishes it. */
  offer(head: number): void {
    this.mem.writeU16(this.layout.avail + 4 + 2 * (this.availIdx % this.size), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.mem.writeU16(this.layout.avail + 2, this.availIdx);
  }

  /** Sets avail.idx directly (hostile drivers). */
  setAvailIdx(idx: number): void {
    this.availIdx = idx & 0xffff;
    this.mem.writeU16(this.layout.avail + 2, this.availIdx);
  }

  setAvailFlags(flags: number): void {
    this.mem.writeU16(this.layout.avail, flags);
  }

  /** used_event (EVENT_IDX): interrupt me when used.idx passes this. */
  setUsedEvent(idx: number): void {
    this.mem.writeU16(this.layout.avail + 4 + 2 * this.size, idx);
  }

  usedIdx(): number {
    return this.mem.readU16(this.layout.used + 2);
  }

  /** avail_event as the device wrote it (EVENT_IDX). */
  availEvent(): number {
    return this.mem.readU16(this.layout.used + 4 + 8 * this.size);
  }

  used(n: number): { id: number; len: number } {
    const e = this.layout.used + 4 + 8 * (n % this.size);
    return { id: this.mem.readU32(e), len: this.mem.readU32(e + 4) };
  }
}
