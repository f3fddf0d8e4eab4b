/*
 * virtio-net (virtio 1.2 §5.1) on a switch port: queue 0 receives, queue 1
 * transmits. Every buffer starts with a virtio_net_hdr (§5.1.6): 12 bytes
 * (num_buffers included) for a modern device or with MRG_RXBUF, 10 for a
 * legacy one without. popek offers no offloads, so the header's flags and
 * GSO fields are 0 on receive and ignored on transmit.
 *
 * With MRG_RXBUF (mergeable receive buffers) a frame may span several
 * receive chains, the first header's num_buffers saying how many. Frames
 * that arrive while the driver has posted no receive buffers wait in a short
 * backlog, then are dropped and counted, as a NIC's FIFO overflows; before
 * DRIVER_OK (or after a reset) the NIC is down and drops them.
 */

import type { SwitchPort } from "../../net/port.ts";
import type { VirtioBackend, VirtioLink } from "./backend.ts";
import { forEachPiece, gatherOut, scatterIn } from "./chain-io.ts";
import { VirtqError } from "./errors.ts";
import { DescChain } from "./queue.ts";
import { DEVICE_ID_NET, F_VERSION_1, feature } from "./regs.ts";

/** Feature bits (§5.1.3). */
const F_MAC = 5;
const F_MRG_RXBUF = 15;
const F_STATUS = 16;

const RX_QUEUE = 0;
const TX_QUEUE = 1;
/** Configuration space: mac[6] @0, status u16 @6 (LINK_UP), max_virtqueue_pairs u16 @8; zero to 12 bytes. */
const CONFIG_SIZE = 12;
const CFG_STATUS = 6;
const S_LINK_UP = 1;
const HDR_LEGACY = 10;
const HDR_MODERN = 12;
const HDR_NUM_BUFFERS = 10;
/** Largest frame popek carries: a 1514-byte Ethernet frame, or a jumbo up to 64 KiB from a hostile chain. */
const MAX_FRAME = 65_536;
const BACKLOG = 256;

export interface NetConfig {
  /** Six bytes. */
  readonly mac: Uint8Array;
  readonly port: SwitchPort;
}

/** Counters, named as `--stats` and results print them. */
interface NetStats {
  /** Frames sent to the port. */
  txFrames: number;
  txBytes: number;
  /** Frames written into the guest's receive buffers. */
  rxFrames: number;
  rxBytes: number;
  /** Frames lost: the backlog was full, or a frame did not fit the buffers posted. */
  rxDropped: number;
}

export class VirtioNet implements VirtioBackend {
  readonly deviceId = DEVICE_ID_NET;
  readonly features = feature(F_MAC) | feature(F_MRG_RXBUF) | feature(F_STATUS);
  readonly queueCount = 2;
  readonly configSize = CONFIG_SIZE;
  readonly stats: NetStats = { txFrames: 0, txBytes: 0, rxFrames: 0, rxBytes: 0, rxDropped: 0 };
  private readonly config = new DataView(new ArrayBuffer(CONFIG_SIZE));
  private readonly chain = new DescChain();
  private readonly txBuffer = new Uint8Array(MAX_FRAME + HDR_MODERN);
  private readonly backlog: Uint8Array[] = [];
  private readonly numBuffers = new Uint8Array(2);
  /** The receive header: no offloads, so all zero but num_buffers. */
  private readonly rxHeader = new Uint8Array(HDR_MODERN);
  /** (head, length) pairs of one frame's receive chains, returned together once num_buffers is written. */
  private readonly rxUsed: number[] = [];
  private link: VirtioLink | undefined;

  constructor(private readonly cfg: NetConfig) {
    if (cfg.mac.length !== 6) throw new RangeError("virtio-net: a MAC has six bytes");
    for (let i = 0; i < 6; i++) this.config.setUint8(i, cfg.mac[i]);
    this.config.setUint16(CFG_STATUS, S_LINK_UP, true);
    cfg.port.onReceive((frame) => this.receive(frame));
  }

  readConfig(offset: number, width: number): number {
    return width === 1 ? this.config.getUint8(offset) : width === 2 ? this.config.getUint16(offset, true) : this.config.getUint32(offset, true);
  }

  /** Legacy drivers may write the MAC (§5.1.4.1 legacy); the rest is read-only. */
  writeConfig(offset: number, width: number, value: number): void {
    for (let i = 0; i < width; i++) if (offset + i < 6) this.config.setUint8(offset + i, (value >>> (8 * i)) & 0xff);
  }

  activate(link: VirtioLink): void {
    this.link = link;
  }

  reset(): void {
    this.link = undefined;
    this.backlog.length = 0;
  }

  notify(i: number): void {
    if (i === TX_QUEUE) this.transmit();
    else if (i === RX_QUEUE) this.deliverBacklog();
  }

