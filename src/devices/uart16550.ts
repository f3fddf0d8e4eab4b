/*
 * A 16550A UART, as QEMU's `virt` board has at UART0 (hw/char/serial.c with
 * regshift 0: eight byte-wide registers at the start of the window).
 *
 * Registers (offset; DLAB = LCR bit 7):
 *   0  RBR  r  DLAB=0  receiver buffer: oldest byte of the RX FIFO
 *   0  THR  w  DLAB=0  transmitter holding: the byte goes to output() at once
 *   0  DLL  rw DLAB=1  divisor latch, low byte (stored, no baud-rate timing)
 *   1  IER  rw DLAB=0  interrupt enable: ERBFI, ETBEI, ELSI, EDSSI
 *   1  DLM  rw DLAB=1  divisor latch, high byte
 *   2  IIR  r          interrupt identification (FIFO bits 7:6 when enabled)
 *   2  FCR  w          FIFO control: enable, RX/TX reset, RX trigger level
 *   3  LCR  rw         line control: word format (stored), break, DLAB
 *   4  MCR  rw         modem control: DTR, RTS, OUT1, OUT2, LOOP
 *   5  LSR  r          line status: DR, OE, PE, FE, BI, THRE, TEMT
 *   6  MSR  r          modem status: CTS DSR RI DCD and their deltas
 *   7  SCR  rw         scratch
 * Offsets 8..0xff are outside QEMU's 8-byte region (a guest access there
 * faults in QEMU); here reads give all ones and writes are ignored.
 *
 * Transmission is instantaneous: THR is empty again as soon as it is written,
 * so THRE and TEMT always read 1 and, with ETBEI set, a THR-empty interrupt is
 * raised again right after each write (QEMU does the same: serial_xmit sets
 * thr_ipending once the byte has left).
 *
 * Host input waits in an unbounded queue (the "wire"); the receiver takes from
 * it only as the guest drains the FIFO (16 bytes, or the single holding
 * register while FIFOs are disabled), so host input never overruns.
 *
 * There is no character time, so the character-timeout interrupt (IIR 0xC)
 * is reported at once when the FIFO holds fewer bytes than the trigger level:
 * by construction the queue is then empty, i.e. the line has gone idle.
 *
 * Like QEMU, the interrupt output is not gated by MCR.OUT2.
 */

import { allOnes, type AccessWidth, type DeviceKind, type IrqLine, type MmioDevice } from "./device.ts";
import { fdtNode, propString, propU32 } from "../machine/fdt.ts";

/** The register window (QEMU virt: 0x100, of which the 16550 uses 8 bytes). */
const UART_WINDOW = 0x100;
/** Input clock, as QEMU's virt board states it in the device tree (1.8432 MHz x 2). */
const UART_CLOCK_HZ = 3_686_400;

export const REG_RBR_THR_DLL = 0;
const REG_IER_DLM = 1;
const REG_IIR_FCR = 2;
const REG_LCR = 3;
const REG_MCR = 4;
export const REG_LSR = 5;
const REG_MSR = 6;
const REG_SCR = 7;
/** Registers occupy offsets 0..7; everything above is unassigned. */
const REG_COUNT = 8;

const BYTE_MASK = 0xff;

// IER bits.
const IER_ERBFI = 0x01; // received data available (and character timeout)
const IER_ETBEI = 0x02; // transmitter holding register empty
const IER_ELSI = 0x04; // receiver line status
const IER_EDSSI = 0x08; // modem status
const IER_MASK = 0x0f;

// IIR interrupt identification, highest priority first (16550 datasheet table 4).
const IIR_NONE = 0x01;
const IIR_RLS = 0x06; // receiver line status: OE, PE, FE or BI
const IIR_RDA = 0x04; // received data available (trigger level reached)
const IIR_CTI = 0x0c; // character timeout
const IIR_THRE = 0x02; // transmitter holding register empty
const IIR_MS = 0x00; // modem status
const IIR_FIFO_ENABLED = 0xc0;

