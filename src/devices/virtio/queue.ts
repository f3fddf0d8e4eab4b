/*
 * A split virtqueue (virtio 1.2 §2.7), read and written in place in guest
 * memory through a GuestMemoryView and nothing else.
 *
 *   descriptor table  16 bytes each: addr u64, len u32, flags u16, next u16
 *   available ring    flags u16, idx u16, ring[size] u16, used_event u16
 *   used ring         flags u16, idx u16, ring[size] {id u32, len u32}, avail_event u16
 *
 * Every walk a guest can drive is bounded: a chain visits at most as many
 * descriptors as its table has (a loop ends there), the whole chain at most
 * QUEUE_NUM_MAX, indirect tables are one level deep, byte totals stay below
 * 2^32 and every buffer lies inside guest RAM. What the guest got wrong is
 * thrown as a VirtqError; the transport then stops the device.
 */

import { rangeInside, type GuestMemoryView } from "../../machine/guest-memory-view.ts";
import { VirtqError } from "./errors.ts";
import { QUEUE_NUM_MAX } from "./regs.ts";

/** Descriptor flags (§2.7.5). */
export const DESC_F_NEXT = 1;
export const DESC_F_WRITE = 2;
export const DESC_F_INDIRECT = 4;
/** avail.flags: the driver wants no interrupt (without EVENT_IDX). */
const AVAIL_F_NO_INTERRUPT = 1;

const DESC_SIZE = 16;
const U32_MAX = 0xffff_ffff;

/** Where the three parts of a queue are, and how big it is. */
export interface QueueLayout {
  readonly size: number;
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
}

/** The buffers of one request: readable segments first, then writable ones. Reused: never allocated per request. */
export class DescChain {
  head = 0;
  count = 0;
  /** Index of the first writable segment (count when none). */
  firstWritable = 0;
  readableBytes = 0;
  writableBytes = 0;
  readonly addr = new Float64Array(QUEUE_NUM_MAX);
  readonly len = new Uint32Array(QUEUE_NUM_MAX);

  clear(head: number): void {
    this.head = head;
    this.count = 0;
    this.firstWritable = 0;
    this.readableBytes = 0;
    this.writableBytes = 0;
  }
}

interface QueueFeatures {
  readonly indirect: boolean;
  readonly eventIdx: boolean;
}

/** Bytes the available ring takes for a queue of `size` (with used_event). */
export function availBytes(size: number): number {
  return 6 + 2 * size;
}

/** Bytes the used ring takes for a queue of `size` (with avail_event). */
function usedBytes(size: number): number {
  return 6 + 8 * size;
}

export class SplitQueue {
  /** The next available-ring entry the device will take (free-running, mod 2^16). */
  private lastAvail = 0;
  /** The used index the device publishes next (mod 2^16). */
  private usedIdx = 0;
  /** usedIdx when the driver was last considered for an interrupt (EVENT_IDX). */
  private signalled = 0;
  /** Chains taken and not yet returned. */
  private inFlight = 0;
  /** The used index of another writer (returnedBy), if one returns the chains. */
  private usedBy: (() => number) | undefined;

  /** Checks the layout against guest RAM (§2.7: alignment 16, 2, 4); throws a VirtqError. */
  constructor(
    private readonly mem: GuestMemoryView,
    readonly layout: QueueLayout,
    private readonly features: QueueFeatures,
  ) {
    const { size, desc, avail, used } = layout;
    if (size === 0 || size > QUEUE_NUM_MAX || (size & (size - 1)) !== 0) throw new VirtqError("bad-queue-size", `${size}`);
    if (desc % 16 !== 0 || avail % 2 !== 0 || used % 4 !== 0) throw new VirtqError("ring-misaligned");
    const inRam = (a: number, n: number) => rangeInside(a, n, mem.ramBase, mem.ramSize);
    if (!inRam(desc, DESC_SIZE * size) || !inRam(avail, availBytes(size)) || !inRam(used, usedBytes(size))) {
      throw new VirtqError("ring-outside-ram", `desc 0x${desc.toString(16)} avail 0x${avail.toString(16)} used 0x${used.toString(16)}`);
    }
  }

  /**
   * Takes the next available chain into `chain`; false when the driver has
   * offered none. With EVENT_IDX, asks the driver to notify again once it
   * adds past what has been taken.
   */
  pop(chain: DescChain): boolean {
    const { size, avail } = this.layout;
    const pending = (this.mem.readU16(avail + 2) - this.lastAvail) & 0xffff;
    if (pending === 0) return false;
    const inFlight = this.inFlightNow();
    if (pending + inFlight > size) throw new VirtqError("too-many-in-flight", `${pending} offered, ${inFlight} in flight, size ${size}`);
    const head = this.mem.readU16(avail + 4 + 2 * (this.lastAvail % size));
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    if (this.features.eventIdx) this.mem.writeU16(this.layout.used + 4 + 8 * size, this.lastAvail);
    this.walk(head, chain);
    this.inFlight++;
    return true;
  }

  /** The next available-ring entry the device will take (free-running, mod 2^16): where another thread taking this queue over starts (blk-vhost.ts). */
  get nextAvail(): number {
    return this.lastAvail;
  }

