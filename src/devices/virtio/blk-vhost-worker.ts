/*
 * The worker's half of virtio-blk's vhost mode (blk-vhost.ts): a spell of
 * serving one device's request queue straight from guest memory. It pops
 * the available ring, checks each chain by the main thread's rules
 * (queue.ts walks, blk-request.ts reads), moves the bytes between the
 * image and the guest's pages, and returns the request (blk-used.ts); when
 * the ring is empty it sleeps on KICK. Requests are served one after
 * another, as the host's own loop does them: one thread per device, the
 * other core left to the vCPU; reads that follow one another on the image
 * are popped together and moved by one readv (serveHeld).
 *
 * The guest's memory is reached through its frame table only
 * (GuestPhysView, built here from the shared buffers): a frame not in the
 * table cannot be reached, and a page the guest never touched has no frame
 * yet — such a chain is handed back to the main thread, which may back it.
 *
 * Runs in a worker thread of the piscina pool (blk-io.ts dispatches here).
 */

import { fsyncSync, readvSync } from "node:fs";
import { GuestPhysView, type GuestPhysMap } from "../../machine/guest-phys-view.ts";
import { CodeWriteLog } from "../../machine/code-writes.ts";
import { copyPiece, fdOf } from "./blk-file.ts";
import { DONE_PUSHED_ERROR, DONE_PUSHED_OK, S_IOERR, S_OK, S_UNSUPP } from "./blk-status.ts";
import { BlkRequestReader, HEADER_SIZE, REQ_FLUSH, REQ_GET_ID, REQ_IOERR, REQ_READ, REQ_UNSUPP } from "./blk-request.ts";
import { machineViews, SharedUsedRing, type MachineViews, type UsedReturn } from "./blk-used.ts";
import { VHOST_DONE, VhostTable } from "./blk-vhost.ts";
import { machinePieces } from "./chain-io.ts";
import { VirtqError } from "./errors.ts";
import { DescChain, SplitQueue, type QueueLayout } from "./queue.ts";

/** A spell of serving one device's queue in vhost mode; resolves with the requests served. */
export interface BlkVhostTask {
  readonly op: "vhost";
  readonly table: SharedArrayBuffer;
  readonly used: SharedArrayBuffer;
  readonly machine: SharedArrayBuffer;
  readonly map: GuestPhysMap;
  readonly layout: QueueLayout;
  readonly indirect: boolean;
  readonly eventIdx: boolean;
  readonly capacityBytes: number;
  readonly path: string;
  readonly doorbell: SharedArrayBuffer;
  /** The generation this spell serves (the table's GEN when it was launched). */
  readonly gen: number;
  /** The spell's name as a holder of the used ring's lock (never 0). */
  readonly server: number;
}

/** Requests a spell serves before it ends, so piscina can give its thread to other work (blk-io.ts SLICE_REQUESTS). */
const VHOST_SLICE = 4096;
/**
 * A spell with nothing to serve for this long ends, so an idle device holds
 * no thread (no spin before sleeping either: blk-io.ts IDLE_MS says why).
 * Longer than a ring server's 10 ms: while no spell runs, every notify is an
 * exit again, and on a loaded host a polling driver's vCPU can be off its
 * core for 10 ms between two batches (measured at load ~13: 1 800 of 4 100
 * kicks exited with 10 ms).
 */
const VHOST_IDLE_MS = 50;
/**
 * Reads that follow one another on the image, popped together, are served
 * by one readv scattering into all their buffers (as QEMU's virtio-blk
 * merges adjacent requests: virtio_blk_submit_multireq): one system call
 * and one look at the code map for up to this many requests.
 */
const MERGE_MAX = 32;
/** A merged read's iovec stays under Linux's IOV_MAX (1024). */
const MERGE_MAX_PIECES = 1024;
/** Longest wait for the main thread to take a handed-back chain before GEN is looked at again. */
const HANDBACK_WAIT_MS = 1;