// FCR bits.
const FCR_ENABLE = 0x01;
const FCR_RX_RESET = 0x02;
const FCR_TX_RESET = 0x04;
const FCR_DMA_MODE = 0x08;
const FCR_TRIGGER = 0xc0;
/** FCR bits that stick (the reset bits are self-clearing). */
const FCR_STICKY = FCR_ENABLE | FCR_DMA_MODE | FCR_TRIGGER;
/** RX trigger levels of a 16550A for FCR bits 7:6 = 0, 1, 2, 3. */
const RX_TRIGGER_LEVELS = [1, 4, 8, 14] as const;
const FCR_TRIGGER_SHIFT = 6;

// LCR bits.
const LCR_DLAB = 0x80;

// MCR bits.
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;
const MCR_MASK = 0x1f;

// LSR bits.
export const LSR_DR = 0x01; // data ready
const LSR_OE = 0x02; // overrun error
const LSR_BI = 0x10; // break interrupt
const LSR_THRE = 0x20; // THR empty
const LSR_TEMT = 0x40; // transmitter empty
/** Error bits that raise a receiver-line-status interrupt (OE, PE, FE, BI). */
const LSR_ERRORS = 0x1e;

// MSR bits: deltas in 3:0, line states in 7:4.
const MSR_DCTS = 0x01;
const MSR_DDSR = 0x02;
const MSR_TERI = 0x04; // trailing edge of RI (1 -> 0)
const MSR_DDCD = 0x08;
const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;
const MSR_DELTAS = 0x0f;
/** Outside loopback the host end looks connected: DCD, DSR and CTS asserted (QEMU's reset MSR, 0xb0). */
const MSR_HOST_LINES = MSR_DCD | MSR_DSR | MSR_CTS;

const FIFO_SIZE = 16;
/** QEMU's reset divisor: 9600 baud from its 1.8432 MHz-ish clock. */
const RESET_DIVISOR = 0x0c;

export interface UartOptions {
  irq: IrqLine;
  output: (byte: number) => void;
}

export class Uart16550 implements MmioDevice {
  readonly name = "uart0";
  readonly size = UART_WINDOW;

  private readonly irq: IrqLine;
  private readonly output: (byte: number) => void;

  // Host bytes not yet taken by the receiver.
  private hostChunks: Uint8Array[] = [];
  private hostPos = 0;

  // RX FIFO as a ring; capacity 1 while FIFOs are disabled (the holding register).
  private readonly rx = new Uint8Array(FIFO_SIZE);
  private rxHead = 0;
  private rxCount = 0;
  private lastRbr = 0;

  private ier = 0;
  private fcr = 0;
  private lcr = 0;
  private mcr = MCR_OUT2;
  private scr = 0;
  private divisor = RESET_DIVISOR;
  /** LSR error bits (OE; PE, FE and BI are never produced here). */
  private lineErrors = 0;
  /** MSR delta bits 3:0; the line states are computed by modemLines(). */
  private msrDeltas = 0;
  /** A THR-empty interrupt is owed (QEMU's thr_ipending). */
  private thrPending = false;
  private irqLevel = false;

  constructor(opts: UartOptions) {
    this.irq = opts.irq;
    this.output = opts.output;
  }

  /** Back to the power-on state (QEMU's serial_reset); queued host input is kept. */
  reset(): void {
    this.rxHead = 0;
    this.rxCount = 0;
    this.lastRbr = 0;
    this.ier = 0;
    this.fcr = 0;
    this.lcr = 0;
    this.mcr = MCR_OUT2;
    this.scr = 0;
    this.divisor = RESET_DIVISOR;
    this.lineErrors = 0;
    this.msrDeltas = 0;
    this.thrPending = false;
    this.refillRx();
    this.updateIrq();
  }

  /** Host input (a keyboard, a pipe): queued until the guest drains the receiver. */
  receive(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.hostChunks.push(bytes.slice());
    this.refillRx();
    this.updateIrq();
  }

  /** True while the guest still has received bytes to read (in the FIFO or still queued). */
  hasPendingInput(): boolean {
    return this.rxCount > 0 || this.hostChunks.length > 0;
  }

