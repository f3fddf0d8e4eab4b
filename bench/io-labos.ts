/*
 * `popek bench io --guest labos`: the I/O rows timed by labos's own
 * programs under --virt trap (guests/labos/user/netperf.c, diskperf.c)
 * rather than by the bare-metal ne2000-test and virtio-blk-bench: frames of
 * 64 and 1514 bytes through its NE2000, virtio-net and assigned-NIC drivers to a sink
 * and from a source, and 4 KiB virtio-blk requests. What differs from the
 * bare-metal rows is the kernel around the driver: a system call per
 * frame, the copy into and out of the kernel, the interrupt handler, the
 * scheduler waking the reader.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AssignedNic } from "../src/devices/assigned-nic/nic.ts";
import { Ne2000 } from "../src/devices/ne2000.ts";
import { virtioBlkKind, virtioNetKind } from "../src/devices/virtio/kinds.ts";
import { boardDevices, defaultMac, type DeviceSpec } from "../src/machine/board-devices.ts";
import { parseNetdev, VirtualNetwork } from "../src/net/netdevs.ts";
import type { SwitchPort } from "../src/net/port.ts";
import { formatTable } from "../src/report/table.ts";
import { runLabosTrap, type LabosRun } from "./labos-run.ts";

const FRAMES = [64, 1514] as const;
const NICS = ["ne2000", "virtio-net", "assigned"] as const;
type Nic = (typeof NICS)[number];
/** Frames per run: enough for a steady rate, few enough for a loaded host. */
const COUNT = 200;
/**
 * The source's rate for receive runs, as the bare-metal rows': above what the
 * guest takes, so the guest is the bottleneck. labos's NE2000 driver stops
 * taking frames while its receive queue is full (guests/labos/net.c, receive
 * livelock), so the flood is dropped by the card, not by the hart.
 */
const SOURCE_PPS = 20_000;
const DISK_REQUESTS = 64;
const DISK_MIB = 4;

export interface LabosIoRow {
  readonly nic: Nic;
  readonly dir: "tx" | "rx";
  readonly frame: number;
  readonly mbps: number;
  readonly pps: number;
  /** Every exit of the run, boot included, per frame moved. */
  readonly exitsPerPacket: number;
  /** Rises of the NE2000's interrupt line (or the assigned NIC's posted interrupt) per frame; null for virtio-net (not counted there). */
  readonly irqsPerPacket: number | null;
}

export interface LabosDiskRow {
  readonly test: string;
  readonly mbps: number;
  readonly usPerRequest: number;
}

/** The board with one NIC of that kind on `netdev` (virtio-mmio version 2, popek's default; the assigned NIC on a cross-thread port). */
function nicDevices(nic: Nic, net: VirtualNetwork, netdev: string): DeviceSpec[] {
  const mac = defaultMac(0);
  if (nic === "assigned") return boardDevices({ assigned: [{ port: net.attachRemote(parseNetdev(netdev)), mac }] });
  const port: SwitchPort = net.attach(parseNetdev(netdev));
  return nic === "ne2000"
    ? boardDevices({ ne2000: [{ port, mac }] })
    : boardDevices({ virtio: new Map([[0, virtioNetKind({ mac, port }, { legacy: false })]]) });
}

/** The interrupts the run's card raised: the NE2000's line, the assigned NIC's posted interrupt; null for virtio-net. */
function cardIrqs(run: LabosRun): number | null {
  const ne = run.devices?.find((d): d is Ne2000 => d instanceof Ne2000);
  if (ne !== undefined) return ne.stats.irqs;
  const anic = run.devices?.find((d): d is AssignedNic => d instanceof AssignedNic);
  return anic === undefined ? null : anic.counters().irqs;
}

function totalExits(run: LabosRun): number {
  return run.vm?.reports.reduce((s, r) => s + r.stats.exits, 0) ?? 0;
}

