/*
 * A directly assigned NIC, the main thread's side: it owns the register
 * page, starts the device's worker thread (worker-loop.ts) and stops it.
 * Everything a driver does reaches the device without this object:
 *
 *   under a hypervisor the page is a machine frame mapped into the guest
 *   (DirectAttachment.registerPage), so the guest's register accesses are
 *   plain loads and stores — no exit — that the worker sees by polling;
 *   natively the page is this object's own shared memory and the bus calls
 *   read/write below (a native board has no exits to save).
 *
 * DMA goes through the IOMMU context the owner programmed, interrupts are
 * posted by the worker into a hart's mip word (riscv.ts IRQ_POSTED), and
 * frames move through the switch port's rings in shared memory.
 */

import { Worker } from "node:worker_threads";
import { fdtNode, propBytes, propString } from "../../machine/fdt.ts";
import { IRQ_POSTED } from "../../machine/riscv.ts";
import type { RemotePort } from "../../net/remote-port.ts";
import type { AccessWidth, DeviceKind, DirectAttachment, MmioDevice } from "../device.ts";
import { newNicStats, readNicStats, type NicStatName } from "./engine.ts";
import * as G from "./regs.ts";
import { CTL_RESET, CTL_STOP, CTL_WORDS, type NicWorkerData } from "./worker-loop.ts";

/**
 * Compiled (dist/, this file is .js): the compiled worker starts directly. From the sources
 * (tsx, vitest): a small boot file registers tsx in the new thread first.
 */
const WORKER_ENTRY = import.meta.url.endsWith(".js")
  ? new URL("../../../workers/assigned-nic.js", import.meta.url)
  : new URL("../../../workers/assigned-nic-boot.js", import.meta.url);

export interface AssignedNicConfig {
  /** The switch's end of the NIC's cross-thread port. */
  readonly port: RemotePort;
  readonly mac: Uint8Array;
}

export class AssignedNic implements MmioDevice {
  readonly name = "assigned-nic";
  readonly size = G.PAGE_BYTES;
  /** The register page (32-bit words), wherever it lives. */
  readonly page: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly stats = newNicStats();
  private readonly control = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  private readonly worker: Worker;
  private stopped: Promise<void> | undefined;
  /** Set if the worker thread died: the device is dead, as hardware whose firmware crashed. */
  failure: string | undefined;

  constructor(
    readonly direct: DirectAttachment,
    private readonly config: AssignedNicConfig,
  ) {
    const buffer = direct.registerPage === undefined ? new SharedArrayBuffer(G.PAGE_BYTES) : direct.machine;
    const offset = direct.registerPage ?? 0;
    this.page = new Int32Array(buffer, offset, G.PAGE_BYTES / 4);
    this.bytes = new Uint8Array(buffer, offset, G.PAGE_BYTES);
    this.powerOn();
    const data: NicWorkerData = {
      pageBuffer: buffer,
      pageOffset: offset,
      machine: direct.machine,
      machineBytes: direct.machineBytes,
      iommu: direct.iommu,
      codeWrites: direct.codeWrites,
      harts: direct.harts,
      port: config.port.handle,
      stats: this.stats,
      control: this.control.buffer as SharedArrayBuffer,
    };
    this.worker = new Worker(WORKER_ENTRY, { workerData: data });
    // The device never keeps the process alive on its own (the CLI ends when the guest does).
    this.worker.unref();
    this.worker.on("error", (e: Error) => (this.failure = `assigned-nic worker crashed: ${e.message}`));
  }

  /** The device-owned identity words, and every guest-owned word zero. */
  private powerOn(): void {
    const mac = this.config.mac;
    this.page.fill(0);
    Atomics.store(this.page, G.word(G.REG_ID), G.ANIC_ID);
    Atomics.store(this.page, G.word(G.REG_VERSION), G.ANIC_VERSION);
    Atomics.store(this.page, G.word(G.REG_MAC_LO), mac[0] | (mac[1] << 8) | (mac[2] << 16) | (mac[3] << 24));
    Atomics.store(this.page, G.word(G.REG_MAC_HI), mac[4] | (mac[5] << 8));
    Atomics.store(this.page, G.word(G.REG_RING_MAX), G.RING_MAX);
  }

  /** A bus access (natively; under a hypervisor the guest's accesses never come here). Only guest-owned words take writes. */
  read(offset: number, width: AccessWidth): number {
    if (width === 4 && (offset & 3) === 0) return Atomics.load(this.page, offset >>> 2) >>> 0;
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = v * 256 + this.bytes[offset + i];
    return v;
  }

  write(offset: number, width: AccessWidth, value: number): void {
    if (offset < G.GUEST_START || offset + width > G.GUEST_END) return;
    if (width === 4 && (offset & 3) === 0) {
      Atomics.store(this.page, offset >>> 2, value | 0);
      return;
    }
    for (let i = 0; i < width; i++) this.bytes[offset + i] = (value >>> (8 * i)) & 0xff;
  }

  /** Board reset: the page to power-on, and the engine told to drop its state. */
  reset(): void {
    this.powerOn();
    Atomics.add(this.control, CTL_RESET, 1);
  }

  /**
   * Stops the worker: no DMA and no post after this resolves. The port stays
   * plugged in (a rebooted VM's new NIC takes the same one); its network
   * unplugs it (VirtualNetwork.close).
   */
  close(): Promise<void> {
    this.stopped ??= (async () => {
      Atomics.store(this.control, CTL_STOP, 1);
      await this.worker.terminate();
    })();
    return this.stopped;
  }

  /** The device's counters. */
  counters(): Record<NicStatName, number> {
    return readNicStats(this.stats);
  }
}

/** An assigned NIC on one cross-thread switch port, as a board device (a kind per card: each has its port and MAC). */
export function assignedNicKind(config: AssignedNicConfig): DeviceKind<AssignedNic> {
  return {
    name: "assigned-nic",
    window: G.PAGE_BYTES,
    wiring: "none",
    assigned: true,
    dt: {
      node: "ethernet",
      build: (c) =>
        fdtNode(c.name, [c.hartInterrupts([IRQ_POSTED]), c.reg, propBytes("local-mac-address", config.mac), propString("compatible", "popek,assigned-nic")]),
    },
    create: (ctx) => {
      if (ctx.direct === undefined) throw new Error("assigned-nic: created without a direct attachment");
      return new AssignedNic(ctx.direct, config);
    },
    reset: (d) => d.reset(),
    quiesce: (d) => d.close(),
  };
}