  read(offset: number, width: AccessWidth): number {
    if (!isWidth(width) || !(offset >= 0 && offset < REG_COUNT)) return allOnes(width);
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case REG_RBR_THR_DLL:
        return dlab ? this.divisor & BYTE_MASK : this.readRbr();
      case REG_IER_DLM:
        return dlab ? (this.divisor >> 8) & BYTE_MASK : this.ier;
      case REG_IIR_FCR:
        return this.readIir();
      case REG_LCR:
        return this.lcr;
      case REG_MCR:
        return this.mcr;
      case REG_LSR:
        return this.readLsr();
      case REG_MSR:
        return this.readMsr();
      case REG_SCR:
        return this.scr;
      default:
        return allOnes(width);
    }
  }

  write(offset: number, width: AccessWidth, value: number): void {
    if (!isWidth(width) || !(offset >= 0 && offset < REG_COUNT)) return;
    // A wider store reaches one register, which keeps its low byte (QEMU serial_mm_write).
    const byte = value & BYTE_MASK;
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case REG_RBR_THR_DLL:
        if (dlab) this.divisor = (this.divisor & 0xff00) | byte;
        else this.writeThr(byte);
        break;
      case REG_IER_DLM:
        if (dlab) this.divisor = (this.divisor & BYTE_MASK) | (byte << 8);
        else this.writeIer(byte);
        break;
      case REG_IIR_FCR:
        this.writeFcr(byte);
        break;
      case REG_LCR:
        this.lcr = byte;
        break;
      case REG_MCR:
        this.writeMcr(byte);
        break;
      case REG_SCR:
        this.scr = byte;
        break;
      default:
        // LSR and MSR are read-only (QEMU ignores writes to them too).
        break;
    }
  }

  private fifoEnabled(): boolean {
    return (this.fcr & FCR_ENABLE) !== 0;
  }

  private rxCapacity(): number {
    return this.fifoEnabled() ? FIFO_SIZE : 1;
  }

  private rxTrigger(): number {
    return RX_TRIGGER_LEVELS[(this.fcr & FCR_TRIGGER) >> FCR_TRIGGER_SHIFT] ?? 1;
  }

  private loopback(): boolean {
    return (this.mcr & MCR_LOOP) !== 0;
  }

  /** Puts a byte into the receiver; a full receiver is an overrun (the FIFO keeps its bytes, the holding register is overwritten). */
  private pushRx(byte: number): void {
    if (this.rxCount < this.rxCapacity()) {
      this.rx[(this.rxHead + this.rxCount) % FIFO_SIZE] = byte;
      this.rxCount++;
      return;
    }
    this.lineErrors |= LSR_OE;
    if (!this.fifoEnabled()) this.rx[this.rxHead] = byte;
  }

  /** Moves queued host bytes into the receiver while it has room. In loopback the receiver hears only THR (datasheet: SIN is disconnected). */
  private refillRx(): void {
    if (this.loopback()) return;
    const capacity = this.rxCapacity();
    while (this.rxCount < capacity && this.hostChunks.length > 0) {
      const chunk = this.hostChunks[0];
      this.pushRx(chunk[this.hostPos++]);
      if (this.hostPos >= chunk.length) {
        this.hostChunks.shift();
        this.hostPos = 0;
      }
    }
  }

  private clearRx(): void {
    this.rxHead = 0;
    this.rxCount = 0;
  }

  /** RBR: pops the oldest byte; an empty FIFO reads 0, an empty holding register its last byte (QEMU). */
  private readRbr(): number {
    if (this.rxCount > 0) {
      this.lastRbr = this.rx[this.rxHead];
      this.rxHead = (this.rxHead + 1) % FIFO_SIZE;
      this.rxCount--;
    } else if (this.fifoEnabled()) {
      return 0;
    }
    if (this.rxCount === 0) this.lineErrors &= ~LSR_BI;
    this.refillRx();
    this.updateIrq();
    return this.lastRbr;
  }

  private writeThr(byte: number): void {
    if (this.loopback()) this.pushRx(byte);
    else this.output(byte);
    // The byte has left at once: THR is empty again and a THRE interrupt is owed.
    this.thrPending = true;
    this.updateIrq();
  }

  /** Turning ETBEI on with THR empty raises THRE again even if IIR had been read (QEMU; Windows relies on it). */
  private writeIer(byte: number): void {
    const changed = (this.ier ^ byte) & IER_MASK;
    this.ier = byte & IER_MASK;
    if (changed & IER_ETBEI) this.thrPending = (this.ier & IER_ETBEI) !== 0;
    this.updateIrq();
  }

  /** Changing the FIFO enable bit flushes both FIFOs (datasheet); TX needs no flush as output is immediate. */
  private writeFcr(byte: number): void {
    let value = byte;
    if ((value ^ this.fcr) & FCR_ENABLE) value |= FCR_RX_RESET | FCR_TX_RESET;
    if (value & FCR_RX_RESET) this.clearRx();
    this.fcr = value & FCR_STICKY;
    this.refillRx();
    this.updateIrq();
  }

  private writeMcr(byte: number): void {
    const before = this.modemLines();
    const wasLoopback = this.loopback();
    this.mcr = byte & MCR_MASK;
    const after = this.modemLines();
    this.msrDeltas |= modemDeltas(before, after);
    if (wasLoopback && !this.loopback()) this.refillRx();
    this.updateIrq();
  }

  /** MSR bits 7:4. In loopback the outputs feed the inputs: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
  private modemLines(): number {
    if (!this.loopback()) return MSR_HOST_LINES;
    let lines = 0;
    if (this.mcr & MCR_DTR) lines |= MSR_DSR;
    if (this.mcr & MCR_RTS) lines |= MSR_CTS;
    if (this.mcr & MCR_OUT1) lines |= MSR_RI;
    if (this.mcr & MCR_OUT2) lines |= MSR_DCD;
    return lines;
  }

  private readIir(): number {
    const id = this.interruptId();
    // Reading IIR while it reports THRE acknowledges that interrupt (datasheet table 4).
    if (id === IIR_THRE) {
      this.thrPending = false;
      this.updateIrq();
    }
    return id | (this.fifoEnabled() ? IIR_FIFO_ENABLED : 0);
  }

  private lsr(): number {
    return (this.rxCount > 0 ? LSR_DR : 0) | this.lineErrors | LSR_THRE | LSR_TEMT;
  }

  /** Reading LSR clears the error bits, and with them a line-status interrupt. */
  private readLsr(): number {
    const value = this.lsr();
    if (this.lineErrors !== 0) {
      this.lineErrors = 0;
      this.updateIrq();
    }
    return value;
  }

  /** Reading MSR clears the delta bits, and with them a modem-status interrupt. */
  private readMsr(): number {
    const value = this.modemLines() | this.msrDeltas;
    if (this.msrDeltas !== 0) {
      this.msrDeltas = 0;
      this.updateIrq();
    }
    return value;
  }

  /** The highest-priority pending, enabled interrupt, as IIR bits 3:0. */
  private interruptId(): number {
    if (this.ier & IER_ELSI && this.lineErrors & LSR_ERRORS) return IIR_RLS;
    if (this.ier & IER_ERBFI && this.rxCount > 0) {
      if (!this.fifoEnabled() || this.rxCount >= this.rxTrigger()) return IIR_RDA;
      return IIR_CTI;
    }
    if (this.ier & IER_ETBEI && this.thrPending) return IIR_THRE;
    if (this.ier & IER_EDSSI && this.msrDeltas !== 0) return IIR_MS;
    return IIR_NONE;
  }

  private updateIrq(): void {
    const level = this.interruptId() !== IIR_NONE;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}

