/*
 * The assigned NIC's "hardware": what its worker thread does each time it
 * looks at its register page (regs.ts). It is plain code over shared memory
 * — the page, machine memory behind the IOMMU, the switch port's rings, the
 * harts' interrupt words — so a test runs it step by step on one thread.
 *
 * step():
 *   CTRL.ENABLE rising: latch and check the ring configuration, heads to 0,
 *     RUNNING; falling: stop and clear (the driver's reset).
 *   TX: for each descriptor between TX_HEAD and TX_TAIL (at most one ring's
 *     worth per step, and only while the switch has room — a full switch
 *     holds the ring, like a busy wire): read it, copy the frame by DMA
 *     straight into a slot of the port's ring, write the status back. In
 *     chunks of TX_CHUNK: one reservation of slots, one commit, one store of
 *     TX_HEAD per chunk; one doorbell to the switch per step.
 *   RX: for each frame the switch queued, while buffers are posted between
 *     RX_HEAD and RX_TAIL (at most one ring's worth): DMA it into the next
 *     buffer, write the status (length, DONE) back, advance RX_HEAD. With no
 *     buffer, frames wait in the port's ring.
 *   The posted interrupt: up while (IRQ_ENABLE.RX and RX_HEAD != RX_ACK) or
 *     (IRQ_ENABLE.TX and TX_HEAD != TX_ACK); set and cleared in the hart's
 *     mip word (riscv.ts IRQ_POSTED) with Atomics, and the hart woken.
 *
 * Hostile guests: every DMA goes through the IOMMU, which blocks (and
 * counts) anything outside the guest's map; a blocked frame buffer fails that
 * descriptor (ERROR) and the device goes on; a descriptor the device cannot
 * read or write back, a tail more than a ring ahead, a bad ring size or
 * alignment stop the device (STATUS.FAILED, ERROR says why) until the
 * driver resets it. Every loop is bounded by a ring size or a frame length.
 */

import type { CodeWriteLog } from "../../machine/code-writes.ts";
import { MAX_FRAME, type FrameRing } from "../../net/ring.ts";
import { IRQ_POSTED } from "../../machine/riscv.ts";
import { PAGE_SIZE } from "../../machine/memlayout.ts";
import type { PostedInterruptLine } from "../device.ts";
import type { Iommu } from "./iommu.ts";
import * as G from "./regs.ts";

const ETH_HEADER = 14;
const MIP_POSTED = 1 << IRQ_POSTED;
/**
 * Descriptors per reservation of the port's ring. TX_HEAD moves (and the
 * driver may reuse those slots) once per chunk rather than once per batch,
 * so a driver refilling while the device sends is not held a whole ring.
 */
const TX_CHUNK = 128;

/** The device's counters, as `--stats`-style names; kept in shared memory so the owner reads them live. */
const NIC_STATS = [
  { name: "tx_frames", doc: "frames sent to the switch" },
  { name: "tx_bytes", doc: "bytes of those frames" },
  { name: "rx_frames", doc: "frames written into the guest's buffers" },
  { name: "rx_bytes", doc: "bytes of those frames" },
  { name: "irqs", doc: "rises of the posted interrupt" },
  { name: "desc_errors", doc: "descriptors completed with ERROR (bad length, blocked buffer, buffer too small)" },
  { name: "ring_failures", doc: "times the device stopped on a ring error (STATUS.FAILED)" },
  { name: "tx_stalls", doc: "steps in which the switch had no room for the next frame" },
  { name: "polls", doc: "looks at the register page (steps)" },
] as const;
export type NicStatName = (typeof NIC_STATS)[number]["name"];
const NIC_STAT: Readonly<Record<NicStatName, number>> = Object.fromEntries(NIC_STATS.map((s, i) => [s.name, i])) as Record<NicStatName, number>;

export function newNicStats(): SharedArrayBuffer {
  return new SharedArrayBuffer(NIC_STATS.length * 8);
}

