/*
 * `popek bench io`, block rows: virtio-blk throughput as a guest sees it,
 * beside the host's own reads and writes of the same file in the same run
 * (the floor: what the page cache gives a plain loop with no guest at all).
 *
 * guests/bin/virtio-blk-bench.elf (bare metal, polling, `depth` requests
 * in flight) reads and then writes a scratch image in 4 KiB and 64 KiB
 * requests, sequentially and at random offsets, and times each run with
 * mtime. It runs on the native board and under --virt trap; the host then
 * does the same requests with readSync/writeSync on the same file, one at
 * a time whatever the guest's depth: the floor is the plain synchronous
 * loop a program on the host would write, not a parallel one.
 *
 * The machine these run on is shared and its scheduler's whims are larger
 * than the effects measured: each kind of run is done `passes` times, by
 * the guest and by the host's loop alike, and each side's fastest pass is
 * reported.
 */

import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { virtioBlkKind } from "../src/devices/virtio/kinds.ts";
import { closeBlkIo, runBlkIo } from "../src/devices/virtio/blk-pool.ts";
import { Hypervisor } from "../src/hypervisor/hypervisor.ts";
import { Board } from "../src/machine/board.ts";
import { boardDevices, type DeviceSpec } from "../src/machine/board-devices.ts";
import { readImageFile } from "../src/machine/image.ts";
import { TIMEBASE_HZ } from "../src/machine/memlayout.ts";
import { runBoard } from "../src/machine/runner.ts";
import { formatTable } from "../src/report/table.ts";

const IMAGE = "guests/bin/virtio-blk-bench.elf";
const MB = 2 ** 20;
const GUEST_RAM = 64 * MB;
const TIMEOUT_S = 600;
/** Requests the guest keeps in flight unless told otherwise (--blk-depth). */
export const DEFAULT_BLK_DEPTH = 32;
/** The guest driver's limit (guests/common/virtio_blk.h VBLK_MAX_DEPTH). */
export const MAX_BLK_DEPTH = 32;
/** Runs of each kind, guest and host alike; the fastest counts. */
const PASSES = 3;

interface BlkRow {
  readonly op: "read" | "write";
  readonly size: number;
  readonly pattern: "seq" | "random";
  /** Requests the guest kept in flight. */
  readonly depth: number;
  readonly requests: number;
  readonly seconds: number;
}

interface BlkResult {
  readonly dev: "virtio-blk";
  readonly mode: "native" | "trap";
  readonly op: "read" | "write";
  readonly size: number;
  readonly pattern: "seq" | "random";
  /** Requests the guest kept in flight (the host's loop has one, always). */
  readonly depth: number;
  /** Runs of this kind on each side; the figures are each side's fastest. */
  readonly passes: number;
  /** Megabytes (10^6) per second the guest saw. */
  readonly mbytesPerSec: number;
  readonly iops: number;
  /** The host's own loop on the same file, same requests. */
  readonly hostMbytesPerSec: number;
  /** mbytesPerSec / hostMbytesPerSec. */
  readonly ratioToHost: number;
}

/** The guest's lines: `vblk-bench op=read size=4096 pattern=seq depth=D requests=N ticks=T`. */
export function parseBlkBench(output: string): BlkRow[] {
  const rows: BlkRow[] = [];
  for (const m of output.matchAll(/^vblk-bench op=(read|write) size=(\d+) pattern=(seq|random) depth=(\d+) requests=(\d+) ticks=(\d+)$/gm)) {
    rows.push({
      op: m[1] as BlkRow["op"],
      size: Number(m[2]),
      pattern: m[3] as BlkRow["pattern"],
      depth: Number(m[4]),
      requests: Number(m[5]),
      seconds: Number(m[6]) / TIMEBASE_HZ,
    });
  }
  if (rows.length === 0 || !output.includes("vblk-bench done")) throw new Error(`virtio-blk-bench did not finish:\n${output}`);
  return rows;
}

function devicesFor(path: string): DeviceSpec[] {
  return boardDevices({ virtio: new Map([[7, virtioBlkKind({ path, serial: "bench" }, { legacy: false })]]) });
}

async function runNative(path: string, depth: number): Promise<BlkRow[]> {
  let output = "";
  const board = new Board({ harts: 1, memSize: GUEST_RAM, clock: "real", output: (b) => (output += String.fromCharCode(b)), devices: devicesFor(path) });
  board.boot({ kernel: readImageFile(IMAGE, "kernel"), append: `depth ${depth} passes ${PASSES}` });
  await runBoard(board, { timeoutSeconds: TIMEOUT_S });
  return parseBlkBench(output);
}

