/*
 * An NE2000: a National Semiconductor DP8390 network controller with 32 KiB
 * of packet RAM behind a remote-DMA data port, as QEMU's hw/net/ne2000.c
 * models it, in a lab MMIO window instead of ISA I/O ports. The guest reaches
 * every byte of a frame through a register, so each one is an MMIO access,
 * and under --virt trap an exit: that cost is the lesson.
 *
 * Window (0x20 bytes, like the card's 32 I/O ports):
 *   0x00-0x0f  DP8390 registers, in the page CR.PS selects (below)
 *   0x10-0x17  DATA   remote-DMA data port: 1, 2 or 4 bytes per access
 *   0x18-0x1f  RESET  a read resets the card (ISR.RST set); a write is ignored
 *
 * Card memory (the remote-DMA address space, 16 bits):
 *   0x0000-0x001f  PROM: the MAC, each byte twice, and 'W','W' at 14/15 (NE2000)
 *   0x4000-0xbfff  packet RAM: the transmit buffer and the receive ring
 *   elsewhere      reads 0xff, writes ignored
 *
 * The receive ring lives in 256-byte pages [PSTART, PSTOP). Each received
 * frame starts on a page with a 4-byte header: receive status, next page,
 * length (low, high; frame + header). CURR is where the card writes next,
 * BNRY the last page the driver has read; the card never lets CURR reach BNRY.
 *
 * Hostile guests (QEMU's NE2000 CVEs 2015-5278/5279, 2016-2841, 2018-10839,
 * 2021-3416): every ring pointer is checked before a byte is written — a
 * ring that is not inside packet RAM, inverted, empty or smaller than one
 * largest frame receives nothing (the frame is counted as missed); CURR or
 * BNRY outside the ring likewise. Remote DMA addresses wrap inside the 16-bit
 * card space and never reach past the card's memory. Frames longer than the
 * largest Ethernet frame, and shorter than a header, are refused on both
 * paths. Loopback hands a frame to the card's own receiver once, with no
 * re-entry into transmit. Every loop is bounded by a frame length.
 */

import { allOnes, type AccessWidth, type DeviceKind, type IrqLine, type MmioDevice } from "./device.ts";
import { fdtNode, propBytes, propString } from "../machine/fdt.ts";
import type { SwitchPort } from "../net/port.ts";

/** The register window: 16 registers, the data port and the reset port. */
const NE2000_WINDOW = 0x20;

// ---- register offsets (the same on every page) ----
const REG_CR = 0x00; //        rw  command: STP STA TXP RD2-0 PS1-0

// Page 0, read.
const P0R_CLDA0 = 0x01; //     r   current local DMA address (low)
const P0R_CLDA1 = 0x02; //     r   current local DMA address (high)
const P0_BNRY = 0x03; //       rw  boundary: last receive page the driver has read
const P0R_TSR = 0x04; //       r   transmit status
const P0R_NCR = 0x05; //       r   collision count (always 0: no collisions on a switch)
const P0R_FIFO = 0x06; //      r   FIFO (not modelled: all ones)
const P0_ISR = 0x07; //        rw  interrupt status; writing 1s clears
const P0R_CRDA0 = 0x08; //     r   current remote DMA address (low)
const P0R_CRDA1 = 0x09; //     r   current remote DMA address (high)
const P0R_ID0 = 0x0a; //       r   RTL8029 id 'P' (QEMU answers it; NE2000 probes read it)
const P0R_ID1 = 0x0b; //       r   RTL8029 id 'C'
const P0R_RSR = 0x0c; //       r   receive status of the last frame
const P0R_CNTR0 = 0x0d; //     r   frame alignment errors (cleared by the read)
const P0R_CNTR1 = 0x0e; //     r   CRC errors (cleared by the read)
const P0R_CNTR2 = 0x0f; //     r   missed frames (cleared by the read)

