/*
 * A block back-end's I/O worker (one of a piscina pool, as QEMU's thread
 * pool serves AIO): blocking file reads and writes that copy straight
 * between the disk image and guest memory. Machine memory is a shared
 * WebAssembly.Memory, so the worker reads and writes the guest's pages in
 * place; the main thread has already translated and bounds-checked every
 * piece, and gives machine offsets only.
 *
 * Two kinds of task: one request (BlkIoTask, the message path), or a
 * spell of serving a device's submission ring (BlkServeTask, blk-ring.ts):
 * claim, serve, flag done (or, under a hypervisor, return the request to
 * the driver: blk-used.ts), and sleep on the ring as soon as it is empty.
 *
 * Runs in a worker thread (workers/blk-io-boot.js loads it): no state but
 * open file descriptors, one per image path.
 */

import { fsyncSync } from "node:fs";
import { copyPiece, fdOf } from "./blk-file.ts";
import { DONE_ERROR, DONE_OK, DONE_PUSHED_ERROR, DONE_PUSHED_OK, S_IOERR, S_OK } from "./blk-status.ts";
import { serveVhost, type BlkVhostTask } from "./blk-vhost-worker.ts";
import { BlkRingView, OP_FLUSH, OP_READ, RING_HEAD } from "./blk-ring.ts";
import { machineViews, SharedUsedRing, type MachineViews } from "./blk-used.ts";
import { unpinInherited } from "../../host/affinity.ts";
import { CodeWriteLog, type CodeWriteShare } from "../../machine/code-writes.ts";

// Loaded once per I/O worker thread. One started by a pinned main thread (--pin) would share its one core:
// it takes the process's cores back.
unpinInherited();

export interface BlkIoTask {
  readonly op: "read" | "write" | "flush";
  readonly path: string;
  readonly machine: SharedArrayBuffer;
  /** Byte offset in the image. */
  readonly offset: number;
  /** [machine offset, length] pairs, in order: the request's data buffers. */
  readonly pieces: readonly number[];
  /**
   * Where to say "done" without a message (absent: the result message
   * only): Int32 word `slot` of `done` becomes DONE_OK or DONE_ERROR as the
   * I/O ends, and word 0 of `doorbell` is bumped and notified, so the main
   * thread's service loop finishes the request on its next round or wakes
   * for it, instead of waiting for its event loop to take the message.
   */
  readonly done?: SharedArrayBuffer;
  readonly slot?: number;
  readonly doorbell?: SharedArrayBuffer;
}

/** A spell of serving one device's submission ring (blk-ring.ts); resolves with the requests served. */
export interface BlkServeTask {
  readonly op: "serve";
  readonly ring: SharedArrayBuffer;
  readonly path: string;
  readonly machine: SharedArrayBuffer;
  /** The device's completion words, indexed by slot (as BlkIoTask.done). */
  readonly done: SharedArrayBuffer;
  readonly doorbell?: SharedArrayBuffer;
  /** This spell's name in the ring's claim words (never 0): what the device fails if the worker dies. */
  readonly server: number;
  /**
   * The device's used-ring table (blk-used.ts), when its workers return
   * requests to the driver themselves: those whose record carries a
   * generation are pushed here, and the doorbell rings only when the
   * driver wants an interrupt.
   */
  readonly used?: SharedArrayBuffer;
  /**
   * Where reads mark the machine pages they wrote (machine/code-writes.ts):
   * under a hypervisor a request can reach the driver before the main thread
   * hears of it, so the vCPUs must learn of rewritten code from here.
   */
  readonly codeWrites?: CodeWriteShare;
}

/**
 * A serving spell ends after this many requests, so that piscina can give
 * the thread to whatever waits in its queue (another device's server, a
 * request too large for the ring); the device starts a new spell at once.
 */
export const SLICE_REQUESTS = 512;
/**
 * A server finding the ring empty sleeps at once, and a spell ends after
 * this long with nothing to serve, so an idle device holds no thread.
 *
 * Why no spin before the sleep: under --virt trap the vCPU (a polling
 * driver) and the service loop already keep both cores of these machines
 * busy, and a server watching an empty ring takes the core the service
 * loop needs to notice completions and answer the driver's notify: with
 * the scheduler's time slices (EEVDF, ~1 ms) every such hand-off then
 * waits a slice. Measured (quiet host, depth 32, 64 KiB sequential reads
 * under trap): a 50 µs spin gave 2.2-2.5 GB/s, none 3.1-3.9 GB/s, 500 µs
 * 1.3-1.6 GB/s; natively no spin was no slower.
 */
export const IDLE_MS = 10;