async function nicRow(nic: Nic, dir: "tx" | "rx", frame: number, count: number): Promise<LabosIoRow> {
  const net = new VirtualNetwork();
  const netdev = dir === "tx" ? "sink,id=io" : `source,id=io,size=${frame},pps=${SOURCE_PPS}`;
  const devices = nicDevices(nic, net, netdev);
  net.start();
  const run = await runLabosTrap(`netperf:${nic},${dir},${count},${frame}`, "main", devices).finally(() => net.close());
  const r = run.results.find((x) => x.name === (dir === "tx" ? "netperf.send" : "netperf.recv"));
  if (r === undefined) throw new Error(`bench io --guest labos: netperf ${nic} ${dir} printed no result`);
  const pps = r.fields.ns_per_op > 0 ? 1e9 / r.fields.ns_per_op : 0;
  const irqs = cardIrqs(run);
  return {
    nic,
    dir,
    frame,
    mbps: (pps * frame * 8) / 1e6,
    pps,
    exitsPerPacket: totalExits(run) / count,
    irqsPerPacket: irqs === null ? null : irqs / count,
  };
}

export async function diskRows(requests = DISK_REQUESTS): Promise<LabosDiskRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "popek-labos-io-"));
  try {
    const file = join(dir, "disk.img");
    writeFileSync(file, new Uint8Array(DISK_MIB * 2 ** 20));
    const devices = boardDevices({ virtio: new Map([[0, virtioBlkKind({ path: file, serial: "" }, { legacy: false })]]) });
    const run = await runLabosTrap(`diskperf:${requests}`, "main", devices);
    return run.results
      .filter((r) => r.name.startsWith("diskperf."))
      .map((r) => ({ test: r.name.slice("diskperf.".length), mbps: r.fields.ns_per_op > 0 ? (4096 * 8 * 1e3) / r.fields.ns_per_op : 0, usPerRequest: r.fields.ns_per_op / 1000 }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `popek bench io --guest labos` (src/cli/main.ts sends it here; the other flags are the bare guests'). */
export interface IoLabosOptions {
  /** Frames a run (default 200). */
  readonly count?: number;
  readonly nics?: readonly Nic[];
  readonly dirs?: readonly ("tx" | "rx")[];
  readonly frames?: readonly number[];
  readonly progress?: (line: string) => void;
}

/** Every NIC, direction and frame size asked for, one labos boot each. */
export async function benchIoLabos(opts: IoLabosOptions = {}): Promise<LabosIoRow[]> {
  const rows: LabosIoRow[] = [];
  for (const nic of opts.nics ?? NICS) {
    for (const dir of opts.dirs ?? (["tx", "rx"] as const)) {
      for (const frame of opts.frames ?? FRAMES) {
        opts.progress?.(`labos ${nic} ${dir} ${frame}-byte frames ...`);
        rows.push(await nicRow(nic, dir, frame, opts.count ?? COUNT));
      }
    }
  }
  return rows;
}

export async function benchIoLabosCommand(flags: { json?: boolean }): Promise<number> {
  const rows = await benchIoLabos({ progress: (l) => process.stderr.write(`${l}\n`) });
  process.stderr.write("labos diskperf ...\n");
  const disk = await diskRows();
  const table = [["nic", "dir", "frame", "Mbit/s", "pps", "exits/pkt", "irqs/pkt"]];
  for (const r of rows) {
    table.push([r.nic, r.dir, String(r.frame), r.mbps.toFixed(3), r.pps.toFixed(0), r.exitsPerPacket.toFixed(1), r.irqsPerPacket === null ? "-" : r.irqsPerPacket.toFixed(2)]);
  }
  process.stdout.write(`${formatTable(table)}\n(labos netperf under --virt trap, ${COUNT} frames a run; exits/pkt counts the boot too)\n\n`);
  const dtable = [["diskperf", "Mbit/s", "us/request"], ...disk.map((d) => [d.test, d.mbps.toFixed(1), d.usPerRequest.toFixed(0)])];
  process.stdout.write(`${formatTable(dtable)}\n(labos diskperf under --virt trap: ${DISK_REQUESTS} requests of 4 KiB each way through virtio-blk)\n`);
  if (flags.json) process.stdout.write(JSON.stringify({ bench: "io", guest: "labos", results: rows, disk }) + "\n");
  return 0;
}
