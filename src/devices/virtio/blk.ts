/*
 * virtio-blk (virtio 1.2 §5.2) on a raw disk image: read, write, flush and
 * get-id. A request is a 16-byte header (type, reserved, sector), data
 * buffers, and one status byte the device writes last. The file I/O runs on
 * the piscina pool (blk-pool.ts) and copies straight between the image and
 * guest memory; the status byte and the used ring are written back here on
 * the main thread when the worker is done, so a write is in the file by the
 * time the driver sees it complete.
 *
 * A request reaches a worker through the device's submission ring in
 * shared memory (blk-ring.ts): the workers serving it sleep on the ring and
 * wake on a submit, with no message per request. The ring's servers are
 * long-lived piscina tasks (blk-servers.ts). A request the ring cannot
 * carry (more pieces than a record holds, every ring slot busy) goes as a
 * piscina task of its own, as before the ring.
 *
 * "Done" reaches the main thread through a word per request in a shared
 * completion array, which the worker flags (and rings the service loop's
 * doorbell); the run loops poll it (poll(), between slices natively, every
 * service round under trap), and finish everything flagged at once with
 * one interrupt decision. Where no run loop polls, a 1 ms timer or
 * piscina's result message calls poll from the event loop. A busy service
 * loop gives the event loop a turn only every millisecond, so the flag is
 * what makes a request take microseconds.
 *
 * Under a hypervisor (the link has a service loop's doorbell: the harts run
 * on other threads and already take RAM as written behind their back) the
 * worker returns a ring request to the driver itself — status byte, used
 * element, used index (blk-used.ts) — and the main thread only frees its
 * slot later; an interrupt the driver wants is still raised here. Natively
 * the main thread returns every request: the hart shares its thread, and
 * the decoded code a read overwrote must be forgotten (machineWritten)
 * before the driver can see the read complete.
 *
 * Every request is checked before any byte moves: whole sectors, inside the
 * image, buffers in guest RAM. A request that breaks the layout stops the
 * device (DEVICE_NEEDS_RESET, as QEMU's virtio_error); one that is merely
 * out of range gets IOERR; unknown types get UNSUPP.
 */

import { statSync } from "node:fs";
import { ConfigError, DeviceError } from "../../errors.ts";
import type { VirtioBackend, VirtioLink } from "./backend.ts";
import type { BlkIoTask } from "./blk-io.ts";
import { DONE_OK, DONE_PENDING, DONE_PUSHED_ERROR, DONE_PUSHED_OK, S_IOERR, S_OK, S_UNSUPP } from "./blk-status.ts";
import { preloadBlkIo, runBlkIo, runBlkVhost } from "./blk-pool.ts";
import { BlkRingView, OP_FLUSH, OP_READ, OP_WRITE, RING_MAX_PIECES, RING_SLOTS, type WorkerReturn } from "./blk-ring.ts";
import { MAIN_THREAD_CLAIM, RingServers } from "./blk-servers.ts";
import { MAIN_HOLDER, machineViews, SharedUsedRing, type MachineViews } from "./blk-used.ts";
import { VhostTable } from "./blk-vhost.ts";
import { BlkRequestReader, HEADER_SIZE, REQ_FLUSH, REQ_GET_ID, REQ_IOERR, REQ_READ, REQ_UNSUPP, SECTOR_SIZE } from "./blk-request.ts";
import { machinePieces, scatterIn } from "./chain-io.ts";
import { VirtqError } from "./errors.ts";
import { DescChain } from "./queue.ts";
import type { GuestPhysMap } from "../../machine/guest-phys-view.ts";
import { CodeWriteLog } from "../../machine/code-writes.ts";
import { DEVICE_ID_BLOCK, F_RING_EVENT_IDX, F_RING_INDIRECT_DESC, QUEUE_NUM_MAX, feature } from "./regs.ts";

/** Status values (blk-io.ts: the workers write them too). */
export { S_IOERR, S_OK, S_UNSUPP };

/** Feature bits (§5.2.3). */
const F_SEG_MAX = 2;
const F_BLK_SIZE = 6;
const F_FLUSH = 9;

