/*
 * The virtio-mmio transport (virtio 1.2 §4.2): one register window per
 * device, version 2 (modern, the default) or version 1 (legacy, QEMU's
 * `virtio-mmio.force-legacy=true`). It negotiates features, runs the status
 * state machine (§2.1, §3.1), lays out the queues and raises the interrupt
 * line; the device type behind it is a VirtioBackend.
 *
 * Guest mistakes that concern the queues (a bad size or ring address, a
 * notification of a queue the device lacks, a malformed ring) set
 * DEVICE_NEEDS_RESET and stop the device until the driver writes 0 to
 * Status; the machine carries on. Selecting a queue the device lacks is not
 * one: QueueNumMax then reads 0, which is how a driver learns (as from QEMU).
 * Feature negotiation is as lenient as QEMU's (see writeStatus).
 * Registers other than the configuration space take only 32-bit accesses;
 * others read 0 and are ignored, as QEMU does.
 */

import { DeviceError } from "../../errors.ts";
import type { AccessWidth, IoEvent, IrqLine, MmioDevice } from "../device.ts";
import type { GuestMemoryView } from "../../machine/guest-memory-view.ts";
import type { GuestPhysMap } from "../../machine/guest-phys-view.ts";
import type { VirtioBackend, VirtioLink } from "./backend.ts";
import { VirtqError } from "./errors.ts";
import { SplitQueue } from "./queue.ts";
import * as V from "./regs.ts";

/** One slot's window (QEMU virt: VIRTIO_STRIDE). */
export const VIRTIO_MMIO_WINDOW = 0x1000;
/** Legacy defaults before the driver writes GuestPageSize / QueueAlign. */
const LEGACY_PAGE_SIZE = 4096;
const LEGACY_ALIGN = 4096;

/** One queue's registers as the driver has written them. */
class QueueRegs {
  num = 0;
  ready = false;
  desc = 0;
  driver = 0;
  device = 0;
  /** Legacy: the ring's page number (0: not in use) and alignment. */
  pfn = 0;
  align = LEGACY_ALIGN;
  ring: SplitQueue | undefined;

  clear(): void {
    this.num = 0;
    this.ready = false;
    this.desc = this.driver = this.device = 0;
    this.pfn = 0;
    this.align = LEGACY_ALIGN;
    this.ring = undefined;
  }
}

interface VirtioMmioOptions {
  /** Version 1, as QEMU's force-legacy. */
  readonly legacy: boolean;
  /** Told of back-end work in flight off the main thread (the board's DeviceHost.asyncIo). */
  readonly asyncIo?: (delta: 1 | -1) => void;
  /** The service loop's doorbell (DeviceHost.doorbell). */
  readonly doorbell?: SharedArrayBuffer;
  /** The VM's guest-physical map (DeviceHost.guestMap). */
  readonly guestMap?: GuestPhysMap;
}

/** The transport's counters, named as results print them. */
interface TransportStats {
  /** Rises of the interrupt line (InterruptStatus going from 0 to non-zero): what a driver takes as interrupts. */
  irqs: number;
}

export class VirtioMmio implements MmioDevice {
  readonly name = "virtio-mmio";
  readonly size = VIRTIO_MMIO_WINDOW;
  readonly stats: TransportStats = { irqs: 0 };
  private readonly version: number;
  private readonly deviceFeatures: bigint;
  private readonly queues: QueueRegs[];
  private status = 0;
  private driverFeatures = 0n;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private queueSel = 0;
  private interruptStatus = 0;
  private configGeneration = 0;
  private guestPageSize = LEGACY_PAGE_SIZE;
  /** Bumped on every reset and failure: links made before are dead. */
  private epoch = 0;
  private failed = false;

  constructor(
    readonly backend: VirtioBackend,
    private readonly irq: IrqLine,
    private readonly memory: GuestMemoryView,
    private readonly opts: VirtioMmioOptions,
  ) {
    this.version = opts.legacy ? V.VERSION_LEGACY : V.VERSION_MODERN;
    const transport = V.feature(V.F_RING_INDIRECT_DESC) | V.feature(V.F_RING_EVENT_IDX);
    this.deviceFeatures = backend.features | transport | (opts.legacy ? 0n : V.feature(V.F_VERSION_1));
    this.queues = Array.from({ length: backend.queueCount }, () => new QueueRegs());
  }

