/*
 * A machine's device list: which devices it has, where, and on which
 * interrupt. The native board, every VM (from its configuration), the
 * device-tree builder and reset all work from such a list.
 *
 * Rows are in the order QEMU's virt board creates its devices, because the
 * device tree lists them in reverse of that (see board-dt.ts) and phandles
 * are numbered in it. board-devices.ts adds the optional rows (virtio
 * slots, NICs).
 */

import { CLINT } from "../devices/clint.ts";
import type { DeviceKind } from "../devices/device.ts";
import { PLIC } from "../devices/plic.ts";
import { SIFIVE_TEST } from "../devices/sifive-test.ts";
import { UART_16550 } from "../devices/uart16550.ts";
import { ConfigError } from "../errors.ts";
import * as L from "./memlayout.ts";

/** One device of a machine: its kind, where its window starts, and (for kinds wired "source") its PLIC source. */
export interface DeviceSpec {
  readonly kind: DeviceKind;
  readonly base: number;
  readonly irq?: number;
}

/** QEMU virt's own devices, with `slots` (virtio-mmio) where QEMU creates them and `cards` (the lab's NICs) last. */
export function virtDevices(slots: readonly DeviceSpec[] = [], cards: readonly DeviceSpec[] = []): DeviceSpec[] {
  return [
    { kind: CLINT, base: L.CLINT_BASE },
    { kind: PLIC, base: L.PLIC_BASE },
    ...slots,
    { kind: SIFIVE_TEST, base: L.TEST_BASE },
    { kind: UART_16550, base: L.UART0_BASE, irq: L.UART0_IRQ },
    ...cards,
  ];
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
