/*
 * virtio devices as rows of the board's device table: a kind per configured
 * instance (its image, its MAC and port are in the closure), each making a
 * fresh back-end behind a virtio-mmio transport whenever a machine is built,
 * so a rebooted VM starts from a power-on device. Described in the device
 * tree exactly as an empty slot is, as QEMU describes all eight.
 */

import type { DeviceHost, DeviceKind } from "../device.ts";
import { VIRTIO_MMIO_SLOT } from "../virtio-mmio-slot.ts";
import type { VirtioBackend } from "./backend.ts";
import { VirtioBlk, type BlkConfig } from "./blk.ts";
import { VirtioConsole } from "./console.ts";
import { VirtioMmio, VIRTIO_MMIO_WINDOW } from "./mmio.ts";
import { VirtioNet, type NetConfig } from "./net.ts";

export interface TransportConfig {
  /** virtio-mmio version 1, as QEMU's `--global virtio-mmio.force-legacy=true`. */
  readonly legacy: boolean;
}

/** A virtio-mmio device whose back-end `make` builds (given the machine's host side); `name` is QEMU's device name. */
function virtioMmioKind(name: string, make: (host: DeviceHost) => VirtioBackend, transport: TransportConfig): DeviceKind<VirtioMmio> {
  return {
    name,
    window: VIRTIO_MMIO_WINDOW,
    wiring: "source",
    dt: VIRTIO_MMIO_SLOT.dt,
    create: (ctx, host) => new VirtioMmio(make(host), ctx.irq, ctx.memory, { legacy: transport.legacy, asyncIo: host.asyncIo, doorbell: host.doorbell, guestMap: host.guestMap }),
    reset: (device) => device.reset(),
    quiesce: (device) => device.quiesce(),
    poll: (device) => device.poll(),
    input: (device, bytes) => {
      if (device.backend instanceof VirtioConsole) device.backend.receive(bytes);
    },
  };
}

/** `virtio-blk-device` on a raw image. */
export function virtioBlkKind(cfg: BlkConfig, transport: TransportConfig): DeviceKind<VirtioMmio> {
  // Opened once here so a missing or unreadable image is a configuration error before the machine starts.
  new VirtioBlk(cfg);
  return virtioMmioKind("virtio-blk-device", () => new VirtioBlk(cfg), transport);
}

/** `virtio-net-device` on a switch port. */
export function virtioNetKind(cfg: NetConfig, transport: TransportConfig): DeviceKind<VirtioMmio> {
  // One back-end per port (a port has one receive handler): a rebuilt machine resets and reuses it.
  const net = new VirtioNet(cfg);
  return virtioMmioKind(
    "virtio-net-device",
    () => {
      net.reset();
      return net;
    },
    transport,
  );
}

/**
 * `virtio-console-device` (popek's name: QEMU builds the same from
 * virtio-serial-device plus a virtconsole port): one port, the machine's
 * console — its output beside the UART's, host input to both.
 */
export function virtioConsoleKind(transport: TransportConfig): DeviceKind<VirtioMmio> {
  return virtioMmioKind("virtio-console-device", (host) => new VirtioConsole((b) => host.consoleOut(b)), transport);
}
