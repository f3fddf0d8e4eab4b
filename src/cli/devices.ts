/*
 * The device flags of `popek run`, in QEMU's words:
 *
 *   --drive file=disk.img,if=none,format=raw,id=d0 --device virtio-blk-device,drive=d0
 *   --drive file=disk.img,if=virtio,format=raw       (shorthand: a virtio-blk-device of its own)
 *   --netdev user,id=n0 --device virtio-net-device,netdev=n0[,mac=52:54:00:12:34:56]
 *   --netdev switch,id=n0 --device ne2000,netdev=n0[,mac=...]   (the lab's emulated NIC)
 *   --netdev switch,id=n0 --device assigned-nic,netdev=n0[,mac=...]   (the lab's directly assigned NIC)
 *   --global virtio-mmio.force-legacy=false|true
 *   bus=virtio-mmio-bus.N on a --device picks slot N
 *
 * Slots are given as QEMU's virt gives them: each --device, in order, takes
 * the highest free slot unless bus= names one, then each if=virtio drive
 * (QEMU adds those after the explicit devices). QEMU puts if=virtio on PCI
 * on this board; popek has no PCI, so they become virtio-mmio devices. QEMU
 * defaults to force-legacy=true; popek to modern (version 2), which is what
 * xv6-style drivers ask QEMU for with force-legacy=false.
 */

import type { DeviceKind } from "../devices/device.ts";
import { virtioBlkKind, virtioConsoleKind, virtioNetKind, type TransportConfig } from "../devices/virtio/kinds.ts";
import { ConfigError } from "../errors.ts";
import { VIRTIO_COUNT } from "../machine/memlayout.ts";
import type { SwitchPort } from "../net/port.ts";
import type { RemotePort } from "../net/remote-port.ts";
import { freshNetdevPorts, type Netdev } from "./netdev.ts";
import { parseMac } from "../net/ethernet.ts";
import { boardDevices, defaultMac, type DeviceSpec, type NicCard } from "../machine/board-devices.ts";
import { onlyKeys, parseQemuBool, parseQemuOpts, type QemuOpts } from "./qemu-opts.ts";

export interface DeviceFlags {
  drive?: string[];
  device?: string[];
  netdev?: string[];
  global?: string[];
}

interface Drive {
  readonly file: string;
  readonly id: string | undefined;
  readonly shorthand: boolean;
}

const BUS_PREFIX = "virtio-mmio-bus.";
/** The lab's emulated NIC (src/devices/ne2000.ts): a --device of its own, outside the virtio slots. */
const NE2000 = "ne2000";
/** The lab's directly assigned NIC (src/devices/assigned-nic/): likewise. */
const ASSIGNED_NIC = "assigned-nic";

