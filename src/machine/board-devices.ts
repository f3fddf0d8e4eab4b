/*
 * The popek board's device table with its optional parts: virtio-mmio
 * slots, NE2000 cards and directly assigned NICs (device-list.ts has the
 * rows every machine has, and the checks). Each kind (src/devices/<name>.ts)
 * brings its own window size, device-tree node, factory and reset.
 *
 * Adding a device: its file under src/devices/ (the model and its
 * DeviceKind) and one row here or in device-list.ts. A VM can be given any
 * list of rows (VmConfig.devices), several of one kind included.
 *
 * The NIC kinds (~65 KB with their engines) load with this file, so a
 * machine without a device option (Board's default: virtDevices) does not.
 */

import { assignedNicKind } from "../devices/assigned-nic/nic.ts";
import type { DeviceKind } from "../devices/device.ts";
import { ne2000Kind } from "../devices/ne2000.ts";
import { VIRTIO_MMIO_SLOT } from "../devices/virtio-mmio-slot.ts";
import { ConfigError } from "../errors.ts";
import { virtDevices, type DeviceSpec } from "./device-list.ts";
import * as L from "./memlayout.ts";
import type { SwitchPort } from "../net/port.ts";
import type { RemotePort } from "../net/remote-port.ts";

/** A row of the list; most of its users name it from here, with the board's table. */
export type { DeviceSpec };

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

/** The popek board: QEMU virt's devices with the slots and cards `opts` asks for (none: virtDevices()). */
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
  return virtDevices(
    Array.from({ length: slots }, (_, n) => ({ kind: plugged.get(n) ?? VIRTIO_MMIO_SLOT, base: L.VIRTIO_BASE + n * L.VIRTIO_STRIDE, irq: L.VIRTIO_IRQ + n })),
    [
      ...cards.map((c, n) => ({ kind: ne2000Kind(c.port, c.mac ?? defaultMac(n)), base: L.NE2000_BASE + n * L.NE2000_STRIDE, irq: L.NE2000_IRQ + n })),
      ...assigned.map((c, n) => ({ kind: assignedNicKind({ port: c.port, mac: c.mac ?? defaultMac(cards.length + n) }), base: L.ASSIGNED_NIC_BASE + n * L.ASSIGNED_NIC_STRIDE })),
    ],
  );
}

/** The default MAC of the n-th NIC (QEMU's first, counted up in the last byte). */
export function defaultMac(n: number): Uint8Array {
  const mac = new Uint8Array(DEFAULT_MAC);
  mac[5] = (mac[5] + n) & 0xff;
  return mac;
}