/** Configuration space (§5.2.4): capacity u64 @0, size_max u32 @8, seg_max u32 @12, geometry @16, blk_size u32 @20; zeros to QEMU's 0x3c. */
const CONFIG_SIZE = 0x3c;
const CFG_CAPACITY = 0;
const CFG_SEG_MAX = 12;
const CFG_BLK_SIZE = 20;
const ID_BYTES = 20;
const REQUEST_QUEUE = 0;
/** Period of the fallback poll while ring requests are out (armFallback). */
const FALLBACK_POLL_MS = 1;

/** A request on the I/O pool. */
interface PendingIo {
  readonly task: BlkIoTask;
  readonly link: VirtioLink | undefined;
  /** Writes the status and returns the chain. */
  readonly done: (status: number, written: number) => void;
  /** Bytes the driver is told were written into its buffers. */
  readonly written: number;
  /** Its completion slot, or -1 (none free: its message is its only news). */
  readonly slot: number;
  /** Sent through the submission ring (no message will come). */
  readonly viaRing: boolean;
  /** Its worker returns it to the driver (blk-used.ts): only the bookkeeping is left here. */
  readonly workerReturns: boolean;
  /** Finished (by its flag or its message): the other path does nothing. */
  finished: boolean;
}

export interface BlkConfig {
  /** The raw image. */
  readonly path: string;
  /** GET_ID's answer (QEMU's serial=), at most 20 bytes. */
  readonly serial: string;
}

/** Counters, named as `--stats` and results print them. */
interface BlkStats {
  /** Requests completed, of any type. */
  requests: number;
  /** Bytes read from the image into guest memory. */
  readBytes: number;
  /** Bytes written from guest memory to the image. */
  writeBytes: number;
}

export class VirtioBlk implements VirtioBackend {
  readonly deviceId = DEVICE_ID_BLOCK;
  readonly features = feature(F_SEG_MAX) | feature(F_BLK_SIZE) | feature(F_FLUSH);
  readonly queueCount = 1;
  readonly configSize = CONFIG_SIZE;
  readonly stats: BlkStats = { requests: 0, readBytes: 0, writeBytes: 0 };
  private readonly config = new DataView(new ArrayBuffer(CONFIG_SIZE));
  private readonly capacityBytes: number;
  private readonly chain = new DescChain();
  private readonly reader: BlkRequestReader;
  private link: VirtioLink | undefined;
  /** Requests on the I/O pool: a worker may be writing guest memory until each settles. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Completion words, one per request on the pool (BlkIoTask.done): DONE_PENDING until its worker is through. */
  private readonly doneWords = new Int32Array(new SharedArrayBuffer(4 * QUEUE_NUM_MAX));
  private readonly freeSlots = Array.from({ length: QUEUE_NUM_MAX }, (_, i) => QUEUE_NUM_MAX - 1 - i);
  private readonly pending: (PendingIo | undefined)[] = new Array<PendingIo | undefined>(QUEUE_NUM_MAX).fill(undefined);
  /** Slots whose request is not finished yet: what poll() looks at. */
  private readonly watching: number[] = [];
  private readonly ring = new BlkRingView();
  private readonly servers = new RingServers(this.ring, (server, last) => this.serverLost(server, last));
  /** Ring requests not finished yet. */
  private ringInFlight = 0;
  /** A fallback poll is scheduled (armFallback). */
  private fallbackArmed = false;
  /** Inside poll(): completions push to the used ring and decide on one interrupt at the end. */
  private batching = false;
  private batchUsed = false;
  /** The used ring as the workers write it (blk-used.ts), and machine memory's views for the main thread's own pushes. */
  private usedTable = new SharedUsedRing();
  private usedViews: MachineViews | undefined;
  /** The current link's generation in usedTable while its workers return requests; 0: the main thread returns them. Undefined until the first notify decides. */
  private workerGen: number | undefined;
  private lastGen = 0;
  /** vhost mode (blk-vhost.ts): a worker pops and serves the queue itself; on while the table is armed for workerGen. */
  private readonly vhost = new VhostTable();
  private vhostOn = false;
  /** vhost spells launched and not yet settled (one at a time). */
  private vhostSpells = 0;
  /** The last vhost spell's name as a holder of the used ring's lock: -2, -3, … (ring servers are positive, the main thread -1). */
  private lastVhostName = MAIN_HOLDER;
  /** Where the armed generation's worker starts in the available ring (a spell of an older one may have written LAST_AVAIL since). */
  private vhostArmAvail = 0;
  /** The worker's counters as last added to `stats`. */
  private vhostCounted: readonly [number, number, number] = [0, 0, 0];
  /** Notified under a hypervisor, not yet taken (takeSoon); a poll is scheduled for it. */
  private notified = false;
  private takeArmed = false;

