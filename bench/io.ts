/*
 * `popek bench io`: frames of 64 and 1514 bytes through each NIC kind to a
 * sink (tx) and from a source (rx), each for a fixed time, all in one
 * invocation: Mbit/s, packets/s, exits and interrupts per packet, and the
 * main thread's busy time. The NE2000 rows are bench/io-ne2000.ts (under
 * --virt trap), the virtio-net rows bench/io-virtio.ts (native and trap),
 * with the ratio of each virtio row to the NE2000 row of the same direction
 * and frame size under trap. Then the
 * block device: virtio-blk requests beside the host's own loop on the same
 * file (bench/io-blk.ts).
 */

import { formatTable } from "../src/report/table.ts";
import { benchAssigned } from "./io-assigned.ts";
import { ioRatios } from "./io-ratios.ts";
import { benchIoBlk, DEFAULT_BLK_DEPTH, formatBlkResults, MAX_BLK_DEPTH } from "./io-blk.ts";
import type { IoDirection, IoResult } from "./io-nic.ts";
import { benchNe2000 } from "./io-ne2000.ts";
import { benchVirtioNet } from "./io-virtio.ts";

const FRAMES = [64, 1514] as const;
const DIRECTIONS: readonly IoDirection[] = ["tx", "rx"];
const DEFAULT_MS = 2000;

export async function benchIo(ms = DEFAULT_MS, progress: (line: string) => void = () => {}): Promise<IoResult[]> {
  const results: IoResult[] = [];
  for (const dir of DIRECTIONS) {
    for (const frame of FRAMES) {
      progress(`ne2000 ${dir} ${frame}-byte frames ...`);
      results.push(await benchNe2000(dir, frame, ms));
      for (const mode of ["native", "trap"] as const) {
        progress(`virtio ${mode} ${dir} ${frame}-byte frames ...`);
        results.push(await benchVirtioNet(mode, dir, frame, ms));
      }
    }
  }
  for (const dir of DIRECTIONS) {
    for (const frame of FRAMES) {
      progress(`assigned ${dir} ${frame}-byte frames ...`);
      results.push(await benchAssigned(dir, frame, ms));
    }
  }
  return results;
}

function table(results: readonly IoResult[]): string {
  const rows = [["nic", "mode", "dir", "frame", "Mbit/s", "pps", "exits/pkt", "irqs/pkt", "main busy %"]];
  for (const r of results) {
    rows.push([r.nic, r.mode, r.dir, String(r.frame), r.mbps.toFixed(3), r.pps.toFixed(0), r.exitsPerPacket.toFixed(r.exitsPerPacket < 1 ? 4 : 1), r.irqsPerPacket.toFixed(4), r.mainBusyPct.toFixed(0)]);
  }
  return formatTable(rows);
}

/** What `--only` may name: the NIC rows or the block rows. */
const ROW_GROUPS = ["nic", "blk"] as const;

export async function benchIoCommand(flags: { json?: boolean; ms?: string; diskMib?: string; blkDepth?: string; only?: string }): Promise<number> {
  const only = flags.only;
  if (only !== undefined && !(ROW_GROUPS as readonly string[]).includes(only)) {
    process.stderr.write(`popek: bench io: --only ${only} is not one of ${ROW_GROUPS.join(", ")}\n`);
    return 2;
  }
  const ms = flags.ms === undefined ? DEFAULT_MS : Number(flags.ms);
  if (!Number.isInteger(ms) || ms < 1) {
    process.stderr.write(`popek: bench io: --ms ${flags.ms} is not a positive whole number of milliseconds\n`);
    return 2;
  }
  const diskMib = flags.diskMib === undefined ? undefined : Number(flags.diskMib);
  if (diskMib !== undefined && (!Number.isInteger(diskMib) || diskMib < 1)) {
    process.stderr.write(`popek: bench io: --disk-mib ${flags.diskMib} is not a positive whole number\n`);
    return 2;
  }
  const depth = flags.blkDepth === undefined ? DEFAULT_BLK_DEPTH : Number(flags.blkDepth);
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_BLK_DEPTH) {
    process.stderr.write(`popek: bench io: --blk-depth ${flags.blkDepth} is not a whole number from 1 to ${MAX_BLK_DEPTH}\n`);
    return 2;
  }
  const progress = (line: string): boolean => process.stderr.write(`${line}\n`);
  const results = only === "blk" ? [] : await benchIo(ms, progress);
  const rs = ioRatios(results);
  if (only !== "blk") {
    process.stdout.write(`${table(results)}\n(NE2000 under --virt trap; tx polls ISR with interrupts masked, rx takes the card's interrupt when its ring runs empty.\n`);
    process.stdout.write(` virtio-net batches: one notify per batch of up to 1024 frames, interrupts only before the guest sleeps in wfi; natively there are no exits.\n`);
    process.stdout.write(" assigned under --virt trap: register page mapped into the guest, rings polled; its exits are the guest's clock reads and console.)\n");
    process.stdout.write(`${rs.map((r) => `${r.of} ${r.mode} ${r.dir} ${r.frame}: ${r.ratio.toFixed(r.ratio < 10 ? 2 : 0)}x`).join(", ")}\n\n`);
  }
  const blk = only === "nic" ? [] : await benchIoBlk({ diskMib, depth, progress });
  if (only !== "nic") {
    process.stdout.write(`${formatBlkResults(blk)}\n`);
    process.stdout.write(`the guest polls with ${depth} request(s) in flight; the host floor is a readSync/writeSync loop on the same file (page cache), one request at a time\n`);
  }
  if (flags.json) process.stdout.write(JSON.stringify({ bench: "io", results, ratios: rs, blk }) + "\n");
  return 0;
}