/** MSR delta bits for a change of the line states (bits 7:4) from `before` to `after`. */
function modemDeltas(before: number, after: number): number {
  const changed = before ^ after;
  let deltas = 0;
  if (changed & MSR_CTS) deltas |= MSR_DCTS;
  if (changed & MSR_DSR) deltas |= MSR_DDSR;
  if (changed & MSR_DCD) deltas |= MSR_DDCD;
  if (before & MSR_RI && !(after & MSR_RI)) deltas |= MSR_TERI;
  return deltas & MSR_DELTAS;
}

function isWidth(width: number): boolean {
  return width === 1 || width === 2 || width === 4;
}

/** The 16550 as a board device: one PLIC source, its transmitter on the host's console; the stdout of /chosen. */
export const UART_16550: DeviceKind<Uart16550> = {
  name: "uart16550",
  window: UART_WINDOW,
  wiring: "source",
  dt: {
    node: "serial",
    stdout: true,
    build: (c) => fdtNode(c.name, [...c.interrupts, propU32("clock-frequency", UART_CLOCK_HZ), c.reg, propString("compatible", "ns16550a")]),
  },
  create: (ctx, host) => new Uart16550({ irq: ctx.irq, output: (byte) => host.consoleOut(byte) }),
  reset: (d) => d.reset(),
};