  constructor(private readonly cfg: BlkConfig) {
    let size: number;
    try {
      size = statSync(cfg.path).size;
    } catch (e) {
      throw new ConfigError(`virtio-blk: cannot open ${cfg.path}: ${(e as Error).message}`);
    }
    this.capacityBytes = size - (size % SECTOR_SIZE);
    this.reader = new BlkRequestReader(this.capacityBytes);
    this.config.setBigUint64(CFG_CAPACITY, BigInt(this.capacityBytes / SECTOR_SIZE), true);
    this.config.setUint32(CFG_SEG_MAX, QUEUE_NUM_MAX - 2, true);
    this.config.setUint32(CFG_BLK_SIZE, SECTOR_SIZE, true);
    void preloadBlkIo();
  }

  readConfig(offset: number, width: number): number {
    return width === 1 ? this.config.getUint8(offset) : width === 2 ? this.config.getUint16(offset, true) : this.config.getUint32(offset, true);
  }

  /** The block device's configuration is read-only to the driver (no CONFIG_WCE). */
  writeConfig(): void {}

  activate(link: VirtioLink): void {
    this.link = link;
    this.workerGen = undefined;
  }

  reset(): void {
    this.stopVhost();
    this.link = undefined;
    this.notified = false;
    this.stopWorkerReturns();
  }

  /**
   * At a link's first notify: whether its workers return requests
   * themselves (under a hypervisor, and when the used ring's pages can be
   * laid out for them); its generation, or 0.
   */
  private startWorkerReturns(link: VirtioLink): number {
    if (link.doorbell === undefined) return 0;
    const eventIdx = (link.features & feature(F_RING_EVENT_IDX)) !== 0n;
    const gen = (this.lastGen % 0x7fff_ffff) + 1;
    const q = link.queue(REQUEST_QUEUE);
    if (!this.usedTable.setUp(link.memory, q.layout, eventIdx, gen)) return 0;
    q.returnedBy(() => this.usedTable.usedIndex());
    this.lastGen = gen;
    if (this.usedViews === undefined) {
      this.usedViews = machineViews(link.memory.machine);
      const share = link.memory.codeWrites;
      // The main thread's own pushes (and its redo of a dead worker's) mark what they write too.
      if (share !== undefined) this.usedTable = new SharedUsedRing(this.usedTable.buffer, new CodeWriteLog(share, link.memory.machine));
    }
    if (link.guestMap !== undefined) {
      this.vhostArmAvail = q.nextAvail;
      this.vhost.arm(gen, this.vhostArmAvail);
      this.vhostOn = true;
    }
    return gen;
  }

  /** The link is gone (reset, failure): a worker's late return is dropped, as the main thread's is. */
  private stopWorkerReturns(): void {
    this.stopVhost();
    if (this.workerGen !== undefined && this.workerGen !== 0) this.usedTable.kill();
    this.workerGen = undefined;
  }

  async quiesce(): Promise<void> {
    // Requests notified and not yet taken (notify under a hypervisor leaves them to poll) go out first.
    this.poll();
    // A vhost worker's request in hand (or handed back) is in flight too, after a reset as well (it
    // ends at the worker's next look at GEN); an idle spell merely sleeps.
    while (this.vhost.busy()) {
      await new Promise((res) => setTimeout(res, 1));
      this.poll();
    }
    await Promise.allSettled([...this.inFlight]);
    // Ring requests have no promise: their workers flag them; wait until every one has been.
    while (this.ringInFlight > 0) {
      await new Promise((res) => setTimeout(res, 1));
      this.poll();
      this.servers.ensure();
    }
  }

