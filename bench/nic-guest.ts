/*
 * One bare-metal NIC test program (guests/ne2000-test, virtio-net-test,
 * assigned-test) on a machine whose NIC is on the virtual network: a native
 * board, or a VM under --virt trap. `popek bench io`'s NIC rows
 * (bench/io-nic.ts) and the NIC end-to-end tests (tests/helpers/nic.ts) run
 * their guests through it, so all of them build the same machine.
 */

import { AssignedNic } from "../src/devices/assigned-nic/nic.ts";
import { Ne2000 } from "../src/devices/ne2000.ts";
import { virtioNetKind } from "../src/devices/virtio/kinds.ts";
import { VirtioMmio } from "../src/devices/virtio/mmio.ts";
import { Hypervisor } from "../src/hypervisor/hypervisor.ts";
import type { VmResult } from "../src/hypervisor/vm.ts";
import { boardDevices, type DeviceSpec } from "../src/machine/board-devices.ts";
import { Board } from "../src/machine/board.ts";
import type { DeviceInstance } from "../src/machine/device-set.ts";
import { readImageFile } from "../src/machine/image.ts";
import { runBoard } from "../src/machine/runner.ts";
import { parseNetdev, type VirtualNetwork } from "../src/net/netdevs.ts";

/** The NIC kinds, as `bench io`'s JSON names them. */
export type NicKind = "ne2000" | "virtio" | "assigned";

/** Each kind's device model, as a run hands it back. */
interface NicModels {
  ne2000: Ne2000;
  virtio: VirtioMmio;
  assigned: AssignedNic;
}

const IMAGES: Record<NicKind, string> = {
  ne2000: "guests/bin/ne2000-test.elf",
  virtio: "guests/bin/virtio-net-test.elf",
  assigned: "guests/bin/assigned-test.elf",
};

/** Guest RAM of each machine; a hypervisor for n of them needs n times this and its own 16 MiB. */
export const NIC_GUEST_MEM = 16 * 2 ** 20;

export interface NicGuestOptions<K extends NicKind> {
  readonly kind: K;
  readonly mode: "native" | "trap";
  readonly net: VirtualNetwork;
  /** The NIC's netdev on `net` ("switch,id=a", "sink,id=s", "source,id=r,size=…,pps=…", "user,id=n0"); the run attaches it. */
  readonly netdev: string;
  readonly mac: Uint8Array;
  /** The guest's command line: peer, tx N SIZE [MS], rx N [MS] [irq], gateway, hostile. */
  readonly append: string;
  /** A hang-catcher: the guest is stopped after this long (exit 124 under trap). */
  readonly timeoutSeconds: number;
  /**
   * When the network's sources start: as the machine boots, or once the driver is up (its first
   * line, the MAC, is printed: its receive buffers are posted, so frames come one by one rather
   * than as a backlog). Unset: the caller's business (two guests on one network, or no source).
   */
  readonly startNet?: "boot" | "ready";
  /** Under trap, the hypervisor the VM runs on (two VMs on one network share one); else one of its own. */
  readonly hv?: Hypervisor;
}

export interface NicGuestRun<K extends NicKind> {
  readonly output: string;
  readonly exitCode: number;
  /** Every VM exit of the run (none natively). */
  readonly exits: number;
  /** Rises of the NIC's interrupt. */
  readonly irqs: number;
  readonly device: NicModels[K];
}

export interface NicTrapRun<K extends NicKind> extends NicGuestRun<K> {
  /** The VM's result: per-vCPU exit counters. */
  readonly result: VmResult;
}

function devicesFor(kind: NicKind, net: VirtualNetwork, netdev: string, mac: Uint8Array): DeviceSpec[] {
  const spec = parseNetdev(netdev);
  switch (kind) {
    case "ne2000":
      return boardDevices({ ne2000: [{ port: net.attach(spec), mac }] });
    case "virtio":
      // Slot 7: where QEMU's virt board puts the first virtio-mmio device.
      return boardDevices({ virtio: new Map([[7, virtioNetKind({ port: net.attach(spec), mac }, { legacy: false })]]) });
    case "assigned":
      return boardDevices({ assigned: [{ port: net.attachRemote(spec), mac }] });
  }
}