export function readNicStats(buffer: SharedArrayBuffer): Record<NicStatName, number> {
  const f = new Float64Array(buffer);
  return Object.fromEntries(NIC_STATS.map((s, i) => [s.name, f[i]])) as Record<NicStatName, number>;
}

/** The port as the device uses it (remote-port.ts WorkerPort): frames go into its ring in place, in bulk. */
export interface NicPort {
  readonly toSwitch: Pick<FrameRing, "bytes" | "reserve" | "dataAt" | "setLength" | "commit">;
  /** The switch's ring is full: ring the device's bell when it has room (the device sleeps till then). */
  wantRoom(): void;
  ring(): void;
  readonly toNic: { readonly length: number; drain(handler: (frame: Uint8Array) => void, max?: number): number };
}

export class NicEngine {
  private readonly page: Int32Array;
  private readonly u8: Uint8Array;
  private readonly dv: DataView;
  private readonly stats: Float64Array;
  private enabled = false;
  private failed = false;
  private txBase = 0;
  private txSize = 0;
  private rxBase = 0;
  private rxSize = 0;
  private txHead = 0;
  private rxHead = 0;
  private line = false;
  private lineHart = 0;
  /** Set by the receive handler: whether the frame it was handed found a buffer. */
  private rxFailed = false;
  private readonly receive = (f: Uint8Array): void => this.receiveOne(f);

  constructor(
    page: Int32Array,
    private readonly iommu: Iommu,
    machine: SharedArrayBuffer,
    private readonly port: NicPort,
    private readonly harts: readonly PostedInterruptLine[],
    stats: SharedArrayBuffer,
    /** Where its DMA writes are marked for the harts' decoded code (a VM's log); none natively. */
    private readonly codeWrites?: CodeWriteLog,
  ) {
    if (page.length * 4 !== G.PAGE_BYTES) throw new RangeError("assigned-nic: the register page must be one 4 KiB page");
    this.page = page;
    this.u8 = new Uint8Array(machine);
    this.dv = new DataView(machine);
    this.stats = new Float64Array(stats);
  }

  /** Looks at the page once and does what it asks; returns how many descriptors and frames moved. */
  step(): number {
    this.stats[NIC_STAT.polls]++;
    const enable = (this.load(G.REG_CTRL) & G.CTRL_ENABLE) !== 0;
    if (!enable) {
      if (this.enabled || this.failed) this.stop();
      return 0;
    }
    if (this.failed) return 0;
    if (!this.enabled) this.start();
    if (!this.enabled) return 0;
    let moved = this.transmit();
    // A descriptor it could not read stopped the device: no more DMA until the driver resets it.
    if (this.enabled) {
      moved += this.receiveAll();
      this.updateLine();
    }
    if (moved > 0) this.iommu.publish();
    return moved;
  }

  /** Back to power-on: stopped, the interrupt down. */
  reset(): void {
    this.stop();
  }

  private load(reg: number): number {
    return Atomics.load(this.page, G.word(reg));
  }
  private store(reg: number, v: number): void {
    Atomics.store(this.page, G.word(reg), v);
  }

  private start(): void {
    const txSize = this.load(G.REG_TX_SIZE) >>> 0;
    const rxSize = this.load(G.REG_RX_SIZE) >>> 0;
    const txBase = (this.load(G.REG_TX_BASE_HI) >>> 0) * 2 ** 32 + (this.load(G.REG_TX_BASE_LO) >>> 0);
    const rxBase = (this.load(G.REG_RX_BASE_HI) >>> 0) * 2 ** 32 + (this.load(G.REG_RX_BASE_LO) >>> 0);
    if (!ringSizeOk(txSize) || !ringSizeOk(rxSize)) return this.fail(G.ERR_RING_SIZE);
    if (txBase % G.DESC_BYTES !== 0 || rxBase % G.DESC_BYTES !== 0) return this.fail(G.ERR_RING_ALIGN);
    this.txBase = txBase;
    this.txSize = txSize;
    this.rxBase = rxBase;
    this.rxSize = rxSize;
    this.txHead = 0;
    this.rxHead = 0;
    this.store(G.REG_TX_HEAD, 0);
    this.store(G.REG_RX_HEAD, 0);
    this.store(G.REG_ERROR, 0);
    this.store(G.REG_STATUS, G.STATUS_RUNNING);
    this.enabled = true;
  }