  notify(): void {
    const link = this.link;
    if (link === undefined) return;
    const q = link.queue(REQUEST_QUEUE);
    this.workerGen ??= this.startWorkerReturns(link);
    if (this.vhostOn) {
      this.vhost.kick();
      this.ensureVhost(link);
      return;
    }
    if (this.workerGen !== 0) {
      this.takeSoon();
      return;
    }
    while (link.live && q.pop(this.chain)) this.start(link, this.chain);
  }

  /**
   * Under a hypervisor a notify only marks the queue: the requests are
   * taken (checked and sent to the workers) by the next poll(), which the
   * service loop makes right after answering the notify's exit — so the
   * vCPU runs on while this thread checks chains, instead of waiting for
   * it. Where no service loop runs (tests), the event loop's next turn
   * polls.
   */
  private takeSoon(): void {
    this.notified = true;
    if (this.takeArmed) return;
    this.takeArmed = true;
    setImmediate(() => {
      this.takeArmed = false;
      this.poll();
    });
  }

  /** The driver notified since the last poll: takes what it offered; the transport's stop for a chain that breaks the rules. */
  private takeNotified(): void {
    const link = this.link;
    this.notified = false;
    if (link === undefined || !link.live) return;
    try {
      const q = link.queue(REQUEST_QUEUE);
      while (link.live && q.pop(this.chain)) this.start(link, this.chain);
    } catch (e) {
      if (!(e instanceof DeviceError)) throw e;
      link.fail(e);
    }
  }

  /** Checks one request and sends its I/O to the pool; the chain is reused, so what the completion needs is copied out. */
  private start(link: VirtioLink, chain: DescChain): void {
    const mem = link.memory;
    const r = this.reader;
    r.read(mem, chain);
    const head = chain.head;
    const statusAt = r.statusAt;
    const done = (status: number, written: number) => this.complete(link, head, statusAt, status, written);
    switch (r.kind) {
      case REQ_GET_ID: {
        const id = new Uint8Array(ID_BYTES);
        id.set(new TextEncoder().encode(this.cfg.serial).subarray(0, ID_BYTES));
        const n = Math.min(ID_BYTES, r.length);
        scatterIn(mem, chain, 0, id.subarray(0, n));
        done(S_OK, n);
        return;
      }
      case REQ_FLUSH:
        this.dispatch({ op: "flush", path: this.cfg.path, machine: mem.machine, offset: 0, pieces: [] }, done, 0, this.workerReturn(mem, head, statusAt, 0));
        return;
      case REQ_UNSUPP:
        done(S_UNSUPP, 0);
        return;
      case REQ_IOERR:
        done(S_IOERR, 0);
        return;
    }
    const read = r.kind === REQ_READ;
    const pieces: number[] = [];
    if (!machinePieces(mem, chain, read, read ? 0 : HEADER_SIZE, r.length, pieces)) throw new VirtqError("buffer-outside-ram", "virtio-blk: a data buffer cannot be reached");
    const written = read ? r.length : 0;
    this.dispatch({ op: read ? "read" : "write", path: this.cfg.path, machine: mem.machine, offset: r.offset, pieces }, done, written, this.workerReturn(mem, head, statusAt, written));
  }

  /** What a worker needs to return the request itself, when this link's workers do; the status byte is backed here. */
  private workerReturn(mem: VirtioLink["memory"], head: number, statusAt: number, written: number): WorkerReturn | undefined {
    const gen = this.workerGen ?? 0;
    if (gen === 0) return undefined;
    const at = mem.translateForWrite(statusAt, 1);
    if (at < 0) throw new VirtqError("buffer-outside-ram", "virtio-blk: the status byte cannot be reached");
    return { gen, head, length: written + 1, statusAt: at };
  }

