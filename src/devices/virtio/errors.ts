/*
 * Everything a guest driver can get wrong with a virtio device, as one flat
 * list (rust-vmm's virtio-queue keeps one such enum). Each is a DeviceError:
 * the device sets DEVICE_NEEDS_RESET and stops serving until the driver
 * resets it; the machine, the hypervisor and other VMs carry on.
 */

import { DeviceError } from "../../errors.ts";

const MESSAGES = {
  "ring-outside-ram": "a ring (descriptor table, available or used ring) lies outside guest RAM",
  "ring-misaligned": "a ring address is not aligned as §2.7 requires",
  "bad-queue-size": "QueueNum is 0, above QueueNumMax or not a power of two",
  "queue-select": "a queue register was written, or a queue notified, that the device does not have",
  "queue-live": "a queue's layout was changed while it is ready",
  "too-many-in-flight": "the available ring claims more buffers than the queue holds",
  "head-out-of-range": "a descriptor index in the available ring is beyond the queue",
  "next-out-of-range": "a descriptor's next index is beyond its table",
  "chain-too-long": "a descriptor chain is longer than its table allows (a loop)",
  "chain-too-big": "a descriptor chain's lengths add up past 2^32 - 1",
  "buffer-outside-ram": "a descriptor's buffer lies outside guest RAM",
  "indirect-not-negotiated": "an indirect descriptor, but RING_INDIRECT_DESC was not negotiated",
  "indirect-nested": "an indirect descriptor inside an indirect table",
  "indirect-with-next": "an indirect descriptor that also has NEXT set",
  "indirect-bad-size": "an indirect table of zero length, not a multiple of 16 bytes, or too large",
  "descriptor-order": "a device-readable descriptor after a device-writable one",
  "request-malformed": "a request's buffers do not have the layout its device defines",
} as const;

export type VirtqErrorKind = keyof typeof MESSAGES;

export class VirtqError extends DeviceError {
  constructor(
    readonly kind: VirtqErrorKind,
    detail = "",
  ) {
    super(`virtio: ${MESSAGES[kind]}${detail === "" ? "" : ` (${detail})`}`);
  }
}

/** Every kind, in a fixed order: how a kind crosses threads as a number (blk-vhost.ts). */
export const VIRTQ_ERROR_KINDS = Object.keys(MESSAGES) as VirtqErrorKind[];