function modelOf<K extends NicKind>(kind: K, instances: readonly DeviceInstance[]): NicModels[K] {
  const model = { ne2000: Ne2000, virtio: VirtioMmio, assigned: AssignedNic }[kind];
  const device = instances.map((i) => i.device).find((d) => d instanceof model);
  if (device === undefined) throw new Error(`nic guest: the machine has no ${kind} NIC`);
  return device as NicModels[K];
}

function irqsOf(device: Ne2000 | VirtioMmio | AssignedNic): number {
  return device instanceof AssignedNic ? device.counters().irqs : device.stats.irqs;
}

/** The guest's console, and the network started where `startNet` says. */
function guestConsole(opts: NicGuestOptions<NicKind>): { text(): string; byte(b: number): void } {
  let text = "";
  let up = false;
  return {
    text: () => text,
    byte: (b) => {
      text += String.fromCharCode(b);
      if (!up && b === 10) {
        up = true;
        if (opts.startNet === "ready") opts.net.start();
      }
    },
  };
}

async function runNative<K extends NicKind>(opts: NicGuestOptions<K>): Promise<NicGuestRun<K>> {
  const out = guestConsole(opts);
  const board = new Board({ harts: 1, memSize: NIC_GUEST_MEM, clock: "real", output: out.byte, devices: devicesFor(opts.kind, opts.net, opts.netdev, opts.mac) });
  const device = modelOf(opts.kind, board.devices.instances);
  if (opts.startNet === "boot") opts.net.start();
  board.boot({ kernel: readImageFile(IMAGES[opts.kind], "kernel"), append: opts.append });
  const r = await runBoard(board, { timeoutSeconds: opts.timeoutSeconds });
  // The assigned NIC's thread may still be sending what the guest queued.
  await board.devices.quiesce();
  return { output: out.text(), exitCode: r.exitCode, exits: 0, irqs: irqsOf(device), device };
}

async function runTrap<K extends NicKind>(opts: NicGuestOptions<K>): Promise<NicTrapRun<K>> {
  const hv = opts.hv ?? new Hypervisor({ machineMemory: NIC_GUEST_MEM + 16 * 2 ** 20 });
  const out = guestConsole(opts);
  const vm = hv.createVm({
    name: `vm${hv.vms.length}`,
    vcpus: 1,
    memSize: NIC_GUEST_MEM,
    images: { bios: { kind: "none" }, kernel: readImageFile(IMAGES[opts.kind], "kernel"), append: opts.append },
    wait: "poll",
    exitHandler: "main",
    output: out.byte,
    devices: devicesFor(opts.kind, opts.net, opts.netdev, opts.mac),
  });
  const device = modelOf(opts.kind, vm.devices.instances);
  if (opts.startNet === "boot") opts.net.start();
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), opts.timeoutSeconds * 1000);
  const result = await vm.result;
  clearTimeout(timer);
  const exits = result.reports.reduce((s, r) => s + r.stats.exits, 0);
  return { output: out.text(), exitCode: result.exitCode, exits, irqs: irqsOf(device), device, result };
}

/** Runs the NIC's test program until it ends (or the time-out stops it). */
export function runNicGuest<K extends NicKind>(opts: NicGuestOptions<K> & { readonly mode: "trap" }): Promise<NicTrapRun<K>>;
export function runNicGuest<K extends NicKind>(opts: NicGuestOptions<K>): Promise<NicGuestRun<K>>;
export function runNicGuest<K extends NicKind>(opts: NicGuestOptions<K>): Promise<NicGuestRun<K>> {
  return opts.mode === "native" ? runNative(opts) : runTrap(opts);
}
