/*
 * The seam between the virtio-mmio transport and a device type (block,
 * network): the transport owns registers, feature negotiation, status and
 * queues; a back-end owns its configuration space and serves its queues.
 * Back-ends run on the main thread and reach guest memory only through the
 * queues and the view they are given.
 */

import type { GuestMemoryView } from "../../machine/guest-memory-view.ts";
import type { GuestPhysMap } from "../../machine/guest-phys-view.ts";
import type { DeviceError } from "../../errors.ts";
import type { SplitQueue } from "./queue.ts";

/** What the transport gives a back-end once the driver sets DRIVER_OK. */
export interface VirtioLink {
  readonly memory: GuestMemoryView;
  /** The features both sides agreed on. */
  readonly features: bigint;
  /** Queue i, as the driver laid it out. */
  queue(i: number): SplitQueue;
  /** Buffers were returned on queue i: interrupt the driver if it wants one. */
  used(i: number): void;
  /** Buffers were returned on queue i by another writer, which found that the driver wants an interrupt (blk-used.ts): raise it. */
  interrupt(i: number): void;
  /** The guest broke the device's rules: DEVICE_NEEDS_RESET, and nothing more until a reset. */
  fail(e: DeviceError): void;
  /** Work started (+1) or finished (-1) off the main thread (DeviceHost.asyncIo). */
  asyncIo(delta: 1 | -1): void;
  /** The service loop's doorbell (DeviceHost.doorbell), for I/O threads to ring when they finish. */
  readonly doorbell: SharedArrayBuffer | undefined;
  /** The VM's guest-physical map, for a helper thread's own view of guest RAM (DeviceHost.guestMap); undefined natively. */
  readonly guestMap: GuestPhysMap | undefined;
  /** False once the device was reset or failed since this link was made: late completions are dropped. */
  readonly live: boolean;
}

export interface VirtioBackend {
  /** §5: 1 network, 2 block, 3 console. */
  readonly deviceId: number;
  /** Device-type feature bits the back-end offers (the transport adds its own). */
  readonly features: bigint;
  readonly queueCount: number;
  /** Bytes of configuration space. */
  readonly configSize: number;
  /** A little-endian read of the configuration space; offset + width within configSize. */
  readConfig(offset: number, width: number): number;
  writeConfig(offset: number, width: number, value: number): void;
  /** The driver set DRIVER_OK: the queues are live. */
  activate(link: VirtioLink): void;
  /** The driver notified queue i (QueueNotify). */
  notify(i: number): void;
  /** A table a vCPU's thread may kick for a notify of queue `i` without an exit (DeviceHost IoEvent), if the back-end has a worker that serves the queue. */
  notifyTable?(i: number): SharedArrayBuffer | undefined;
  /** The device stopped with DEVICE_NEEDS_RESET (a guest error the transport or the back-end found): helper threads stop serving at once. */
  failed?(): void;
  /** The device was reset: forget the link and every request in flight. */
  reset(): void;
  /** Resolves once no work is in flight off the main thread (absent: there never is). */
  quiesce?(): Promise<void>;
  /** Finishes work an I/O thread flagged done in shared memory, or work a notification left (DeviceKind.poll); cheap when there is none; whether it did any. */
  poll?(): boolean;
}