// Page 0, write.
const P0W_PSTART = 0x01; //    w   first page of the receive ring
const P0W_PSTOP = 0x02; //     w   page after the receive ring
const P0W_TPSR = 0x04; //      w   transmit page start
const P0W_TBCR0 = 0x05; //     w   transmit byte count (low)
const P0W_TBCR1 = 0x06; //     w   transmit byte count (high)
const P0W_RSAR0 = 0x08; //     w   remote start address (low)
const P0W_RSAR1 = 0x09; //     w   remote start address (high)
const P0W_RBCR0 = 0x0a; //     w   remote byte count (low)
const P0W_RBCR1 = 0x0b; //     w   remote byte count (high)
const P0W_RCR = 0x0c; //       w   receive configuration
const P0W_TCR = 0x0d; //       w   transmit configuration (loopback)
const P0W_DCR = 0x0e; //       w   data configuration (word transfers)
const P0W_IMR = 0x0f; //       w   interrupt mask

// Page 1, read and write.
const P1_PAR0 = 0x01; //       rw  PAR0-5: the station address, 0x01-0x06
const P1_PAR5 = 0x06;
const P1_CURR = 0x07; //       rw  current page: where the next frame goes
const P1_MAR0 = 0x08; //       rw  MAR0-7: multicast hash filter, 0x08-0x0f
const P1_MAR7 = 0x0f;

// Page 2, read only (diagnostics: what page 0 wrote).
const P2R_PSTART = 0x01;
const P2R_PSTOP = 0x02;
const P2R_TPSR = 0x04;
const P2R_RCR = 0x0c;
const P2R_TCR = 0x0d;
const P2R_DCR = 0x0e;
const P2R_IMR = 0x0f;

const PORT_DATA = 0x10; //     rw  remote-DMA data port, 0x10-0x17
const PORT_RESET = 0x18; //    r   reset port, 0x18-0x1f

// CR bits.
const CR_STP = 0x01; // stop: receiver and transmitter off
const CR_STA = 0x02; // start
const CR_TXP = 0x04; // transmit the frame at TPSR, TBCR bytes
const CR_RD_READ = 0x08; // remote DMA: read
const CR_RD_WRITE = 0x10; // remote DMA: write
const CR_RD_ABORT = 0x20; // remote DMA: abort / complete
const CR_PS_SHIFT = 6; // page select, bits 7:6

// ISR and IMR bits.
const ISR_PRX = 0x01; // frame received
const ISR_PTX = 0x02; // frame transmitted
// 0x04 RXE receive error: never set, a virtual wire has no CRC or alignment errors
const ISR_TXE = 0x08; // transmit error (aborted)
const ISR_OVW = 0x10; // receive ring overwrite warning: a frame was missed for want of room
const ISR_CNT = 0x20; // a tally counter reached its top bit
const ISR_RDC = 0x40; // remote DMA complete
const ISR_RST = 0x80; // the card is stopped (reset or CR.STP); not an interrupt source
const ISR_IRQ_MASK = 0x7f;

// RCR bits.
// 0x01 SEP (save errored frames) and 0x02 AR (accept runts): stored only, frames here are neither errored nor runts (they are padded)
const RCR_AB = 0x04; // accept broadcast
const RCR_AM = 0x08; // accept multicast that hits MAR
const RCR_PRO = 0x10; // promiscuous: every unicast
const RCR_MON = 0x20; // monitor: check frames, buffer none
const RCR_MASK = 0x3f;

// TCR bits.
const TCR_LB_MASK = 0x06; // loopback mode: 0 normal, else the frame comes back to the card's receiver
const TCR_MASK = 0x1f;

// DCR bits.
const DCR_WTS = 0x01; // word-wide remote DMA
const DCR_MASK = 0x7f;

// RSR bits.
const RSR_PRX = 0x01; // received intact
const RSR_PHY = 0x20; // the destination was a group address
const RSR_MPA = 0x10; // missed packet

// TSR bits.
const TSR_PTX = 0x01; // transmitted
const TSR_ABT = 0x08; // aborted (here: a frame the card refused to send)