async function runTrap(path: string, depth: number): Promise<BlkRow[]> {
  let output = "";
  const hv = new Hypervisor({ machineMemory: GUEST_RAM + 16 * MB });
  const vm = hv.createVm({
    name: "blkbench",
    vcpus: 1,
    memSize: GUEST_RAM,
    images: { bios: { kind: "none" }, kernel: readImageFile(IMAGE, "kernel"), append: `depth ${depth} passes ${PASSES}` },
    wait: "poll",
    exitHandler: "main",
    output: (b) => (output += String.fromCharCode(b)),
    devices: devicesFor(path),
  });
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), TIMEOUT_S * 1000);
  const r = await vm.result;
  clearTimeout(timer);
  if (r.outcome === "error") throw new Error(`virtio-blk-bench under --virt trap: ${r.message}`);
  return parseBlkBench(output);
}

/** The host's loop: the same number of requests of the same size and pattern on the same file (sequential ones wrap at its end, as the guest's do); seconds. */
function hostRun(path: string, row: BlkRow, diskBytes: number): number {
  const fd = openSync(path, "r+");
  const buf = new Uint8Array(row.size);
  const slots = Math.floor(diskBytes / row.size);
  const start = performance.now();
  for (let i = 0; i < row.requests; i++) {
    const pos = (row.pattern === "seq" ? i % slots : Math.floor(Math.random() * slots)) * row.size;
    const n = row.op === "read" ? readSync(fd, buf, 0, row.size, pos) : writeSync(fd, buf, 0, row.size, pos);
    // A short transfer (past the end of the file) would time nothing and flatter the floor.
    if (n !== row.size) throw new Error(`bench io: the host's ${row.op} at ${pos} moved ${n} of ${row.size} bytes`);
  }
  const seconds = (performance.now() - start) / 1000;
  closeSync(fd);
  return seconds;
}

export async function benchIoBlk(opts: { diskMib?: number; depth?: number; progress?: (line: string) => void } = {}): Promise<BlkResult[]> {
  const progress = opts.progress ?? (() => {});
  const depth = opts.depth ?? DEFAULT_BLK_DEPTH;
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_BLK_DEPTH) throw new RangeError(`bench io: a block queue depth is 1 to ${MAX_BLK_DEPTH}, not ${depth}`);
  const diskBytes = (opts.diskMib ?? 8) * MB;
  const dir = mkdtempSync(join(tmpdir(), "popek-bench-io-"));
  const path = join(dir, "disk.img");
  writeFileSync(path, new Uint8Array(diskBytes));
  const results: BlkResult[] = [];
  try {
    // Start the pool's threads (each loads its TypeScript) before anything is timed.
    const flush = { op: "flush", path, machine: new SharedArrayBuffer(8), offset: 0, pieces: [] } as const;
    await Promise.all([runBlkIo(flush), runBlkIo(flush), runBlkIo(flush), runBlkIo(flush)]);
    for (const [mode, run] of [["native", runNative], ["trap", runTrap]] as const) {
      const rows = await run(path, depth);
      progress(`virtio-blk ${mode} (depth ${depth}) done`);
      for (const row of fastestPasses(rows)) {
        const bytes = row.requests * row.size;
        let host = Infinity;
        for (let i = 0; i < PASSES; i++) host = Math.min(host, hostRun(path, row, diskBytes));
        const mbytesPerSec = bytes / row.seconds / 1e6;
        const hostMbytesPerSec = bytes / host / 1e6;
        results.push({
          dev: "virtio-blk",
          mode,
          op: row.op,
          size: row.size,
          pattern: row.pattern,
          depth: row.depth,
          passes: PASSES,
          mbytesPerSec,
          iops: row.requests / row.seconds,
          hostMbytesPerSec,
          ratioToHost: mbytesPerSec / hostMbytesPerSec,
        });
      }
    }
  } finally {
    await closeBlkIo();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/** One row per kind of run (op, size, pattern), the fastest of its passes, in the guest's order. */
export function fastestPasses(rows: readonly BlkRow[]): BlkRow[] {
  const best = new Map<string, BlkRow>();
  for (const row of rows) {
    const key = `${row.op} ${row.size} ${row.pattern}`;
    const seen = best.get(key);
    if (seen === undefined || row.seconds < seen.seconds) best.set(key, row);
  }
  return [...best.values()];
}

export function formatBlkResults(results: readonly BlkResult[]): string {
  const rows = [["virtio-blk", "mode", "op", "size", "pattern", "depth", "MB/s", "IOPS", "host MB/s", "guest/host"]];
  for (const r of results) {
    rows.push([
      "",
      r.mode,
      r.op,
      r.size >= 1024 ? `${r.size / 1024}K` : `${r.size}`,
      r.pattern,
      String(r.depth),
      r.mbytesPerSec.toFixed(1),
      r.iops.toFixed(0),
      r.hostMbytesPerSec.toFixed(1),
      r.ratioToHost.toFixed(3),
    ]);
  }
  return formatTable(rows);
}