  /** Takes up where another thread left off: its next available-ring entry (blk-vhost.ts hands the queue between threads). */
  resumeAt(lastAvail: number): void {
    this.lastAvail = lastAvail & 0xffff;
  }

  /** Walks the chain at descriptor `head` into `chain` without taking anything off the ring (a chain another thread took and hands back). */
  chainAt(head: number, chain: DescChain): void {
    this.walk(head, chain);
  }

  /** Whether the driver has offered chains not yet taken. */
  hasAvailable(): boolean {
    return ((this.mem.readU16(this.layout.avail + 2) - this.lastAvail) & 0xffff) !== 0;
  }

  /** Returns a chain to the driver: `written` bytes were written into its writable buffers. */
  push(head: number, written: number): void {
    const { size, used } = this.layout;
    const entry = used + 4 + 8 * (this.usedIdx % size);
    this.mem.writeU32(entry, head);
    this.mem.writeU32(entry + 4, written);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    // The entry before the index: the driver reads the index, then the entry (§2.7.8.2).
    this.mem.writeU16(used + 2, this.usedIdx);
    if (this.inFlight > 0) this.inFlight--;
  }

  /**
   * From now on another writer returns this queue's chains and keeps its
   * used index (virtio-blk's I/O workers write the used ring themselves,
   * blk-used.ts), along with the interrupt decisions: chains in flight are
   * then those taken past that index, read as pop needs it — exact even
   * while the writer's threads return chains and the driver offers them
   * again before this thread hears of it.
   */
  returnedBy(usedIndex: () => number): void {
    this.usedBy = usedIndex;
  }

  /** Chains taken and not yet returned. */
  private inFlightNow(): number {
    return this.usedBy === undefined ? this.inFlight : (this.lastAvail - this.usedBy()) & 0xffff;
  }

  /**
   * After pushes: whether the driver wants an interrupt for them (§2.7.7.2):
   * with EVENT_IDX when the used index passed used_event, otherwise unless
   * the driver set NO_INTERRUPT.
   */
  needsInterrupt(): boolean {
    const { size, avail } = this.layout;
    const old = this.signalled;
    const now = this.usedIdx;
    this.signalled = now;
    if (old === now) return false;
    if (!this.features.eventIdx) return (this.mem.readU16(avail) & AVAIL_F_NO_INTERRUPT) === 0;
    const usedEvent = this.mem.readU16(avail + 4 + 2 * size);
    return ((now - usedEvent - 1) & 0xffff) < ((now - old) & 0xffff);
  }

  /** Follows a chain from `head`, through at most one indirect table, into `chain`. */
  private walk(head: number, chain: DescChain): void {
    const mem = this.mem;
    let table = this.layout.desc;
    let tableSize = this.layout.size;
    let ttl = tableSize;
    let indirect = false;
    let idx = head;
    let total = 0;
    if (idx >= tableSize) throw new VirtqError("head-out-of-range", `${idx} of ${tableSize}`);
    chain.clear(head);
    for (;;) {
      if (ttl-- === 0) throw new VirtqError("chain-too-long", `head ${head}`);
      const d = table + DESC_SIZE * idx;
      const addr = mem.readU32(d + 4) * 2 ** 32 + mem.readU32(d);
      const len = mem.readU32(d + 8);
      const flags = mem.readU16(d + 12);
      const next = mem.readU16(d + 14);
      if ((flags & DESC_F_INDIRECT) !== 0) {
        if (!this.features.indirect) throw new VirtqError("indirect-not-negotiated");
        if (indirect) throw new VirtqError("indirect-nested");
        if ((flags & DESC_F_NEXT) !== 0) throw new VirtqError("indirect-with-next");
        if (len === 0 || len % DESC_SIZE !== 0 || len / DESC_SIZE > QUEUE_NUM_MAX) throw new VirtqError("indirect-bad-size", `${len} bytes`);
        if (!rangeInside(addr, len, mem.ramBase, mem.ramSize)) throw new VirtqError("buffer-outside-ram", `indirect table at 0x${addr.toString(16)}`);
        indirect = true;
        table = addr;
        tableSize = len / DESC_SIZE;
        ttl = tableSize;
        idx = 0;
        continue;
      }
      if (!rangeInside(addr, len, mem.ramBase, mem.ramSize)) throw new VirtqError("buffer-outside-ram", `0x${addr.toString(16)} +${len}`);
      total += len;
      if (total > U32_MAX) throw new VirtqError("chain-too-big");
      if (chain.count === QUEUE_NUM_MAX) throw new VirtqError("chain-too-long", `more than ${QUEUE_NUM_MAX} descriptors`);
      this.append(chain, addr, len, (flags & DESC_F_WRITE) !== 0);
      if ((flags & DESC_F_NEXT) === 0) return;
      idx = next;
      if (idx >= tableSize) throw new VirtqError("next-out-of-range", `${idx} of ${tableSize}`);
    }
  }

  private append(chain: DescChain, addr: number, len: number, writable: boolean): void {
    const n = chain.count;
    if (writable) {
      chain.writableBytes += len;
    } else {
      if (chain.firstWritable < n) throw new VirtqError("descriptor-order");
      chain.readableBytes += len;
      chain.firstWritable = n + 1;
    }
    chain.addr[n] = addr;
    chain.len[n] = len;
    chain.count = n + 1;
  }
}