  private dispatch(task: BlkIoTask, done: (status: number, written: number) => void, written: number, ret: WorkerReturn | undefined): void {
    const link = this.link;
    link?.asyncIo(1);
    const slot = this.freeSlots.pop() ?? -1;
    const viaRing = slot >= 0 && slot < RING_SLOTS && task.pieces.length <= 2 * RING_MAX_PIECES;
    const workerReturns = viaRing && ret !== undefined;
    const p: PendingIo = { task, link, done, written, slot, viaRing, workerReturns, finished: false };
    if (slot >= 0) {
      this.pending[slot] = p;
      this.watching.push(slot);
    }
    const doneWords = this.doneWords.buffer as SharedArrayBuffer;
    if (viaRing) {
      this.ringInFlight++;
      this.ring.submit(slot, task.op === "read" ? OP_READ : task.op === "write" ? OP_WRITE : OP_FLUSH, task.offset, task.pieces, workerReturns ? ret : undefined);
      this.servers.ensure({ path: task.path, machine: task.machine, done: doneWords, doorbell: link?.doorbell, used: this.usedTable.buffer, codeWrites: link?.memory.codeWrites });
      this.armFallback();
      return;
    }
    const io = runBlkIo(slot < 0 ? task : { ...task, done: doneWords, slot, doorbell: link?.doorbell });
    this.inFlight.add(io);
    io.then(
      (n) => this.finish(p, true, n),
      () => this.finish(p, false, 0),
    ).finally(() => {
      this.inFlight.delete(io);
      if (slot >= 0) this.release(slot);
    });
  }

  /**
   * While ring requests are out, a timer calls poll() every millisecond:
   * the path for whoever runs no polling loop (tests, quiesce). The run
   * loops poll far more often than that; a wake-up per completion (a
   * futex or an event-loop post from the worker) would cost every
   * request a system call for their sake.
   */
  private armFallback(): void {
    if (this.fallbackArmed || this.ringInFlight === 0) return;
    this.fallbackArmed = true;
    setTimeout(() => {
      this.fallbackArmed = false;
      this.poll();
      this.armFallback();
    }, FALLBACK_POLL_MS);
  }

  /**
   * A ring server's worker died: the requests it had claimed and not
   * flagged fail (IOERR), as a dead worker's message would; when no server
   * is left, so do the requests still on the ring (RingServers).
   */
  private serverLost(server: number, last: boolean): void {
    // Died in the middle of returning a request: finish that return first, and free the used ring.
    if (this.usedViews !== undefined) this.usedTable.recover(server, this.usedViews, this.doneWords);
    for (const slot of [...this.watching]) {
      const p = this.pending[slot];
      if (p === undefined || !p.viaRing || p.finished) continue;
      if (this.ring.claimedBy(slot) === server && Atomics.load(this.doneWords, slot) === DONE_PENDING) this.finish(p, false, 0);
    }
    if (!last) return;
    for (let slot = this.ring.claim(MAIN_THREAD_CLAIM); slot >= 0; slot = this.ring.claim(MAIN_THREAD_CLAIM)) {
      const p = this.pending[slot];
      if (p !== undefined && !p.finished) this.finish(p, false, 0);
    }
  }

  /** The vhost table: a notify of the request queue kicks its worker from the vCPU's thread (blk-vhost.ts kickFromVcpu). */
  notifyTable(i: number): SharedArrayBuffer | undefined {
    return i === REQUEST_QUEUE ? this.vhost.buffer : undefined;
  }

  /** The transport stopped the device (DEVICE_NEEDS_RESET): the vhost worker stops before its next pop. */
  failed(): void {
    this.stopVhost();
  }

  /** Takes the queue back from the vhost worker (reset, failure); its spell ends on its own. */
  private stopVhost(): void {
    if (!this.vhostOn) return;
    this.vhostOn = false;
    this.vhost.disarm();
    this.countVhost();
  }

  /** Starts the vhost spell unless one runs; when it ends, another if the driver offered more meanwhile. */
  private ensureVhost(link: VirtioLink): void {
    if (this.vhostSpells > 0 || !this.vhostOn || !link.live) return;
    const q = link.queue(REQUEST_QUEUE);
    const gen = this.vhost.generation();
    const name = (this.lastVhostName = this.lastVhostName <= -0x7fff_0000 ? -2 : this.lastVhostName - 1);
    this.vhostSpells++;
    link.asyncIo(1);
    runBlkVhost({
      op: "vhost",
      table: this.vhost.buffer,
      used: this.usedTable.buffer,
      machine: link.memory.machine,
      map: link.guestMap as GuestPhysMap,
      layout: q.layout,
      indirect: (link.features & feature(F_RING_INDIRECT_DESC)) !== 0n,
      eventIdx: (link.features & feature(F_RING_EVENT_IDX)) !== 0n,
      capacityBytes: this.capacityBytes,
      path: this.cfg.path,
      doorbell: link.doorbell as SharedArrayBuffer,
      gen,
      server: name,
    }).then(
      () => this.vhostEnded(link, gen),
      () => {
        this.vhostLost(link, name);
        this.vhostEnded(link, gen);
      },
    );
  }