  get legacy(): boolean {
    return this.version === V.VERSION_LEGACY;
  }

  /** The Status register, for tests and `--stats`. */
  get deviceStatus(): number {
    return this.status;
  }

  read(offset: number, width: AccessWidth): number {
    if (offset >= V.REG_CONFIG) return this.readConfig(offset - V.REG_CONFIG, width);
    if (width !== 4) return 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case V.REG_MAGIC:
        return V.MAGIC;
      case V.REG_VERSION:
        return this.version;
      case V.REG_DEVICE_ID:
        return this.backend.deviceId;
      case V.REG_VENDOR_ID:
        return V.VENDOR_QEMU;
      case V.REG_DEVICE_FEATURES:
        if (this.deviceFeaturesSel > 1 || (this.legacy && this.deviceFeaturesSel !== 0)) return 0;
        return Number((this.deviceFeatures >> BigInt(32 * this.deviceFeaturesSel)) & 0xffff_ffffn);
      case V.REG_QUEUE_NUM_MAX:
        return q === undefined ? 0 : V.QUEUE_NUM_MAX;
      case V.REG_QUEUE_READY:
        return !this.legacy && q?.ready ? 1 : 0;
      case V.REG_QUEUE_PFN:
        return this.legacy && q !== undefined ? q.pfn : 0;
      case V.REG_INTERRUPT_STATUS:
        return this.interruptStatus;
      case V.REG_STATUS:
        return this.status;
      case V.REG_CONFIG_GENERATION:
        return this.legacy ? 0 : this.configGeneration;
      default:
        return 0;
    }
  }

  write(offset: number, width: AccessWidth, value: number): void {
    if (offset >= V.REG_CONFIG) {
      this.writeConfig(offset - V.REG_CONFIG, width, value);
      return;
    }
    if (width !== 4) return;
    try {
      this.writeRegister(offset, value >>> 0);
    } catch (e) {
      if (!(e instanceof DeviceError)) throw e;
      this.fail(e);
    }
  }

  /** QueueNotify stores a vCPU's thread may serve itself: each queue whose back-end has a worker to kick (notifyTable). */
  ioEvents(): IoEvent[] {
    const events: IoEvent[] = [];
    for (let i = 0; i < this.queues.length; i++) {
      const table = this.backend.notifyTable?.(i);
      if (table !== undefined) events.push({ offset: V.REG_QUEUE_NOTIFY, value: i, table });
    }
    return events;
  }

  /** Writing 0 to Status, or a board reset: back to the power-on state (§2.4). */
  reset(): void {
    this.epoch++;
    this.failed = false;
    this.status = 0;
    this.driverFeatures = 0n;
    this.deviceFeaturesSel = this.driverFeaturesSel = this.queueSel = 0;
    this.interruptStatus = 0;
    this.guestPageSize = LEGACY_PAGE_SIZE;
    for (const q of this.queues) q.clear();
    this.backend.reset();
    this.irq.set(false);
  }

  /** Completions an I/O thread flagged (DeviceKind.poll). */
  poll(): boolean {
    return this.backend.poll?.() ?? false;
  }

  /** Resolves once the back-end has no work in flight off the main thread. */
  async quiesce(): Promise<void> {
    await this.backend.quiesce?.();
  }

  private writeRegister(offset: number, value: number): void {
    switch (offset) {
      case V.REG_DEVICE_FEATURES_SEL:
        this.deviceFeaturesSel = value;
        return;
      case V.REG_DRIVER_FEATURES:
        this.writeDriverFeatures(value);
        return;
      case V.REG_DRIVER_FEATURES_SEL:
        this.driverFeaturesSel = value;
        return;
      case V.REG_GUEST_PAGE_SIZE:
        if (this.legacy) this.guestPageSize = value;
        return;
      case V.REG_QUEUE_SEL:
        this.queueSel = value;
        return;
      case V.REG_QUEUE_NOTIFY:
        this.notify(value);
        return;
      case V.REG_INTERRUPT_ACK:
        this.interruptStatus &= ~value;
        this.irq.set(this.interruptStatus !== 0);
        return;
      case V.REG_STATUS:
        this.writeStatus(value);
        return;
      default:
        this.writeQueueRegister(offset, value);
    }
  }

  /** The registers of the selected queue. */
  private writeQueueRegister(offset: number, value: number): void {
    const modernOnly = offset === V.REG_QUEUE_READY || (offset >= V.REG_QUEUE_DESC_LOW && offset <= V.REG_QUEUE_DEVICE_HIGH);
    const legacyOnly = offset === V.REG_QUEUE_ALIGN || offset === V.REG_QUEUE_PFN;
    if (offset !== V.REG_QUEUE_NUM && !modernOnly && !legacyOnly) return; // read-only or undefined: ignored
    if ((modernOnly && this.legacy) || (legacyOnly && !this.legacy)) return;
    const q = this.queues[this.queueSel];
    if (q === undefined) throw new VirtqError("queue-select", `queue ${this.queueSel} of ${this.queues.length}`);
    if (this.failed) return;
    const high = (v: number, old: number) => v * 2 ** 32 + (old % 2 ** 32);
    const low = (v: number, old: number) => Math.floor(old / 2 ** 32) * 2 ** 32 + v;
    if (offset !== V.REG_QUEUE_READY && (q.ready || q.pfn !== 0) && offset !== V.REG_QUEUE_PFN) {
      throw new VirtqError("queue-live", `queue ${this.queueSel}`);
    }
    switch (offset) {
      case V.REG_QUEUE_NUM:
        q.num = value;
        return;
      case V.REG_QUEUE_ALIGN:
        q.align = value;
        return;
      case V.REG_QUEUE_PFN:
        this.setLegacyPfn(q, value);
        return;
      case V.REG_QUEUE_READY:
        this.setReady(q, (value & 1) === 1);
        return;
      case V.REG_QUEUE_DESC_LOW:
        q.desc = low(value, q.desc);
        return;
      case V.REG_QUEUE_DESC_HIGH:
        q.desc = high(value, q.desc);
        return;
      case V.REG_QUEUE_DRIVER_LOW:
        q.driver = low(value, q.driver);
        return;
      case V.REG_QUEUE_DRIVER_HIGH:
        q.driver = high(value, q.driver);
        return;
      case V.REG_QUEUE_DEVICE_LOW:
        q.device = low(value, q.device);
        return;
      case V.REG_QUEUE_DEVICE_HIGH:
        q.device = high(value, q.device);
        return;
    }
  }

  /** Modern: QueueReady 1 lays the queue out where QueueDesc/Driver/Device say. */
  private setReady(q: QueueRegs, ready: boolean): void {
    if (!ready) {
      q.ready = false;
      q.ring = undefined;
      return;
    }
    if (q.ready) return;
    q.ring = new SplitQueue(this.memory, { size: q.num, desc: q.desc, avail: q.driver, used: q.device }, this.queueFeatures());
    q.ready = true;
  }

  /** Legacy: the ring is one area from PFN·GuestPageSize (§4.2.4, the legacy layout of §2.7). */
  private setLegacyPfn(q: QueueRegs, pfn: number): void {
    if (pfn === 0) {
      q.pfn = 0;
      q.ring = undefined;
      return;
    }
    if (q.align === 0 || (q.align & (q.align - 1)) !== 0) throw new VirtqError("ring-misaligned", `QueueAlign ${q.align}`);
    const desc = pfn * this.guestPageSize;
    const avail = desc + 16 * q.num;
    const used = Math.ceil((avail + 6 + 2 * q.num) / q.align) * q.align;
    q.ring = new SplitQueue(this.memory, { size: q.num, desc, avail, used }, this.queueFeatures());
    q.pfn = pfn;
  }

  private queueFeatures(): { indirect: boolean; eventIdx: boolean } {
    return {
      indirect: (this.driverFeatures & V.feature(V.F_RING_INDIRECT_DESC)) !== 0n,
      eventIdx: (this.driverFeatures & V.feature(V.F_RING_EVENT_IDX)) !== 0n,
    };
  }

  private writeDriverFeatures(value: number): void {
    if ((this.status & V.STATUS_FEATURES_OK) !== 0 || this.driverFeaturesSel > 1) return;
    if (this.legacy && this.driverFeaturesSel !== 0) return;
    const shift = BigInt(32 * this.driverFeaturesSel);
    // Bits the device did not offer are dropped as they are written (QEMU keeps only host features too).
    this.driverFeatures = (this.driverFeatures & ~(0xffff_ffffn << shift)) | ((BigInt(value) << shift) & this.deviceFeatures);
  }

  /**
   * §3.1.1: ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK. As QEMU does (and
   * unlike what §2.2.2 would allow), FEATURES_OK is never refused: features
   * the device did not offer are dropped from the driver's set, and a driver
   * that does not accept VERSION_1 on a version-2 transport is served all
   * the same — xv6's virtio_disk.c is one, and it works on QEMU.
   */
  private writeStatus(value: number): void {
    if (value === 0) {
      this.reset();
      return;
    }
    if (this.failed) {
      this.status = (value & 0xff) | V.STATUS_DEVICE_NEEDS_RESET;
      return;
    }
    const next = value & 0xff & ~V.STATUS_DEVICE_NEEDS_RESET;
    const was = this.status;
    this.status = next;
    if ((next & V.STATUS_DRIVER_OK) !== 0 && (was & V.STATUS_DRIVER_OK) === 0) this.backend.activate(this.link());
  }

  private notify(index: number): void {
    const q = this.queues[index];
    if (q === undefined) throw new VirtqError("queue-select", `notify of queue ${index} of ${this.queues.length}`);
    if (this.failed || (this.status & V.STATUS_DRIVER_OK) === 0 || q.ring === undefined) return;
    this.backend.notify(index);
  }

  /** §2.1.2: the device needs a reset; it tells a running driver by a configuration-change interrupt. */
  private fail(e: DeviceError): void {
    if (this.failed) return;
    this.failed = true;
    this.epoch++;
    this.lastError = e.message;
    this.status |= V.STATUS_DEVICE_NEEDS_RESET;
    this.backend.failed?.();
    if ((this.status & V.STATUS_DRIVER_OK) !== 0) this.raise(V.INT_CONFIG_CHANGE);
  }

  /** Why the device last stopped (a guest error), for tests and reports. */
  lastError: string | undefined;

  private raise(bits: number): void {
    if (this.interruptStatus === 0) this.stats.irqs++;
    this.interruptStatus |= bits;
    this.irq.set(true);
  }

  private link(): VirtioLink {
    const epoch = this.epoch;
    const live = () => epoch === this.epoch;
    return {
      memory: this.memory,
      features: this.driverFeatures,
      queue: (i) => {
        const ring = this.queues[i]?.ring;
        if (ring === undefined) throw new VirtqError("queue-select", `queue ${i} is not set up`);
        return ring;
      },
      used: (i) => {
        if (live() && this.queues[i]?.ring?.needsInterrupt()) this.raise(V.INT_USED_BUFFER);
      },
      interrupt: (i) => {
        if (live() && this.queues[i]?.ring !== undefined) this.raise(V.INT_USED_BUFFER);
      },
      fail: (e) => {
        if (live()) this.fail(e);
      },
      asyncIo: (delta) => this.opts.asyncIo?.(delta),
      doorbell: this.opts.doorbell,
      guestMap: this.opts.guestMap,
      get live() {
        return live();
      },
    };
  }

  private readConfig(offset: number, width: AccessWidth): number {
    if (offset + width > this.backend.configSize) return 0;
    return this.backend.readConfig(offset, width);
  }

  private writeConfig(offset: number, width: AccessWidth, value: number): void {
    if (offset + width > this.backend.configSize) return;
    this.backend.writeConfig(offset, width, value);
    this.configGeneration = (this.configGeneration + 1) >>> 0;
  }
}