/** The virtio devices the flags ask for, by virtio-mmio slot; `portFor` finds a netdev's switch port. */
export function virtioDevicesFrom(flags: DeviceFlags, portFor: (nd: Netdev) => SwitchPort = freshNetdevPorts()): Map<number, DeviceKind> {
  const transport = transportFrom(flags.global ?? []);
  const drives = (flags.drive ?? []).map(parseDrive);
  const netdevs = (flags.netdev ?? []).map(parseNetdev);
  const byId = <T extends { id: string | undefined }>(what: string, list: readonly T[]) => {
    const m = new Map<string, T>();
    for (const x of list) {
      if (x.id === undefined) continue;
      if (m.has(x.id)) throw new ConfigError(`${what}: id=${x.id} is given twice`);
      m.set(x.id, x);
    }
    return m;
  };
  const driveIds = byId("--drive", drives);
  const netdevIds = byId("--netdev", netdevs);
  const usedDrives = new Set<Drive>();
  const usedNetdevs = new Set<Netdev>();
  const slots = new Map<number, DeviceKind>();
  let nics = 0;

  const place = (what: string, kind: DeviceKind, bus: string | undefined) => {
    const slot = bus === undefined ? highestFree(slots) : busSlot(bus);
    if (slot === undefined) throw new ConfigError(`${what}: all ${VIRTIO_COUNT} virtio-mmio slots are taken`);
    if (slots.has(slot)) throw new ConfigError(`${what}: bus ${BUS_PREFIX}${slot} already has a device`);
    slots.set(slot, kind);
  };

  for (const text of flags.device ?? []) {
    const o = parseQemuOpts("--device", text);
    const what = `--device ${o.head ?? text}`;
    if (o.head === "virtio-blk-device") {
      onlyKeys(what, o, ["drive", "bus", "serial", "id"]);
      const drive = lookup(what, "drive", o, driveIds);
      if (drive.shorthand) throw new ConfigError(`${what}: drive ${drive.id} is if=virtio, which makes its own device (use if=none)`);
      if (usedDrives.has(drive)) throw new ConfigError(`${what}: drive ${drive.id} is already used by another device`);
      usedDrives.add(drive);
      place(what, virtioBlkKind({ path: drive.file, serial: o.values.get("serial") ?? "" }, transport), o.values.get("bus"));
    } else if (o.head === "virtio-net-device") {
      onlyKeys(what, o, ["netdev", "bus", "mac", "id"]);
      const nd = lookup(what, "netdev", o, netdevIds);
      if (usedNetdevs.has(nd)) throw new ConfigError(`${what}: netdev ${nd.id} is already used by another NIC`);
      usedNetdevs.add(nd);
      const macText = o.values.get("mac");
      const mac = macText === undefined ? defaultMac(nics) : macOption(what, macText);
      nics++;
      place(what, virtioNetKind({ mac, port: portFor(nd) }, transport), o.values.get("bus"));
    } else if (o.head === "virtio-console-device") {
      onlyKeys(what, o, ["bus", "id"]);
      place(what, virtioConsoleKind(transport), o.values.get("bus"));
    } else if (o.head !== NE2000 && o.head !== ASSIGNED_NIC) {
      throw new ConfigError(`--device ${o.head ?? text}: unknown device (popek takes virtio-blk-device, virtio-net-device, virtio-console-device, ne2000, assigned-nic)`);
    }
  }
  for (const d of drives) {
    if (d.shorthand) place(`--drive file=${d.file},if=virtio`, virtioBlkKind({ path: d.file, serial: "" }, transport), undefined);
  }
  return slots;
}

/** The cards of one lab NIC kind the flags ask for (`--device KIND,netdev=ID[,mac=..]`), card n in the kind's slot n. */
function nicCardsFrom<P>(flags: DeviceFlags, kind: string, portFor: (nd: Netdev) => P): { port: P; mac?: Uint8Array }[] {
  const netdevs = new Map((flags.netdev ?? []).map(parseNetdev).map((nd) => [nd.id, nd]));
  const cards: { port: P; mac?: Uint8Array }[] = [];
  for (const text of flags.device ?? []) {
    const o = parseQemuOpts("--device", text);
    if (o.head !== kind) continue;
    const what = `--device ${o.head}`;
    onlyKeys(what, o, ["netdev", "mac", "id"]);
    const nd = lookup(what, "netdev", o, netdevs);
    const macText = o.values.get("mac");
    cards.push({ port: portFor(nd), mac: macText === undefined ? undefined : macOption(what, macText) });
  }
  return cards;
}

/**
 * The board's device list for the flags: QEMU virt's devices, the virtio
 * slots, the NE2000 cards and the assigned NICs (whose ports are
 * cross-thread: `remotePortFor`), all on one network.
 */
export function boardDevicesFrom(flags: DeviceFlags, portFor: (nd: Netdev) => SwitchPort, remotePortFor?: (nd: Netdev) => RemotePort): DeviceSpec[] {
  const assigned = remotePortFor === undefined ? [] : nicCardsFrom(flags, ASSIGNED_NIC, remotePortFor);
  if (remotePortFor === undefined && (flags.device ?? []).some((d) => parseQemuOpts("--device", d).head === ASSIGNED_NIC)) {
    throw new ConfigError(`--device ${ASSIGNED_NIC}: this command cannot assign a device`);
  }
  const ne2000: NicCard[] = nicCardsFrom(flags, NE2000, portFor);
  return boardDevices({ virtio: virtioDevicesFrom(flags, portFor), ne2000, assigned });
}