  /**
   * A spell settled: another starts if the driver offered more meanwhile,
   * or if the queue was re-armed for a new generation while this one still
   * ran (spells run one at a time, so the new one waited for this).
   */
  private vhostEnded(link: VirtioLink, gen: number): void {
    this.vhostSpells--;
    link.asyncIo(-1);
    const cur = this.link;
    if (!this.vhostOn || cur === undefined || !cur.live) return;
    const rearmed = this.vhost.generation() !== gen;
    // The old spell may have moved LAST_AVAIL after the re-arm: no spell runs now, so put it back.
    if (rearmed) this.vhost.setLastAvail(this.vhostArmAvail);
    const q = cur.queue(REQUEST_QUEUE);
    q.resumeAt(this.vhost.lastAvail());
    if (rearmed || q.hasAvailable()) this.ensureVhost(cur);
  }

  /**
   * The vhost spell's worker died (or the pool could not start it): a push
   * it was making is finished (the used ring's log), a request it held and
   * had not returned fails (IOERR), as a dead ring server's do, and the
   * main thread takes the queue back for this link — it pops and checks
   * chains again and sends them to ring servers, whose deaths fail their
   * requests — rather than start spell after spell that may die the same way.
   */
  private vhostLost(link: VirtioLink, name: number): void {
    if (this.usedViews !== undefined) this.usedTable.recover(name, this.usedViews, this.vhost.words);
    const head = this.vhost.unreturned();
    this.vhost.forgetBusy();
    if (this.vhostOn && this.link === link && link.live) {
      this.pollVhost(); // a chain it handed back is served first
      const last = this.vhost.lastAvail();
      this.stopVhost();
      link.queue(REQUEST_QUEUE).resumeAt(last);
      this.takeSoon();
    }
    if (head < 0 || !link.live) return;
    try {
      link.queue(REQUEST_QUEUE).chainAt(head, this.chain);
      this.reader.read(link.memory, this.chain);
      this.complete(link, head, this.reader.statusAt, S_IOERR, 0);
    } catch (e) {
      if (!(e instanceof DeviceError)) throw e;
      link.fail(e);
    }
  }

  /** vhost mode, each poll: the worker's failure (the device stops), a chain it handed back, its counters; whether anything happened. */
  private pollVhost(): boolean {
    const link = this.link;
    const failure = this.vhost.takeFailure();
    if (failure !== undefined) {
      this.stopVhost();
      link?.fail(failure);
      return true;
    }
    const head = this.vhost.handedBack();
    if (head < 0) return false;
    try {
      if (link !== undefined && link.live) {
        link.queue(REQUEST_QUEUE).chainAt(head, this.chain);
        this.start(link, this.chain);
      }
    } catch (e) {
      if (!(e instanceof DeviceError)) throw e;
      link?.fail(e);
    } finally {
      this.vhost.clearHandback();
    }
    this.countVhost();
    return true;
  }

  /** Adds what the vhost worker served since the last call to `stats`. */
  private countVhost(): void {
    const now = this.vhost.served();
    const was = this.vhostCounted;
    this.stats.requests += now[0] - was[0];
    this.stats.readBytes += now[1] - was[1];
    this.stats.writeBytes += now[2] - was[2];
    this.vhostCounted = now;
  }