/** Serves one request (the bytes moved), or a spell of a ring or of a queue in vhost mode (the requests served). */
export default function blkIo(task: BlkIoTask | BlkServeTask | BlkVhostTask): number {
  return task.op === "serve" ? serveRing(task) : task.op === "vhost" ? serveVhost(task) : serveOne(task);
}

/** Serves one request; resolves with the bytes moved, and flags its completion word when it has one. */
function serveOne(task: BlkIoTask): number {
  let moved: number;
  try {
    moved = serve(task);
  } catch (e) {
    signal(task, DONE_ERROR);
    throw e;
  }
  signal(task, DONE_OK);
  return moved;
}

function signal(task: BlkIoTask, value: number): void {
  if (task.done === undefined || task.slot === undefined) return;
  Atomics.store(new Int32Array(task.done), task.slot, value);
  if (task.doorbell === undefined) return;
  const bell = new Int32Array(task.doorbell);
  Atomics.add(bell, 0, 1);
  Atomics.notify(bell, 0);
}

function serve(task: BlkIoTask): number {
  const fd = fdOf(task.path);
  if (task.op === "flush") {
    fsyncSync(fd);
    return 0;
  }
  const mem = new Uint8Array(task.machine);
  let pos = task.offset;
  for (let i = 0; i < task.pieces.length; i += 2) pos = copyPiece(fd, task.op === "read", mem, task.pieces[i], task.pieces[i + 1], pos);
  return pos - task.offset;
}

/**
 * A spell of serving a ring: claim a request, move its bytes, flag its
 * completion word, ring the bells; when the ring is empty, sleep on its
 * head word until a submit wakes this thread or IDLE_MS pass.
 */
function serveRing(task: BlkServeTask): number {
  const ring = new BlkRingView(task.ring);
  const done = new Int32Array(task.done);
  const bell = task.doorbell === undefined ? undefined : new Int32Array(task.doorbell);
  const mem = new Uint8Array(task.machine);
  const codeWrites = task.codeWrites === undefined ? undefined : new CodeWriteLog(task.codeWrites, task.machine);
  const used = task.used === undefined ? undefined : { table: new SharedUsedRing(task.used, codeWrites), views: machineViews(task.machine) };
  const fd = fdOf(task.path);
  let served = 0;
  while (served < SLICE_REQUESTS) {
    const head = Atomics.load(ring.words, RING_HEAD);
    const slot = ring.claim(task.server);
    if (slot < 0) {
      if (ring.sleep(head, IDLE_MS)) break;
      continue;
    }
    let ok = true;
    try {
      serveRecord(ring, slot, fd, mem, codeWrites);
    } catch {
      ok = false;
    }
    served++;
    const gen = ring.gen(slot);
    if (used !== undefined && gen !== 0) {
      if (!returnToDriver(used.table, used.views, task.server, done, ring, slot, gen, ok)) continue;
    } else Atomics.store(done, slot, ok ? DONE_OK : DONE_ERROR);
    if (bell !== undefined) {
      Atomics.add(bell, 0, 1);
      Atomics.notify(bell, 0);
    }
  }
  return served;
}

/**
 * The request's status byte, used element and used index, written here
 * (blk-used.ts); whether the driver wants an interrupt for it, which only
 * the main thread can raise.
 */
function returnToDriver(used: SharedUsedRing, m: MachineViews, server: number, done: Int32Array, ring: BlkRingView, slot: number, gen: number, ok: boolean): boolean {
  return used.push(server, m, done, gen, {
    slot,
    head: ring.head(slot),
    length: ok ? ring.usedLength(slot) : 1,
    status: ok ? S_OK : S_IOERR,
    statusAt: ring.statusAt(slot),
    done: ok ? DONE_PUSHED_OK : DONE_PUSHED_ERROR,
  });
}

/** Moves one request's bytes; a read marks what it wrote in `codeWrites` (even when it fails halfway: some bytes moved). */
function serveRecord(ring: BlkRingView, slot: number, fd: number, mem: Uint8Array, codeWrites: CodeWriteLog | undefined): void {
  const op = ring.op(slot);
  if (op === OP_FLUSH) {
    fsyncSync(fd);
    return;
  }
  let pos = ring.offset(slot);
  const n = ring.pieceCount(slot);
  const read = op === OP_READ;
  try {
    for (let i = 0; i < n; i++) pos = copyPiece(fd, read, mem, ring.piece(slot, i, 0), ring.piece(slot, i, 1), pos);
  } finally {
    if (read && codeWrites !== undefined) for (let i = 0; i < n; i++) codeWrites.written(ring.piece(slot, i, 0), ring.piece(slot, i, 1));
  }
}