/** Card memory: PROM at 0, packet RAM from PMEM_START to PMEM_END. */
const PROM_SIZE = 0x20;
const PMEM_START = 0x4000;
const PMEM_END = 0xc000;
const PAGE = 0x100;
const START_PAGE_MIN = PMEM_START / PAGE;
const STOP_PAGE_MAX = PMEM_END / PAGE;
/** Receive header: status, next page, length low, length high. */
const RX_HEADER = 4;
/** Largest frame handled (no FCS), with room for a VLAN tag. */
const MAX_FRAME = 1518;
/** Shortest frame the card delivers: shorter ones are padded (the wire's minimum without FCS). */
const MIN_FRAME = 60;
const ETH_HEADER = 14;
/** A ring smaller than this many pages cannot hold the largest frame: the card refuses it. */
const MIN_RING_PAGES = Math.ceil((MAX_FRAME + RX_HEADER) / PAGE) + 1;
/** The word-mode PROM signature at PROM bytes 14 and 15. */
const PROM_SIGNATURE = 0x57;
/** DP8390 tally counters: ISR.CNT rises when a counter's top bit sets; they stop at 192 rather than roll over. */
const TALLY_CNT_BIT = 0x80;
const TALLY_MAX = 0xc0;

/** Why frames were not received or sent: the card's counters beyond the tally registers. */
export interface Ne2000Stats {
  /** Frames transmitted to the network (or looped back). */
  txFrames: number;
  txBytes: number;
  /** Frames received into the ring. */
  rxFrames: number;
  rxBytes: number;
  /** Frames not addressed to this card (by RCR, PAR, MAR). */
  rxFiltered: number;
  /** Frames that arrived while the card was stopped. */
  rxStopped: number;
  /** Frames missed: no room in the ring (CNTR2 counts these too). */
  rxRingFull: number;
  /** Frames missed because PSTART/PSTOP/CURR/BNRY do not describe a ring inside packet RAM. */
  rxBadRing: number;
  /** Frames refused: shorter than a header or longer than MAX_FRAME (both directions). */
  badLength: number;
  /** Transmits refused: TPSR/TBCR outside packet RAM. */
  txBadBuffer: number;
  /** Interrupt line rises. */
  irqs: number;
}

function newStats(): Ne2000Stats {
  return { txFrames: 0, txBytes: 0, rxFrames: 0, rxBytes: 0, rxFiltered: 0, rxStopped: 0, rxRingFull: 0, rxBadRing: 0, badLength: 0, txBadBuffer: 0, irqs: 0 };
}

export class Ne2000 implements MmioDevice {
  readonly name = "ne2000";
  readonly size = NE2000_WINDOW;
  readonly stats: Ne2000Stats = newStats();
  /** PROM and packet RAM, indexed by card address (PMEM_END bytes; 0x20..0x3fff is not there). */
  private readonly mem = new Uint8Array(PMEM_END);
  private readonly par = new Uint8Array(6);
  private readonly mar = new Uint8Array(8);
  private cr = 0;
  private isr = 0;
  private imr = 0;
  private rcr = 0;
  private tcr = 0;
  private dcr = 0;
  private rsr = 0;
  private tsr = 0;
  /** Ring pages as written (validated only when used). */
  private pstart = 0;
  private pstop = 0;
  private bnry = 0;
  private curr = 0;
  private tpsr = 0;
  private tbcr = 0;
  /** Remote DMA: address (16 bits) and bytes left. */
  private rsar = 0;
  private rbcr = 0;
  private cntr = [0, 0, 0];
  private irqLevel = false;

  constructor(
    private readonly irq: IrqLine,
    private readonly port: SwitchPort,
    readonly mac: Uint8Array,
  ) {
    if (mac.length !== 6) throw new RangeError("ne2000: a MAC address has 6 bytes");
    this.reset();
    port.onReceive((f) => this.receive(f));
  }