/** The --global settings popek knows: only virtio-mmio.force-legacy. */
function transportFrom(globals: readonly string[]): TransportConfig {
  let legacy = false;
  for (const g of globals) {
    const m = /^([^.=]+)\.([^=]+)=(.*)$/.exec(g);
    if (m === null) throw new ConfigError(`--global ${g}: expected DRIVER.PROPERTY=VALUE`);
    if (m[1] !== "virtio-mmio" || m[2] !== "force-legacy") throw new ConfigError(`--global ${g}: popek knows only virtio-mmio.force-legacy`);
    legacy = parseQemuBool(`--global ${g}`, m[3]);
  }
  return { legacy };
}

function parseDrive(text: string): Drive {
  const o = parseQemuOpts("--drive", text);
  if (o.head !== undefined) throw new ConfigError(`--drive ${text}: expected key=value pairs (file=...,if=...)`);
  onlyKeys("--drive", o, ["file", "if", "format", "id"]);
  const file = o.values.get("file");
  if (file === undefined || file === "") throw new ConfigError(`--drive ${text}: file= is missing`);
  const format = o.values.get("format") ?? "raw";
  if (format !== "raw") throw new ConfigError(`--drive ${text}: format=${format}: popek reads raw images only`);
  const iface = o.values.get("if") ?? "virtio";
  if (iface !== "none" && iface !== "virtio") throw new ConfigError(`--drive ${text}: if=${iface}: popek takes if=virtio or if=none`);
  const id = o.values.get("id");
  if (iface === "none" && id === undefined) throw new ConfigError(`--drive ${text}: if=none needs id= for a --device to name`);
  return { file, id, shorthand: iface === "virtio" };
}

function parseNetdev(text: string): Netdev {
  const o = parseQemuOpts("--netdev", text);
  const id = o.values.get("id");
  if (o.head === undefined) throw new ConfigError(`--netdev ${text}: expected TYPE,id=ID (e.g. user,id=n0)`);
  if (id === undefined || id === "") throw new ConfigError(`--netdev ${text}: id= is missing`);
  const options = new Map(o.values);
  options.delete("id");
  return { type: o.head, id, options };
}

/** A NIC's mac= option as bytes; one line naming the option when it is not a MAC. */
function macOption(what: string, text: string): Uint8Array {
  try {
    return parseMac(text);
  } catch {
    throw new ConfigError(`${what}: mac=${text} is not six hex bytes like 52:54:00:12:34:56`);
  }
}

function lookup<T>(what: string, key: string, o: QemuOpts, ids: ReadonlyMap<string, T>): T {
  const id = o.values.get(key);
  if (id === undefined) throw new ConfigError(`${what}: ${key}= is missing`);
  const found = ids.get(id);
  if (found === undefined) throw new ConfigError(`${what}: no --${key} with id=${id}`);
  return found;
}

function busSlot(bus: string): number {
  const n = Number(bus.slice(BUS_PREFIX.length));
  if (!bus.startsWith(BUS_PREFIX) || !/^\d+$/.test(bus.slice(BUS_PREFIX.length)) || n >= VIRTIO_COUNT) {
    throw new ConfigError(`bus=${bus}: expected ${BUS_PREFIX}0 to ${BUS_PREFIX}${VIRTIO_COUNT - 1}`);
  }
  return n;
}

/** QEMU's virt hands out its transports from the last: slot 7 first. */
function highestFree(slots: ReadonlyMap<number, DeviceKind>): number | undefined {
  for (let n = VIRTIO_COUNT - 1; n >= 0; n--) if (!slots.has(n)) return n;
  return undefined;
}