  private stop(): void {
    this.enabled = false;
    this.failed = false;
    this.txHead = 0;
    this.rxHead = 0;
    this.store(G.REG_TX_HEAD, 0);
    this.store(G.REG_RX_HEAD, 0);
    this.store(G.REG_STATUS, 0);
    this.store(G.REG_ERROR, 0);
    this.setLine(false);
  }

  private fail(error: number): void {
    this.enabled = false;
    this.failed = true;
    this.stats[NIC_STAT.ring_failures]++;
    this.store(G.REG_ERROR, error);
    this.store(G.REG_STATUS, G.STATUS_FAILED);
    this.setLine(false);
  }

  // ---- transmit ----

  private transmit(): number {
    const pending = (this.load(G.REG_TX_TAIL) - this.txHead) >>> 0;
    if (pending === 0) return 0;
    if (pending > this.txSize) {
      this.fail(G.ERR_TX_OVERRUN);
      return 0;
    }
    const out = this.port.toSwitch;
    const ringBytes = out.bytes;
    const mask = this.txSize - 1;
    let done = 0;
    let sent = 0;
    let bytes = 0;
    let errors = 0;
    let unreadable = false;
    while (done < pending && !unreadable) {
      const want = Math.min(pending - done, TX_CHUNK);
      let room = out.reserve(want);
      if (room === 0) {
        // Full: ask the switch to ring when it has taken frames, then look once more (it may have just now).
        this.port.wantRoom();
        room = out.reserve(want);
      }
      if (room === 0) {
        this.stats[NIC_STAT.tx_stalls]++;
        break;
      }
      // Until `room` frames are in slots: a descriptor that ends in ERROR takes none.
      let k = 0;
      while (k < room && done < pending) {
        const off = this.iommu.translate(this.txBase + (this.txHead & mask) * G.DESC_BYTES, true);
        if (off < 0) {
          unreadable = true;
          break;
        }
        const addr = this.dv.getUint32(off + G.DESC_ADDR, true) + this.dv.getUint32(off + G.DESC_ADDR + 4, true) * 2 ** 32;
        const len = this.dv.getUint16(off + G.DESC_LEN, true);
        let status = G.DESC_DONE;
        if (len >= ETH_HEADER && len <= MAX_FRAME && this.dmaRead(addr, len, ringBytes, out.dataAt(k))) {
          out.setLength(k, len);
          k++;
          bytes += len;
        } else {
          status |= G.DESC_ERROR;
          errors++;
        }
        this.dv.setUint32(off + G.DESC_STATUS, status >>> 0, true);
        this.codeWrites?.written(off + G.DESC_STATUS, 4);
        this.txHead = (this.txHead + 1) >>> 0;
        done++;
      }
      out.commit(k);
      sent += k;
      this.store(G.REG_TX_HEAD, this.txHead | 0); // written back: the driver may reuse those descriptors
    }
    // A descriptor the device cannot read stops it, after what went before it was sent.
    if (unreadable) this.fail(G.ERR_DESC_DMA);
    const st = this.stats;
    st[NIC_STAT.tx_frames] += sent;
    st[NIC_STAT.tx_bytes] += bytes;
    st[NIC_STAT.desc_errors] += errors;
    if (sent > 0) this.port.ring();
    return done;
  }

  /** Copies guest bytes [addr, addr + len) to `dst` at `at` through the IOMMU, page by page; false if any page is blocked. */
  private dmaRead(addr: number, len: number, dst: Uint8Array, at: number): boolean {
    let done = 0;
    while (done < len) {
      const from = addr + done;
      const chunk = Math.min(len - done, PAGE_SIZE - (from % PAGE_SIZE));
      const off = this.iommu.translate(from, false);
      if (off < 0) return false;
      dst.set(this.u8.subarray(off, off + chunk), at + done);
      done += chunk;
    }
    return true;
  }