  /** Requests whose worker flagged them done: finished now, without waiting for their messages. */
  poll(): boolean {
    const watching = this.watching;
    let finished = false;
    this.batching = true;
    try {
      // Backwards: finishing a ring request takes its slot out of `watching`.
      for (let i = watching.length - 1; i >= 0; i--) {
        const slot = watching[i];
        const state = Atomics.load(this.doneWords, slot);
        if (state === DONE_PENDING) continue;
        const p = this.pending[slot];
        if (p === undefined || p.finished) continue;
        if (state === DONE_PUSHED_OK || state === DONE_PUSHED_ERROR) {
          // Its worker returned it: nothing the driver waits for happens here.
          this.finish(p, state === DONE_PUSHED_OK, movedBy(p.task), true);
        } else {
          this.finish(p, state === DONE_OK, movedBy(p.task));
          finished = true;
        }
      }
    } finally {
      this.batching = false;
    }
    if (this.vhostOn && this.pollVhost()) finished = true;
    // Frees slots first, then takes new requests into them.
    if (this.notified) {
      this.takeNotified();
      finished = true;
    }
    // One interrupt decision for the whole batch (EVENT_IDX: the driver's used_event decides).
    if (this.batchUsed) {
      this.batchUsed = false;
      const link = this.link;
      if (link?.live) link.used(REQUEST_QUEUE);
    }
    return this.workerInterrupt() || finished;
  }

  /** While workers return requests: raises the interrupt a return wanted; stops their returns once the link died (a failure: reset() stops them too). */
  private workerInterrupt(): boolean {
    if (this.workerGen === undefined || this.workerGen === 0) return false;
    const link = this.link;
    if (link === undefined || !link.live) {
      this.stopWorkerReturns();
      return false;
    }
    if (!this.usedTable.takeInterrupt()) return false;
    link.interrupt(REQUEST_QUEUE);
    return true;
  }

  /**
   * A request's I/O is over: the status byte and the used ring, once — or,
   * when its worker already wrote them (`pushed`, blk-used.ts), only the
   * statistics (the queue counts it back from the shared used index).
   */
  private finish(p: PendingIo, ok: boolean, moved: number, pushed = false): void {
    if (p.finished) return;
    p.finished = true;
    p.link?.asyncIo(-1);
    if (p.viaRing) {
      // No message will come: the slot is free now.
      this.ringInFlight--;
      this.release(p.slot);
    }
    if (pushed) this.stats.requests++;
    if (!ok) {
      if (!pushed) p.done(S_IOERR, 0);
      return;
    }
    const task = p.task;
    if (task.op === "read") {
      this.stats.readBytes += moved;
      // The worker wrote machine memory behind the view's back: let it forget stale decoded code there.
      for (let i = 0; i < task.pieces.length; i += 2) p.link?.memory.machineWritten(task.pieces[i], task.pieces[i + 1]);
    } else if (task.op === "write") this.stats.writeBytes += moved;
    if (!pushed) p.done(S_OK, p.written);
  }

  /** The request's message came too: its word and slot are free for another. */
  private release(slot: number): void {
    Atomics.store(this.doneWords, slot, DONE_PENDING);
    this.pending[slot] = undefined;
    const at = this.watching.indexOf(slot);
    if (at >= 0) this.watching.splice(at, 1);
    this.freeSlots.push(slot);
  }

  private complete(link: VirtioLink, head: number, statusAt: number, status: number, written: number): void {
    if (!link.live) return; // reset or failed meanwhile: the driver no longer waits for it
    if (this.workerGen !== undefined && this.workerGen !== 0 && this.usedViews !== undefined) {
      // The workers write this used ring too: through its table, under its lock.
      const at = link.memory.translateForWrite(statusAt, 1);
      if (at < 0) {
        link.fail(new VirtqError("buffer-outside-ram", "virtio-blk: the status byte cannot be reached"));
        return;
      }
      this.usedTable.push(MAIN_HOLDER, this.usedViews, undefined, this.workerGen, { slot: -1, head, length: written + 1, status, statusAt: at, done: 0 });
      this.stats.requests++;
      if (!this.batching) this.workerInterrupt();
      return;
    }
    try {
      link.memory.writeU8(statusAt, status);
      link.queue(REQUEST_QUEUE).push(head, written + 1);
      this.stats.requests++;
      if (this.batching) this.batchUsed = true;
      else link.used(REQUEST_QUEUE);
    } catch (e) {
      // The driver took the queue away while the request was in flight.
      if (!(e instanceof VirtqError)) throw e;
      link.fail(e);
    }
  }
}

/** The bytes a request's pieces cover: what its worker moved when it flagged success. */
function movedBy(task: BlkIoTask): number {
  let n = 0;
  for (let i = 1; i < task.pieces.length; i += 2) n += task.pieces[i];
  return n;
}
