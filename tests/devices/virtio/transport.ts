/*
 * A driver's register sequences for the virtio-mmio transport (virtio 1.2
 * §3.1.1, §4.2.3.2), for tests: the same steps Linux's virtio_mmio and
 * xv6's virtio_disk.c take.
 */

import type { VirtioMmio } from "../../../src/devices/virtio/mmio.ts";
import * as V from "../../../src/devices/virtio/regs.ts";
import type { DriverRing } from "./driver-ring.ts";

export function r(dev: VirtioMmio, off: number): number {
  return dev.read(off, 4);
}

export function w(dev: VirtioMmio, off: number, value: number): void {
  dev.write(off, 4, value);
}

/** The device's 64 feature bits. */
export function deviceFeatures(dev: VirtioMmio): bigint {
  w(dev, V.REG_DEVICE_FEATURES_SEL, 0);
  const lo = r(dev, V.REG_DEVICE_FEATURES);
  w(dev, V.REG_DEVICE_FEATURES_SEL, 1);
  return (BigInt(r(dev, V.REG_DEVICE_FEATURES)) << 32n) | BigInt(lo);
}

function writeDriverFeatures(dev: VirtioMmio, f: bigint): void {
  w(dev, V.REG_DRIVER_FEATURES_SEL, 0);
  w(dev, V.REG_DRIVER_FEATURES, Number(f & 0xffff_ffffn));
  w(dev, V.REG_DRIVER_FEATURES_SEL, 1);
  w(dev, V.REG_DRIVER_FEATURES, Number(f >> 32n));
}

/** Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns whether the device kept FEATURES_OK. */
export function negotiate(dev: VirtioMmio, features: bigint): boolean {
  w(dev, V.REG_STATUS, 0);
  w(dev, V.REG_STATUS, V.STATUS_ACKNOWLEDGE);
  w(dev, V.REG_STATUS, V.STATUS_ACKNOWLEDGE | V.STATUS_DRIVER);
  writeDriverFeatures(dev, features);
  w(dev, V.REG_STATUS, V.STATUS_ACKNOWLEDGE | V.STATUS_DRIVER | V.STATUS_FEATURES_OK);
  return (r(dev, V.REG_STATUS) & V.STATUS_FEATURES_OK) !== 0;
}

/** Modern queue setup: QueueSel, QueueNum, the three addresses, QueueReady. */
export function setupQueue(dev: VirtioMmio, index: number, ring: DriverRing): void {
  w(dev, V.REG_QUEUE_SEL, index);
  w(dev, V.REG_QUEUE_NUM, ring.size);
  const { desc, avail, used } = ring.layout;
  w(dev, V.REG_QUEUE_DESC_LOW, desc % 2 ** 32);
  w(dev, V.REG_QUEUE_DESC_HIGH, Math.floor(desc / 2 ** 32));
  w(dev, V.REG_QUEUE_DRIVER_LOW, avail % 2 ** 32);
  w(dev, V.REG_QUEUE_DRIVER_HIGH, Math.floor(avail / 2 ** 32));
  w(dev, V.REG_QUEUE_DEVICE_LOW, used % 2 ** 32);
  w(dev, V.REG_QUEUE_DEVICE_HIGH, Math.floor(used / 2 ** 32));
  w(dev, V.REG_QUEUE_READY, 1);
}

function driverOk(dev: VirtioMmio): void {
  w(dev, V.REG_STATUS, r(dev, V.REG_STATUS) | V.STATUS_DRIVER_OK);
}

/** A modern device, negotiated with `features` (VERSION_1 added), queues laid out, DRIVER_OK. */
export function bringUp(dev: VirtioMmio, rings: readonly DriverRing[], features = 0n): void {
  if (!negotiate(dev, features | V.feature(V.F_VERSION_1))) throw new Error("bringUp: FEATURES_OK refused");
  rings.forEach((ring, i) => setupQueue(dev, i, ring));
  driverOk(dev);
}
