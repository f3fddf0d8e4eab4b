/*
 * The board's one device table: which devices a machine has, where, and on
 * which interrupt. The native board, every VM (from its configuration), the
 * device-tree builder and reset all work from such a list; each kind
 * (src/devices/<name>.ts) brings its own window size, device-tree node,
 * factory and reset.
 *
 * Rows are in the order QEMU's virt board creates its devices, because the
 * device tree lists them in reverse of that (see board-dt.ts) and phandles
 * are numbered in it.
 *
 * Adding a device: its file under src/devices/ (the model and its
 * DeviceKind) and one row here. A VM can be given any list of rows
 * (VmConfig.devices), several of one kind included.
 */

import { assignedNicKind } from "../devices/assigned-nic/nic.ts";
import { CLINT } from "../devices/clint.ts";
import type { DeviceKind } from "../devices/device.ts";
import { ne2000Kind } from "../devices/ne2000.ts";
import { PLIC } from "../devices/plic.ts";
import { SIFIVE_TEST } from "../devices/sifive-test.ts";
import { UART_16550 } from "../devices/uart16550.ts";
import { VIRTIO_MMIO_SLOT } from "../devices/virtio-mmio-slot.ts";
import { ConfigError } from "../errors.ts";
import * as L from "./memlayout.ts";
import type { SwitchPort } from "../net/port.ts";
import type { RemotePort } from "../net/remote-port.ts";

/** One device of a machine: its kind, where its window starts, and (for kinds wired "source") its PLIC source. */
export interface DeviceSpec {
  readonly kind: DeviceKind;
  readonly base: number;
  readonly irq?: number;
}

export interface BoardDeviceOptions {
  /** Empty virtio-mmio slots to include, from slot 0 (QEMU virt has 8). */
  readonly virtioSlots?: number;
  /** NE2000 cards, each on its switch port: card n in lab slot n (memlayout NE2000_*). */
  readonly ne2000?: readonly NicCard[];
  /** Devices plugged into virtio-mmio slots, by slot; with any, all eight slots are there (the rest empty), as on QEMU virt. */
  readonly virtio?: ReadonlyMap<number, DeviceKind>;
  /** Directly assigned NICs, each on a cross-thread switch port: card n in assigned slot n (memlayout ASSIGNED_NIC_*). */
  readonly assigned?: readonly AssignedCard[];
}

/** An assigned NIC and the cross-thread port behind it. */
interface AssignedCard {
  readonly port: RemotePort;
  /** Its MAC; the board's default for its index among all NICs when absent. */
  readonly mac?: Uint8Array;
}

/** A NIC and the network port behind it. */
export interface NicCard {
  readonly port: SwitchPort;
  /** Its MAC; QEMU's default 52:54:00:12:34:56 with the card's index added to the last byte when absent. */
  readonly mac?: Uint8Array;
}

/** QEMU's first default MAC (net/net.c qemu_macaddr_default_if_unset). */
const DEFAULT_MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56] as const;

/** The popek board, QEMU virt's devices. */
export function boardDevices(opts: BoardDeviceOptions = {}): DeviceSpec[] {
  const plugged = opts.virtio ?? new Map<number, DeviceKind>();
  const slots = plugged.size > 0 ? L.VIRTIO_COUNT : (opts.virtioSlots ?? 0);
  for (const n of plugged.keys()) {
    if (!Number.isInteger(n) || n < 0 || n >= L.VIRTIO_COUNT) throw new ConfigError(`board: virtio-mmio slot ${n} (the board has 0 to ${L.VIRTIO_COUNT - 1})`);
  }
  const cards = opts.ne2000 ?? [];
  if (cards.length > L.NE2000_COUNT) throw new ConfigError(`board: ${cards.length} NE2000 cards (the lab region has room for ${L.NE2000_COUNT})`);
  const assigned = opts.assigned ?? [];
  if (assigned.length > L.ASSIGNED_NIC_COUNT) throw new ConfigError(`board: ${assigned.length} assigned NICs (the lab region has room for ${L.ASSIGNED_NIC_COUNT})`);
  if (!Number.isInteger(slots) || slots < 0 || slots > L.VIRTIO_COUNT) {
    throw new ConfigError(`board: ${slots} virtio slots (the board has ${L.VIRTIO_COUNT})`);
  }
  return [
    { kind: CLINT, base: L.CLINT_BASE },
    { kind: PLIC, base: L.PLIC_BASE },
    ...Array.from({ length: slots }, (_, n) => ({ kind: plugged.get(n) ?? VIRTIO_MMIO_SLOT, base: L.VIRTIO_BASE + n * L.VIRTIO_STRIDE, irq: L.VIRTIO_IRQ + n })),
    { kind: SIFIVE_TEST, base: L.TEST_BASE },
    { kind: UART_16550, base: L.UART0_BASE, irq: L.UART0_IRQ },
    ...cards.map((c, n) => ({ kind: ne2000Kind(c.port, c.mac ?? defaultMac(n)), base: L.NE2000_BASE + n * L.NE2000_STRIDE, irq: L.NE2000_IRQ + n })),
    ...assigned.map((c, n) => ({ kind: assignedNicKind({ port: c.port, mac: c.mac ?? defaultMac(cards.length + n) }), base: L.ASSIGNED_NIC_BASE + n * L.ASSIGNED_NIC_STRIDE })),
  ];
}

/** The default MAC of the n-th NIC (QEMU's first, counted up in the last byte). */
export function defaultMac(n: number): Uint8Array {
  const mac = new Uint8Array(DEFAULT_MAC);
  mac[5] = (mac[5] + n) & 0xff;
  return mac;
}

/**
 * Refuses a list that cannot be a machine: windows that overlap each other
 * or RAM, a source device without a controller to take its line or without a
 * source number, two devices on one source.
 */
export function checkDeviceList(specs: readonly DeviceSpec[]): void {
  const sorted = [...specs].sort((a, b) => a.base - b.base);
  for (let i = 0; i < sorted.length; i++) {
    const s = sorted[i];
    const end = s.base + s.kind.window;
    if (!Number.isSafeInteger(s.base) || s.base < 0 || end > L.DRAM_BASE) {
      throw new ConfigError(`devices: ${s.kind.name} at 0x${s.base.toString(16)} lies outside the MMIO space below RAM`);
    }
    const next = sorted[i + 1];
    if (next !== undefined && next.base < end) {
      throw new ConfigError(`devices: ${s.kind.name} at 0x${s.base.toString(16)} overlaps ${next.kind.name} at 0x${next.base.toString(16)}`);
    }
  }
  const controllers = specs.filter((s) => s.kind.irqSource !== undefined);
  if (controllers.length > 1) throw new ConfigError("devices: more than one interrupt controller takes device lines");
  const sources = new Set<number>();
  for (const s of specs) {
    if (s.kind.wiring !== "source") {
      if (s.irq !== undefined) throw new ConfigError(`devices: ${s.kind.name} has no interrupt line, yet irq ${s.irq} is given`);
      continue;
    }
    if (controllers.length === 0) throw new ConfigError(`devices: ${s.kind.name} needs an interrupt controller (a plic) for its line`);
    if (s.irq === undefined || !Number.isInteger(s.irq) || s.irq < 1) {
      throw new ConfigError(`devices: ${s.kind.name} at 0x${s.base.toString(16)} needs an interrupt source (1 or above)`);
    }
    if (sources.has(s.irq)) throw new ConfigError(`devices: interrupt source ${s.irq} is given to two devices`);
    sources.add(s.irq);
  }
}
