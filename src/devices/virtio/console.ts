/*
 * virtio-console (virtio 1.2 §5.3) with one port and no MULTIPORT: queue 0
 * receives (host to guest), queue 1 transmits (guest to host). The port is
 * the popek console: what the guest transmits goes to the machine's console
 * output (DeviceHost.consoleOut), as the UART's bytes do, and host input
 * (receive) fills the receive buffers the driver posted, waiting in a
 * bounded backlog while it has posted none.
 *
 * Configuration space (§5.3.4): cols u16 @0, rows u16 @2, max_nr_ports u32
 * @4, emerg_wr u32 @8. With EMERG_WRITE a driver may print a byte by
 * writing emerg_wr, before (or without) any queue.
 */

import type { VirtioBackend, VirtioLink } from "./backend.ts";
import { gatherOut, scatterIn } from "./chain-io.ts";
import { VirtqError } from "./errors.ts";
import { DescChain } from "./queue.ts";
import { DEVICE_ID_CONSOLE, feature } from "./regs.ts";

/** Feature bits (§5.3.3). */
const F_EMERG_WRITE = 2;

const RX_QUEUE = 0;
const TX_QUEUE = 1;
const CONFIG_SIZE = 12;
const CFG_EMERG_WR = 8;
/** Largest transmit buffer taken (Linux's hvc sends at most a page at a time). */
const MAX_TX = 65_536;
/** Host input bytes kept while the driver has no receive buffer posted; past it they are dropped and counted. */
const BACKLOG = 4096;

/** Counters, named as results print them. */
interface ConsoleStats {
  /** Bytes the guest wrote to the console (queue or emerg_wr). */
  txBytes: number;
  /** Host input bytes handed to the guest. */
  rxBytes: number;
  /** Host input bytes lost: the backlog was full. */
  rxDropped: number;
}

export class VirtioConsole implements VirtioBackend {
  readonly deviceId = DEVICE_ID_CONSOLE;
  readonly features = feature(F_EMERG_WRITE);
  readonly queueCount = 2;
  readonly configSize = CONFIG_SIZE;
  readonly stats: ConsoleStats = { txBytes: 0, rxBytes: 0, rxDropped: 0 };
  private readonly chain = new DescChain();
  private readonly txBuffer = new Uint8Array(MAX_TX);
  private readonly backlog = new Uint8Array(BACKLOG);
  private backlogLength = 0;
  private link: VirtioLink | undefined;

  constructor(private readonly out: (byte: number) => void) {}

  /** No size, one port, emerg_wr reads 0 (§5.3.4). */
  readConfig(): number {
    return 0;
  }

  writeConfig(offset: number, width: number, value: number): void {
    if (offset === CFG_EMERG_WR && width === 4) this.print(value & 0xff);
  }

  activate(link: VirtioLink): void {
    this.link = link;
    this.deliver();
  }

  reset(): void {
    this.link = undefined;
  }

  notify(i: number): void {
    if (i === TX_QUEUE) this.transmit();
    else if (i === RX_QUEUE) this.deliver();
  }

  /** Host console input: into the guest's receive buffers as soon as it has some. */
  receive(bytes: Uint8Array): void {
    const room = BACKLOG - this.backlogLength;
    const n = Math.min(room, bytes.length);
    this.backlog.set(bytes.subarray(0, n), this.backlogLength);
    this.backlogLength += n;
    this.stats.rxDropped += bytes.length - n;
    const link = this.link;
    if (link === undefined) return;
    try {
      this.deliver();
    } catch (e) {
      // A guest mistake found outside a register write (a bad receive chain) stops the device here.
      if (!(e instanceof VirtqError)) throw e;
      link.fail(e);
    }
  }

  private print(byte: number): void {
    this.stats.txBytes++;
    this.out(byte);
  }

  /** Every chain the driver queued, in order, to the console; one interrupt for the batch. */
  private transmit(): void {
    const link = this.link;
    if (link === undefined) return;
    const q = link.queue(TX_QUEUE);
    let sent = 0;
    while (link.live && q.pop(this.chain)) {
      const bytes = this.chain.readableBytes;
      if (bytes > MAX_TX) throw new VirtqError("request-malformed", `virtio-console: a ${bytes}-byte transmit buffer`);
      const data = this.txBuffer.subarray(0, bytes);
      gatherOut(link.memory, this.chain, 0, data);
      for (let i = 0; i < data.length; i++) this.print(data[i]);
      q.push(this.chain.head, 0);
      sent++;
    }
    if (sent > 0) link.used(TX_QUEUE);
  }

  /** As much of the backlog as the posted receive buffers hold. */
  private deliver(): void {
    const link = this.link;
    if (link === undefined || this.backlogLength === 0) return;
    const q = link.queue(RX_QUEUE);
    let filled = 0;
    let taken = 0;
    while (taken < this.backlogLength && link.live && q.pop(this.chain)) {
      const n = Math.min(this.chain.writableBytes, this.backlogLength - taken);
      scatterIn(link.memory, this.chain, 0, this.backlog.subarray(taken, taken + n));
      q.push(this.chain.head, n);
      taken += n;
      filled++;
    }
    this.backlog.copyWithin(0, taken, this.backlogLength);
    this.backlogLength -= taken;
    this.stats.rxBytes += taken;
    if (filled > 0) link.used(RX_QUEUE);
  }
}
