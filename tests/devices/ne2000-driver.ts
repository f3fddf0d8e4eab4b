/*
 * An NE2000 driver as a guest would write one (after Linux's 8390.c / ne.c),
 * driving the device model through its register window only: the
 * register-level and hostile-input tests speak to the card this way.
 */

import type { AccessWidth } from "../../src/devices/device.ts";
import { Ne2000 } from "../../src/devices/ne2000.ts";
import type { SwitchPort } from "../../src/net/port.ts";

// Offsets and bits as the DP8390 datasheet names them.
export const CR = 0x00;
export const PSTART = 0x01;
export const PSTOP = 0x02;
export const BNRY = 0x03;
export const TPSR = 0x04;
export const TSR = 0x04;
export const TBCR0 = 0x05;
export const TBCR1 = 0x06;
export const ISR = 0x07;
export const RSAR0 = 0x08;
export const RSAR1 = 0x09;
export const RBCR0 = 0x0a;
export const RBCR1 = 0x0b;
export const RCR = 0x0c;
// RSR (page 0 read at 0x0c) is not read by this driver.
export const TCR = 0x0d;
const DCR = 0x0e;
export const IMR = 0x0f;
export const CNTR2 = 0x0f;
const PAR0 = 0x01;
export const CURR = 0x07;
export const MAR0 = 0x08;
export const DATA = 0x10;
export const RESET = 0x18;

export const CR_STP = 0x01;
export const CR_STA = 0x02;
export const CR_TXP = 0x04;
export const CR_RREAD = 0x08;
export const CR_RWRITE = 0x10;
export const CR_NODMA = 0x20;
export const CR_PAGE1 = 0x40;
export const CR_PAGE2 = 0x80;

export const ISR_PRX = 0x01;
export const ISR_PTX = 0x02;
export const ISR_TXE = 0x08;
export const ISR_OVW = 0x10;
export const ISR_RDC = 0x40;
export const ISR_RST = 0x80;

export const RCR_AB = 0x04;
export const RCR_AM = 0x08;
export const RCR_PRO = 0x10;
export const TCR_LOOPBACK = 0x02;

/** Transmit buffer pages 0x40-0x45 (one largest frame), receive ring 0x46-0x7f: the ne.c layout. */
export const TX_PAGE = 0x40;
export const RX_START = 0x46;
export const RX_STOP = 0x80;

/** A port that records what the card sends and lets a test hand it frames. */
export class TestPort implements SwitchPort {
  readonly sent: Uint8Array[] = [];
  private handler: (f: Uint8Array) => void = () => {};
  send(frame: Uint8Array): void {
    this.sent.push(frame.slice());
  }
  onReceive(handler: (frame: Uint8Array) => void): void {
    this.handler = handler;
  }
  deliver(frame: Uint8Array): void {
    this.handler(frame);
  }
}

export class Driver {
  irq = false;
  readonly port = new TestPort();
  readonly card: Ne2000;

  constructor(readonly mac = new Uint8Array([0x52, 0x54, 0x00, 0x12, 0x34, 0x56])) {
    this.card = new Ne2000({ set: (l) => (this.irq = l) }, this.port, mac);
  }

  out(reg: number, v: number): void {
    this.card.write(reg, 1, v);
  }
  in(reg: number): number {
    return this.card.read(reg, 1);
  }

  /** ne.c's NS8390_init: stop, configure, set the station address and CURR, start. */
  init(opts: { rcr?: number; dcr?: number; imr?: number } = {}): void {
    this.out(CR, CR_STP | CR_NODMA);
    this.out(DCR, opts.dcr ?? 0x48);
    this.out(RBCR0, 0);
    this.out(RBCR1, 0);
    this.out(RCR, 0x20);
    this.out(TCR, TCR_LOOPBACK);
    this.out(TPSR, TX_PAGE);
    this.out(PSTART, RX_START);
    this.out(BNRY, RX_START);
    this.out(PSTOP, RX_STOP);
    this.out(ISR, 0xff);
    this.out(IMR, 0);
    this.out(CR, CR_STP | CR_NODMA | CR_PAGE1);
    for (let i = 0; i < 6; i++) this.out(PAR0 + i, this.mac[i]);
    for (let i = 0; i < 8; i++) this.out(MAR0 + i, 0);
    this.out(CURR, RX_START + 1);
    this.out(CR, CR_STA | CR_NODMA);
    this.out(ISR, 0xff);
    this.out(IMR, opts.imr ?? 0x7f);
    this.out(TCR, 0);
    this.out(RCR, opts.rcr ?? RCR_AB);
  }

  /** Sets up a remote DMA of `count` bytes at card address `addr`. */
  remote(addr: number, count: number, cmd: number): void {
    this.out(RBCR0, count & 0xff);
    this.out(RBCR1, count >> 8);
    this.out(RSAR0, addr & 0xff);
    this.out(RSAR1, addr >> 8);
    this.out(CR, CR_STA | cmd);
  }

  readMem(addr: number, count: number, width: AccessWidth = 1): Uint8Array {
    this.remote(addr, count, CR_RREAD);
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i += width) {
      const v = this.card.read(DATA, width);
      for (let b = 0; b < width && i + b < count; b++) out[i + b] = (v >>> (8 * b)) & 0xff;
    }
    return out;
  }

  writeMem(addr: number, bytes: Uint8Array): void {
    this.remote(addr, bytes.length, CR_RWRITE);
    for (const b of bytes) this.card.write(DATA, 1, b);
  }

  /** Copies the frame to the transmit buffer and sends it. */
  transmit(frame: Uint8Array, page = TX_PAGE): void {
    this.writeMem(page << 8, frame);
    this.out(TPSR, page);
    this.out(TBCR0, frame.length & 0xff);
    this.out(TBCR1, frame.length >> 8);
    this.out(CR, CR_STA | CR_NODMA | CR_TXP);
  }

  curr(): number {
    this.out(CR, CR_STA | CR_NODMA | CR_PAGE1);
    const c = this.in(CURR);
    this.out(CR, CR_STA | CR_NODMA);
    return c;
  }

  /** ne.c's receive loop: the frame after BNRY, if any, read out and BNRY moved past it. */
  receiveOne(): { status: number; frame: Uint8Array } | undefined {
    let page = this.in(BNRY) + 1;
    if (page >= RX_STOP) page = RX_START;
    if (page === this.curr()) return undefined;
    const h = this.readMem(page << 8, 4);
    const frame = this.readMem((page << 8) + 4, (h[2] | (h[3] << 8)) - 4);
    const next = h[1];
    this.out(BNRY, next === RX_START ? RX_STOP - 1 : next - 1);
    return { status: h[0], frame };
  }
}

/** A lab frame of `size` bytes to `dst`, its payload counting up from `seed`. */
export function frameTo(dst: Uint8Array, size = 60, seed = 0): Uint8Array {
  const f = new Uint8Array(size);
  f.set(dst, 0);
  f.set([0x52, 0x54, 0x00, 0, 0, 0xee], 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  for (let i = 14; i < size; i++) f[i] = (seed + i) & 0xff;
  return f;
}