  /** Power-on state (and the reset port's effect): stopped, interrupts masked, ISR.RST set; packet RAM is kept, as on the card. */
  reset(): void {
    this.cr = CR_STP | CR_RD_ABORT;
    this.isr = ISR_RST;
    this.imr = 0;
    this.rcr = 0;
    this.tcr = 0;
    this.dcr = 0;
    this.rsr = 0;
    this.tsr = 0;
    this.rsar = 0;
    this.rbcr = 0;
    this.cntr = [0, 0, 0];
    // PROM: QEMU's layout (each byte doubled, so byte-mode and word-mode reads both see the MAC).
    const prom = new Uint8Array(16);
    prom.set(this.mac, 0);
    prom[14] = PROM_SIGNATURE;
    prom[15] = PROM_SIGNATURE;
    for (let i = 0; i < 16; i++) {
      this.mem[2 * i] = prom[i];
      this.mem[2 * i + 1] = prom[i];
    }
    this.updateIrq();
  }

  private page(): number {
    return this.cr >> CR_PS_SHIFT;
  }

  read(offset: number, width: AccessWidth): number {
    if (offset >= PORT_RESET && offset < NE2000_WINDOW) {
      this.reset();
      return 0;
    }
    if (offset >= PORT_DATA && offset < PORT_RESET) return this.dataRead(width);
    if (offset < 0 || offset >= PORT_DATA || width !== 1) return allOnes(width);
    if (offset === REG_CR) return this.cr;
    switch (this.page()) {
      case 0:
        return this.readPage0(offset);
      case 1:
        return this.readPage1(offset);
      case 2:
        return this.readPage2(offset);
      default:
        return allOnes(1);
    }
  }

  write(offset: number, width: AccessWidth, value: number): void {
    if (offset >= PORT_DATA && offset < PORT_RESET) {
      this.dataWrite(width, value);
      return;
    }
    if (offset < 0 || offset >= PORT_DATA || width !== 1) return;
    const v = value & 0xff;
    if (offset === REG_CR) {
      this.writeCr(v);
      return;
    }
    const page = this.page();
    if (page === 0) this.writePage0(offset, v);
    else if (page === 1) this.writePage1(offset, v);
    // Page 2 is read-only and page 3 reserved: writes are ignored.
  }

  private readPage0(offset: number): number {
    switch (offset) {
      case P0R_CLDA0:
      case P0R_CLDA1:
        return 0;
      case P0_BNRY:
        return this.bnry;
      case P0R_TSR:
        return this.tsr;
      case P0R_NCR:
        return 0;
      case P0R_FIFO:
        return allOnes(1);
      case P0_ISR:
        return this.isr;
      case P0R_CRDA0:
        return this.rsar & 0xff;
      case P0R_CRDA1:
        return this.rsar >> 8;
      case P0R_ID0:
        return 0x50;
      case P0R_ID1:
        return 0x43;
      case P0R_RSR:
        return this.rsr;
      case P0R_CNTR0:
      case P0R_CNTR1:
      case P0R_CNTR2: {
        const i = offset - P0R_CNTR0;
        const v = this.cntr[i];
        this.cntr[i] = 0;
        return v;
      }
      default:
        return allOnes(1);
    }
  }

  private readPage1(offset: number): number {
    if (offset >= P1_PAR0 && offset <= P1_PAR5) return this.par[offset - P1_PAR0];
    if (offset === P1_CURR) return this.curr;
    if (offset >= P1_MAR0 && offset <= P1_MAR7) return this.mar[offset - P1_MAR0];
    return allOnes(1);
  }

  private readPage2(offset: number): number {
    switch (offset) {
      case P2R_PSTART:
        return this.pstart;
      case P2R_PSTOP:
        return this.pstop;
      case P2R_TPSR:
        return this.tpsr;
      case P2R_RCR:
        return this.rcr;
      case P2R_TCR:
        return this.tcr;
      case P2R_DCR:
        return this.dcr;
      case P2R_IMR:
        return this.imr;
      default:
        return allOnes(1);
    }
  }