  /** Copies `f` into guest memory at addr through the IOMMU; false (and nothing written past the blocked page) if a page is blocked. */
  private dmaWrite(addr: number, f: Uint8Array): boolean {
    let done = 0;
    while (done < f.length) {
      const at = addr + done;
      const chunk = Math.min(f.length - done, PAGE_SIZE - (at % PAGE_SIZE));
      const off = this.iommu.translate(at, true);
      if (off < 0) return false;
      this.u8.set(f.subarray(done, done + chunk), off);
      this.codeWrites?.written(off, chunk);
      done += chunk;
    }
    return true;
  }

  // ---- receive ----

  private receiveAll(): number {
    let got = 0;
    for (let n = 0; n < this.rxSize && this.port.toNic.length > 0; n++) {
      const posted = (this.load(G.REG_RX_TAIL) - this.rxHead) >>> 0;
      if (posted === 0) break;
      if (posted > this.rxSize) {
        this.fail(G.ERR_RX_OVERRUN);
        break;
      }
      this.rxFailed = false;
      this.port.toNic.drain(this.receive, 1);
      if (this.rxFailed) break;
      got++;
    }
    return got;
  }

  /** The receive handler: the frame into the buffer at RX_HEAD. */
  private receiveOne(f: Uint8Array): void {
    const desc = this.rxBase + (this.rxHead % this.rxSize) * G.DESC_BYTES;
    const off = this.iommu.translate(desc, true);
    if (off < 0) {
      this.rxFailed = true;
      this.fail(G.ERR_DESC_DMA);
      return;
    }
    const addr = this.dv.getUint32(off + G.DESC_ADDR, true) + this.dv.getUint32(off + G.DESC_ADDR + 4, true) * 2 ** 32;
    const cap = this.dv.getUint16(off + G.DESC_LEN, true);
    let status = G.DESC_DONE | f.length;
    if (f.length > cap || !this.dmaWrite(addr, f)) {
      status = G.DESC_DONE | G.DESC_ERROR;
      this.stats[NIC_STAT.desc_errors]++;
    } else {
      this.stats[NIC_STAT.rx_frames]++;
      this.stats[NIC_STAT.rx_bytes] += f.length;
    }
    this.dv.setUint32(off + G.DESC_STATUS, status >>> 0, true);
    this.codeWrites?.written(off + G.DESC_STATUS, 4);
    this.rxHead = (this.rxHead + 1) >>> 0;
    this.store(G.REG_RX_HEAD, this.rxHead | 0);
  }

  // ---- the posted interrupt ----

  private updateLine(): void {
    const ie = this.load(G.REG_IRQ_ENABLE);
    const rx = (ie & G.IRQ_RX) !== 0 && (this.load(G.REG_RX_ACK) >>> 0) !== this.rxHead;
    const tx = (ie & G.IRQ_TX) !== 0 && (this.load(G.REG_TX_ACK) >>> 0) !== this.txHead;
    this.setLine(rx || tx);
  }

  private setLine(level: boolean): void {
    if (level === this.line) return;
    if (level) {
      const h = this.load(G.REG_IRQ_HART) >>> 0;
      this.lineHart = h < this.harts.length ? h : 0;
    }
    const target = this.harts[this.lineHart];
    this.line = level;
    if (target === undefined) return;
    if (!level) {
      Atomics.and(target.mip, target.mipIndex, ~MIP_POSTED);
      return;
    }
    Atomics.or(target.mip, target.mipIndex, MIP_POSTED);
    this.stats[NIC_STAT.irqs]++;
    if (target.wake !== undefined) {
      Atomics.add(target.wake, 0, 1);
      Atomics.notify(target.wake, 0);
    }
  }
}

function ringSizeOk(n: number): boolean {
  return n >= 1 && n <= G.RING_MAX && (n & (n - 1)) === 0;
}