/** What one spell holds: the guest's view, its queue as this thread reads it, the image. */
interface Spell {
  readonly task: BlkVhostTask;
  readonly table: VhostTable;
  readonly view: GuestPhysView;
  readonly queue: SplitQueue;
  readonly used: SharedUsedRing;
  readonly m: MachineViews;
  readonly reader: BlkRequestReader;
  /** The chains popped and held for one merged read (MERGE_MAX), then one more that did not fit. */
  readonly chains: DescChain[];
  /** [machine offset, length] pairs of the held reads' buffers, in order (or of the one request serveChain serves). */
  readonly pieces: number[];
  /** The held reads: descriptor head, status byte's machine offset, where its pieces end in `pieces`, the available entry after it. */
  readonly held: { head: number[]; statusAt: number[]; piecesEnd: number[]; availAfter: number[]; offset: number; length: number; n: number };
  readonly fd: number;
  readonly bell: Int32Array;
  /** Where a read marks the pages it wrote, so a vCPU's fence.i drops code the read replaced (machine/code-writes.ts). */
  readonly codeLog: CodeWriteLog | undefined;
  /** The return being pushed, refilled for each request (no allocation per request). */
  readonly ret: Mutable<UsedReturn>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function serveVhost(task: BlkVhostTask): number {
  const table = new VhostTable(task.table);
  const view = new GuestPhysView(task.machine, task.map);
  const codeLog = task.map.codeWrites === undefined ? undefined : new CodeWriteLog(task.map.codeWrites, task.machine);
  const used = new SharedUsedRing(task.used, codeLog);
  const queue = new SplitQueue(view, task.layout, { indirect: task.indirect, eventIdx: task.eventIdx });
  queue.returnedBy(() => used.usedIndex());
  const s: Spell = {
    task,
    table,
    view,
    queue,
    used,
    m: machineViews(task.machine),
    reader: new BlkRequestReader(task.capacityBytes),
    chains: Array.from({ length: MERGE_MAX + 1 }, () => new DescChain()),
    pieces: [],
    held: { head: [], statusAt: [], piecesEnd: [], availAfter: [], offset: 0, length: 0, n: 0 },
    fd: fdOf(task.path),
    bell: new Int32Array(task.doorbell),
    codeLog,
    ret: { slot: VHOST_DONE, head: 0, length: 0, status: 0, statusAt: 0, done: 0 },
  };
  let served = 0;
  table.enter();
  for (;;) {
    const r = serveUntilIdle(s, VHOST_SLICE - served);
    served += r.served;
    table.leave();
    // A notify between the last look and leave() saw this spell active and made no exit: look again.
    if (r.idleKick !== undefined && table.serving(task.gen) && table.kickSeen() !== r.idleKick) {
      table.enter();
      continue;
    }
    return served;
  }
}

/** Serves until the queue stays empty for VHOST_IDLE_MS (idleKick: KICK as it was then), `budget` requests are served, or the queue is taken back. */
function serveUntilIdle(s: Spell, budget: number): { served: number; idleKick?: number } {
  const { table, queue, task } = s;
  let served = 0;
  let carry = -1;
  queue.resumeAt(table.lastAvail());
  while (served < budget) {
    const kick = table.kickSeen();
    // Busy before GEN is looked at: a reset's quiesce waits for this, or this sees the reset.
    if (!table.claim(task.gen)) return { served };
    const held = s.held;
    held.n = 0;
    s.pieces.length = 0;
    // Pops while the chains are reads that continue one another; the first chain that is not stays in hand (`next`),
    // or, if it is a read, starts the next round's merge (`carry`, in chains[0]).
    let next: DescChain | undefined;
    let bad: VirtqError | undefined;
    if (carry >= 0) {
      if (!hold(s, s.chains[0], carry)) next = s.chains[0];
      carry = -1;
    }
    while (next === undefined && served + held.n < budget) {
      const chain = s.chains[held.n];
      try {
        if (!queue.pop(chain)) break;
        s.reader.read(s.view, chain);
      } catch (e) {
        if (!(e instanceof VirtqError)) throw e;
        bad = e;
        break;
      }
      if (!hold(s, chain, queue.nextAvail)) {
        if (held.n > 0 && s.reader.kind === REQ_READ) {
          // Popped but not yet published in LAST_AVAIL: a spell ending before the next round leaves it to the next spell.
          carry = queue.nextAvail;
          s.chains[held.n] = s.chains[0];
          s.chains[0] = chain;
        } else next = chain;
        break;
      }
      if (held.n === MERGE_MAX) break;
    }
    if (held.n > 0) served += serveHeld(s);
    if (bad !== undefined) {
      table.end();
      stop(s, bad);
      return { served };
    }
    if (next === undefined) {
      table.end();
      if (held.n > 0) continue;
      if (table.sleep(kick, VHOST_IDLE_MS)) return { served, idleKick: kick };
      continue;
    }
    table.setLastAvail(queue.nextAvail);
    if (!serveChain(s, next)) return { served };
    served++;
  }
  return { served };
}

/** The worker found a chain that breaks the rules: it stops, and the main thread stops the device (blk.ts poll). */
function stop(s: Spell, e: VirtqError): void {
  s.table.fail(e);
  ring(s.bell);
}

function ring(bell: Int32Array): void {
  Atomics.add(bell, 0, 1);
  Atomics.notify(bell, 0);
}

/**
 * The chain just popped and read (s.reader) joins the held reads if it is a
 * read the worker can serve alone that starts where they end on the image
 * and leaves the merged iovec within bounds; whether it did (only then are
 * its pieces left in `pieces`).
 */
function hold(s: Spell, chain: DescChain, availAfter: number): boolean {
  const { reader, held, pieces } = s;
  if (reader.kind !== REQ_READ) return false;
  if (held.n > 0 && reader.offset !== held.offset + held.length) return false;
  const statusAt = s.view.translate(reader.statusAt, 1);
  if (statusAt < 0) return false;
  const from = pieces.length;
  // The walk kept every buffer inside guest RAM: a piece the view cannot reach has no frame yet (serveChain hands it back).
  if (!machinePieces(s.view, chain, true, 0, reader.length, pieces) || pieces.length > 2 * MERGE_MAX_PIECES) {
    pieces.length = from;
    return false;
  }
  const k = held.n++;
  if (k === 0) {
    held.offset = reader.offset;
    held.length = 0;
  }
  held.length += reader.length;
  held.head[k] = chain.head;
  held.statusAt[k] = statusAt;
  held.piecesEnd[k] = pieces.length;
  held.availAfter[k] = availAfter;
  return true;
}

/**
 * Serves the held reads and returns each; the number served. While they
 * are read, LAST_AVAIL stays before them and BUSY_HEAD names none of them
 * (claim's BUSY_POPPING): a worker dying then leaves them all to the main
 * thread to serve again (a read again lands the same bytes). Each is then
 * returned as serveChain returns one: LAST_AVAIL past it, BUSY_HEAD on it.
 * A readv that fails or comes up short is done again request by request,
 * so each gets its own bytes (zeros past the image's end) and its own status.
 */
function serveHeld(s: Spell): number {
  const { held, pieces, table } = s;
  const n = held.n;
  const u8 = s.m.u8;
  let whole = false;
  if (n > 1) {
    const iov: Uint8Array[] = [];
    for (let i = 0; i < pieces.length; i += 2) iov.push(u8.subarray(pieces[i], pieces[i] + pieces[i + 1]));
    try {
      whole = readvSync(s.fd, iov, held.offset) === held.length;
    } catch {
      whole = false;
    }
    if (whole) table.countMerged(n);
  }
  if (whole && s.codeLog !== undefined) markRead(s.codeLog, pieces, 0, pieces.length);
  let pos = held.offset;
  let from = 0;
  for (let k = 0; k < n; k++) {
    const end = held.piecesEnd[k];
    const length = sumLengths(pieces, from, end);
    let ok = true;
    if (!whole) {
      try {
        let at = pos;
        for (let i = from; i < end; i += 2) at = copyPiece(s.fd, true, u8, pieces[i], pieces[i + 1], at);
      } catch {
        ok = false;
      }
      // Marked before the driver can see the request done (even a failed read may have moved some bytes).
      if (s.codeLog !== undefined) markRead(s.codeLog, pieces, from, end);
    }
    table.setLastAvail(held.availAfter[k]);
    table.begin(held.head[k]);
    table.count(ok ? length : 0, 0);
    finish(s, held.head[k], held.statusAt[k], ok ? S_OK : S_IOERR, ok ? length + 1 : 1);
    pos += length;
    from = end;
  }
  return n;
}

/** Bytes of pieces [from, end) of a piece list. */
function sumLengths(pieces: readonly number[], from: number, end: number): number {
  let n = 0;
  for (let i = from + 1; i < end; i += 2) n += pieces[i];
  return n;
}

/** One popped and read request (s.reader), served and returned (or handed back); false when the worker must stop. */
function serveChain(s: Spell, chain: DescChain): boolean {
  const { table, reader } = s;
  const head = chain.head;
  table.begin(head);
  try {
    const kind = reader.kind;
    if (kind === REQ_GET_ID) return handBack(s, head);
    const statusAt = s.view.translate(reader.statusAt, 1);
    if (statusAt < 0) return handBack(s, head);
    if (kind === REQ_IOERR || kind === REQ_UNSUPP) {
      table.count(0, 0);
      finish(s, head, statusAt, kind === REQ_IOERR ? S_IOERR : S_UNSUPP, 1);
      return true;
    }
    if (kind === REQ_FLUSH) {
      let ok = true;
      try {
        fsyncSync(s.fd);
      } catch {
        ok = false;
      }
      table.count(0, 0);
      finish(s, head, statusAt, ok ? S_OK : S_IOERR, 1);
      return true;
    }
    const read = kind === REQ_READ;
    const pieces = s.pieces;
    pieces.length = 0;
    // The walk kept every buffer inside guest RAM: a piece the view cannot reach has no frame yet.
    if (!machinePieces(s.view, chain, read, read ? 0 : HEADER_SIZE, reader.length, pieces)) return handBack(s, head);
    let ok = true;
    try {
      let pos = reader.offset;
      for (let i = 0; i < pieces.length; i += 2) pos = copyPiece(s.fd, read, s.m.u8, pieces[i], pieces[i + 1], pos);
    } catch {
      ok = false;
    }
    // Marked before the driver can see the request done (even a failed read may have moved some bytes).
    if (read && s.codeLog !== undefined) markRead(s.codeLog, pieces, 0, pieces.length);
    table.count(ok && read ? reader.length : 0, ok && !read ? reader.length : 0);
    finish(s, head, statusAt, ok ? S_OK : S_IOERR, ok && read ? reader.length + 1 : 1);
    return true;
  } finally {
    table.end();
  }
}

/** Returns the request to the driver (a write is on the file by now); rings the main thread when the driver wants an interrupt. */
function finish(s: Spell, head: number, statusAt: number, status: number, length: number): void {
  const r = s.ret;
  r.head = head;
  r.length = length;
  r.status = status;
  r.statusAt = statusAt;
  r.done = status === S_OK ? DONE_PUSHED_OK : DONE_PUSHED_ERROR;
  if (s.used.push(s.task.server, s.m, s.table.words, s.task.gen, r)) ring(s.bell);
}

/** A read's data pages [from, end) of a piece list: one barrier after its bytes, then marked where some thread holds code (code-writes.ts). */
function markRead(log: CodeWriteLog, pieces: readonly number[], from: number, end: number): void {
  log.barrier();
  for (let i = from; i < end; i += 2) log.writtenWhereCode(pieces[i], pieces[i + 1]);
}

/** The chain is the main thread's to serve (blk.ts poll); the worker goes on once it has taken it. */
function handBack(s: Spell, head: number): boolean {
  if (!s.table.handBack(head, s.task.gen, HANDBACK_WAIT_MS)) return false;
  ring(s.bell);
  return true;
}