  private writePage0(offset: number, v: number): void {
    switch (offset) {
      case P0W_PSTART:
        this.pstart = v;
        break;
      case P0W_PSTOP:
        this.pstop = v;
        break;
      case P0_BNRY:
        this.bnry = v;
        break;
      case P0W_TPSR:
        this.tpsr = v;
        break;
      case P0W_TBCR0:
        this.tbcr = (this.tbcr & 0xff00) | v;
        break;
      case P0W_TBCR1:
        this.tbcr = (this.tbcr & 0x00ff) | (v << 8);
        break;
      case P0_ISR:
        // Writing 1s acknowledges; RST reflects the card's state and is not cleared this way.
        this.isr &= ~(v & ISR_IRQ_MASK);
        this.updateIrq();
        break;
      case P0W_RSAR0:
        this.rsar = (this.rsar & 0xff00) | v;
        break;
      case P0W_RSAR1:
        this.rsar = (this.rsar & 0x00ff) | (v << 8);
        break;
      case P0W_RBCR0:
        this.rbcr = (this.rbcr & 0xff00) | v;
        break;
      case P0W_RBCR1:
        this.rbcr = (this.rbcr & 0x00ff) | (v << 8);
        break;
      case P0W_RCR:
        this.rcr = v & RCR_MASK;
        break;
      case P0W_TCR:
        this.tcr = v & TCR_MASK;
        break;
      case P0W_DCR:
        this.dcr = v & DCR_MASK;
        break;
      case P0W_IMR:
        this.imr = v & ISR_IRQ_MASK;
        this.updateIrq();
        break;
    }
  }

  private writePage1(offset: number, v: number): void {
    if (offset >= P1_PAR0 && offset <= P1_PAR5) this.par[offset - P1_PAR0] = v;
    else if (offset === P1_CURR) this.curr = v;
    else if (offset >= P1_MAR0 && offset <= P1_MAR7) this.mar[offset - P1_MAR0] = v;
  }

  /** CR: stop/start, a remote-DMA command, a transmit; the page select just sticks. */
  private writeCr(v: number): void {
    this.cr = v & ~CR_TXP;
    if (v & CR_STP) {
      // DP8390: stopping the card sets ISR.RST once the receiver is idle (here at once).
      this.isr |= ISR_RST;
      this.updateIrq();
      return;
    }
    if (v & CR_STA) this.isr &= ~ISR_RST;
    // A remote read or write of zero bytes completes at once.
    if ((v & (CR_RD_READ | CR_RD_WRITE)) !== 0 && (v & CR_RD_ABORT) === 0 && this.rbcr === 0) this.isr |= ISR_RDC;
    if (v & CR_RD_ABORT) this.rbcr = 0;
    if (v & CR_TXP) this.transmit();
    this.updateIrq();
  }

  /** The frame at TPSR, TBCR bytes, to the network — or to our own receiver in loopback. */
  private transmit(): void {
    const start = this.tpsr * PAGE;
    const len = this.tbcr;
    if (len < ETH_HEADER || len > MAX_FRAME) {
      this.stats.badLength++;
      this.txAbort();
      return;
    }
    if (start < PMEM_START || start + len > PMEM_END) {
      this.stats.txBadBuffer++;
      this.txAbort();
      return;
    }
    // A copy: the receiver (ours in loopback, or another card) must not see this buffer change under it.
    const frame = this.mem.slice(start, start + len);
    this.stats.txFrames++;
    this.stats.txBytes += len;
    if ((this.tcr & TCR_LB_MASK) !== 0) this.receive(frame);
    else this.port.send(frame);
    this.tsr = TSR_PTX;
    this.isr |= ISR_PTX;
  }

  private txAbort(): void {
    this.tsr = TSR_ABT;
    this.isr |= ISR_TXE;
  }

  // ---- remote DMA ----

  /** Which card byte remote DMA address `a` reaches; -1 where no memory is. */
  private cardByte(a: number): number {
    return a < PROM_SIZE || (a >= PMEM_START && a < PMEM_END) ? a : -1;
  }