  /** Header bytes in every buffer, as negotiated. */
  private headerSize(link: VirtioLink): number {
    const modern = (link.features & feature(F_VERSION_1)) !== 0n;
    const merge = (link.features & feature(F_MRG_RXBUF)) !== 0n;
    return modern || merge ? HDR_MODERN : HDR_LEGACY;
  }

  /** Sends every frame the driver has queued, then interrupts once for the batch. */
  private transmit(): void {
    const link = this.link;
    if (link === undefined) return;
    const q = link.queue(TX_QUEUE);
    const hdr = this.headerSize(link);
    let sent = 0;
    while (link.live && q.pop(this.chain)) {
      const bytes = this.chain.readableBytes;
      if (bytes < hdr || bytes > hdr + MAX_FRAME) throw new VirtqError("request-malformed", `virtio-net: a ${bytes}-byte transmit buffer`);
      const frame = this.txBuffer.subarray(0, bytes - hdr);
      gatherOut(link.memory, this.chain, hdr, frame);
      q.push(this.chain.head, 0);
      this.stats.txFrames++;
      this.stats.txBytes += frame.length;
      this.cfg.port.send(frame);
      sent++;
    }
    if (sent > 0) link.used(TX_QUEUE);
  }

  /** A frame from the port: into the guest's receive buffers, or the backlog while there are none. */
  private receive(frame: Uint8Array): void {
    const link = this.link;
    if (link === undefined || !link.live) {
      this.stats.rxDropped++; // no driver running: a NIC that is down drops what it hears
      return;
    }
    // A guest mistake found here (its receive queue not set up, a bad chain) stops the NIC, never the sender.
    this.guarded(link, () => {
      if (this.backlog.length > 0 || !link.queue(RX_QUEUE).hasAvailable()) {
        if (this.backlog.length >= BACKLOG || frame.length > MAX_FRAME) this.stats.rxDropped++;
        else this.backlog.push(frame.slice());
        return;
      }
      this.deliver(link, frame);
      link.used(RX_QUEUE);
    });
  }

  /** The driver posted receive buffers: as many backlogged frames as fit. */
  private deliverBacklog(): void {
    const link = this.link;
    if (link === undefined || this.backlog.length === 0) return;
    const q = link.queue(RX_QUEUE);
    let n = 0;
    while (this.backlog.length > 0 && link.live && q.hasAvailable()) {
      this.deliver(link, this.backlog.shift()!);
      n++;
    }
    if (n > 0) link.used(RX_QUEUE);
  }

  /** Work outside a register write (a frame arriving): a guest error stops the device here rather than in the transport. */
  private guarded(link: VirtioLink, work: () => void): void {
    try {
      work();
    } catch (e) {
      if (!(e instanceof VirtqError)) throw e;
      link.fail(e);
    }
  }

  /** Writes one frame into one receive chain, or (MRG_RXBUF) as many as it needs. */
  private deliver(link: VirtioLink, frame: Uint8Array): void {
    const q = link.queue(RX_QUEUE);
    const hdr = this.headerSize(link);
    const merge = (link.features & feature(F_MRG_RXBUF)) !== 0n;
    let sent = 0;
    let buffers = 0;
    let numBuffersAt = -1;
    const used = this.rxUsed;
    used.length = 0;
    while (sent < frame.length || buffers === 0) {
      if (!q.pop(this.chain)) break;
      const c = this.chain;
      const first = buffers === 0;
      const room = c.writableBytes - (first ? hdr : 0);
      if (room < 0 || (first && !merge && room < frame.length)) {
        throw new VirtqError("request-malformed", `virtio-net: a ${c.writableBytes}-byte receive buffer for a ${frame.length}-byte frame`);
      }
      if (first) {
        if (hdr === HDR_MODERN) forEachPiece(c, true, HDR_NUM_BUFFERS, 1, (gpa) => ((numBuffersAt = gpa), true));
        scatterIn(link.memory, c, 0, this.rxHeader.subarray(0, hdr));
      }
      const n = Math.min(room, frame.length - sent);
      scatterIn(link.memory, c, first ? hdr : 0, frame.subarray(sent, sent + n));
      used.push(c.head, n + (first ? hdr : 0));
      sent += n;
      buffers++;
      if (!merge) break;
    }
    if (sent < frame.length) this.stats.rxDropped++; // ran out of buffers mid-frame: the driver sees a short frame
    else {
      this.stats.rxFrames++;
      this.stats.rxBytes += frame.length;
    }
    if (numBuffersAt >= 0) {
      this.numBuffers[0] = buffers & 0xff;
      this.numBuffers[1] = buffers >>> 8;
      link.memory.copyIn(numBuffersAt, this.numBuffers);
    }
    for (let i = 0; i < used.length; i += 2) q.push(used[i], used[i + 1]);
  }
}
