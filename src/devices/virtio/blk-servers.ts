/*
 * The ring servers of one virtio-blk device (main thread's side): how many
 * serving spells (blk-io.ts serveRing) it has on the piscina pool, starting
 * more while requests wait unclaimed, and telling the device which spell's
 * requests are lost when a worker dies.
 *
 * The count is the main thread's alone: a spell counts from its start
 * until its promise settles. A spell that ends (idle, or its slice done)
 * just as a request is submitted leaves that request to the next spell,
 * which the settling starts: never lost, at worst one event-loop turn late.
 */

/** The claim-word name of the main thread, when it takes requests off the ring to fail them. */
export const MAIN_THREAD_CLAIM = -1;

import { runBlkServe, BLK_IO_THREADS } from "./blk-pool.ts";
import type { BlkRingView } from "./blk-ring.ts";
import type { CodeWriteShare } from "../../machine/code-writes.ts";

/** What a spell needs besides the ring: the memory and image it serves, the bells it rings. */
export interface ServeTarget {
  readonly path: string;
  readonly machine: SharedArrayBuffer;
  readonly done: SharedArrayBuffer;
  readonly doorbell: SharedArrayBuffer | undefined;
  /** The device's used-ring table, for the requests its workers return themselves (blk-used.ts). */
  readonly used: SharedArrayBuffer;
  /** Where a read marks the machine pages it wrote, before the request is returned (GuestMemoryView.codeWrites). */
  readonly codeWrites: CodeWriteShare | undefined;
}

export class RingServers {
  /** Spells started and not yet settled. */
  private active = 0;
  /** The last spell's name (claim words hold it; 0 means unclaimed). */
  private lastServer = 0;
  /** What the latest spells serve (the device's current activation). */
  private target: ServeTarget | undefined;

  constructor(
    private readonly ring: BlkRingView,
    /**
     * A spell's worker died (or the pool could not start one): fail the
     * requests it had claimed, and, when no spell is left (`last`), the
     * unclaimed ones too — starting another spell at once could fail the
     * same way forever; the next request tries again.
     */
    private readonly lost: (server: number, last: boolean) => void,
  ) {}

  /** Starts spells, up to one per pool thread, while requests wait unclaimed. */
  ensure(target: ServeTarget | undefined = this.target): void {
    this.target = target;
    if (target === undefined) return;
    while (this.active < BLK_IO_THREADS && this.active < this.ring.unclaimed()) this.launch(target);
  }

  private launch(target: ServeTarget): void {
    this.lastServer = this.lastServer >= 0x7fff_ffff ? 1 : this.lastServer + 1;
    const server = this.lastServer;
    this.active++;
    runBlkServe({ op: "serve", ring: this.ring.buffer, server, ...target }).then(
      () => {
        this.active--;
        this.ensure();
      },
      () => {
        this.active--;
        this.lost(server, this.active === 0);
      },
    );
  }
}