  /** Bytes one data-port access moves: its width, but never more than are left. */
  private dmaStep(width: AccessWidth): number {
    // Word mode keeps the address even, as the card's 16-bit bus does.
    if (this.dcr & DCR_WTS && width > 1) this.rsar &= ~1;
    return Math.min(width, this.rbcr);
  }

  private dataRead(width: AccessWidth): number {
    const n = this.dmaStep(width);
    if (n === 0) return allOnes(width);
    let v = 0;
    for (let i = 0; i < n; i++) {
      const at = this.cardByte(this.rsar);
      v |= (at < 0 ? 0xff : this.mem[at]) << (8 * i);
      this.dmaAdvance();
    }
    for (let i = n; i < width; i++) v |= 0xff << (8 * i);
    return v >>> 0;
  }

  private dataWrite(width: AccessWidth, value: number): void {
    const n = this.dmaStep(width);
    for (let i = 0; i < n; i++) {
      const at = this.cardByte(this.rsar);
      if (at >= PMEM_START) this.mem[at] = (value >>> (8 * i)) & 0xff;
      this.dmaAdvance();
    }
  }

  /** One byte done: the address moves on (wrapping from PSTOP to PSTART inside a valid ring, as a driver reading frames expects) and RDC rises at the end. */
  private dmaAdvance(): void {
    this.rsar = (this.rsar + 1) & 0xffff;
    if (this.ringValid() && this.rsar === this.pstop * PAGE) this.rsar = this.pstart * PAGE;
    this.rbcr--;
    if (this.rbcr === 0) {
      this.isr |= ISR_RDC;
      this.updateIrq();
    }
  }

  // ---- receive ----

  /** PSTART/PSTOP describe a ring inside packet RAM that can hold the largest frame. */
  private ringValid(): boolean {
    return this.pstart >= START_PAGE_MIN && this.pstop <= STOP_PAGE_MAX && this.pstop - this.pstart >= MIN_RING_PAGES;
  }

  private inRing(page: number): boolean {
    return page >= this.pstart && page < this.pstop;
  }

  /** Whether RCR, PAR and MAR let this frame in; sets RSR_PHY for group frames. */
  private accepts(f: Uint8Array): boolean {
    if (f[0] & 1) {
      const broadcast = f[0] === 0xff && f[1] === 0xff && f[2] === 0xff && f[3] === 0xff && f[4] === 0xff && f[5] === 0xff;
      if (broadcast) return (this.rcr & RCR_AB) !== 0 || (this.rcr & RCR_PRO) !== 0;
      if (this.rcr & RCR_PRO) return true;
      if ((this.rcr & RCR_AM) === 0) return false;
      const bit = multicastHashIndex(f);
      return (this.mar[bit >> 3] & (1 << (bit & 7))) !== 0;
    }
    if (this.rcr & RCR_PRO) return true;
    for (let i = 0; i < 6; i++) if (f[i] !== this.par[i]) return false;
    return true;
  }

  /** A frame from the network (or our own loopback) into the receive ring, every pointer checked first. */
  receive(f: Uint8Array): void {
    if (f.length < ETH_HEADER || f.length > MAX_FRAME) {
      this.stats.badLength++;
      return;
    }
    if (this.cr & CR_STP) {
      this.stats.rxStopped++;
      return;
    }
    if (!this.accepts(f)) {
      this.stats.rxFiltered++;
      return;
    }
    if (this.rcr & RCR_MON) {
      this.rsr = RSR_PRX | (f[0] & 1 ? RSR_PHY : 0);
      return;
    }
    // Linux's 8390.c writes BNRY = next - 1, which is PSTART - 1 when the next frame is at PSTART: the page before the ring's first is its last.
    const bnry = this.bnry === this.pstart - 1 ? this.pstop - 1 : this.bnry;
    if (!this.ringValid() || !this.inRing(this.curr) || !this.inRing(bnry)) {
      this.stats.rxBadRing++;
      this.missed();
      return;
    }
    const size = Math.max(f.length, MIN_FRAME);
    const total = size + RX_HEADER;
    const pages = Math.ceil(total / PAGE);
    const ringPages = this.pstop - this.pstart;
    // Free pages from CURR up to (not including) BNRY; CURR === BNRY means an empty ring (QEMU's reading, which suits
    // drivers that keep BNRY at the next unread page and those, like Linux, that keep it one before).
    const free = this.curr === bnry ? ringPages : (bnry - this.curr + ringPages) % ringPages;
    // Strictly less: CURR may not land on BNRY, or a full ring would read as empty.
    if (pages >= free) {
      this.stats.rxRingFull++;
      this.missed();
      return;
    }
    let next = this.curr + pages;
    if (next >= this.pstop) next -= ringPages;
    this.rsr = RSR_PRX | (f[0] & 1 ? RSR_PHY : 0);
    const at = this.curr * PAGE;
    this.mem[at] = this.rsr;
    this.mem[at + 1] = next;
    this.mem[at + 2] = total & 0xff;
    this.mem[at + 3] = total >> 8;
    this.ringCopy(at + RX_HEADER, f, size);
    this.curr = next;
    this.stats.rxFrames++;
    this.stats.rxBytes += f.length;
    this.isr |= ISR_PRX;
    this.updateIrq();
  }

  /** Copies the frame (zero-padded to `size`) into the ring from `at`, wrapping at PSTOP; the ring was checked to be inside packet RAM. */
  private ringCopy(at: number, f: Uint8Array, size: number): void {
    const stop = this.pstop * PAGE;
    const first = Math.min(size, stop - at);
    this.putPadded(at, f, 0, first);
    if (first < size) this.putPadded(this.pstart * PAGE, f, first, size - first);
  }

  private putPadded(at: number, f: Uint8Array, from: number, n: number): void {
    const have = Math.max(0, Math.min(n, f.length - from));
    this.mem.set(f.subarray(from, from + have), at);
    this.mem.fill(0, at + have, at + n);
  }

  /** A frame missed: CNTR2 counts it, RSR says so, ISR.OVW warns the driver. */
  private missed(): void {
    this.rsr = RSR_MPA;
    if (this.cntr[2] < TALLY_MAX) this.cntr[2]++;
    if (this.cntr[2] & TALLY_CNT_BIT) this.isr |= ISR_CNT;
    this.isr |= ISR_OVW;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = (this.isr & this.imr & ISR_IRQ_MASK) !== 0;
    if (level && !this.irqLevel) this.stats.irqs++;
    this.irqLevel = level;
    this.irq.set(level);
  }
}

/** Bit of the multicast filter (0..63) a group address selects: the top 6 bits of the Ethernet CRC-32 of the address, as the DP8390 (and QEMU's compute_mcast_idx) compute it. */
export function multicastHashIndex(mac: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < 6; i++) {
    let b = mac[i];
    for (let j = 0; j < 8; j++) {
      const carry = ((crc >>> 31) ^ (b & 1)) !== 0;
      crc = (crc << 1) >>> 0;
      b >>= 1;
      if (carry) crc = ((crc ^ 0x04c11db6) | 1) >>> 0;
    }
  }
  return crc >>> 26;
}

/** An NE2000 attached to one switch port, as a board device: a kind per card, since each has its own port and MAC. */
export function ne2000Kind(port: SwitchPort, mac: Uint8Array): DeviceKind<Ne2000> {
  return {
    name: "ne2000",
    window: NE2000_WINDOW,
    wiring: "source",
    dt: {
      node: "ethernet",
      build: (c) => fdtNode(c.name, [...c.interrupts, c.reg, propBytes("local-mac-address", mac), propString("compatible", "popek,ne2000")]),
    },
    create: (ctx) => new Ne2000(ctx.irq, port, mac),
    reset: (d) => d.reset(),
  };
}
