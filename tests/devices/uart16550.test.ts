import { describe, expect, it } from "vitest";
import { Uart16550 } from "../../src/devices/uart16550.ts";
import type { IrqLine } from "../../src/devices/device.ts";

// Register offsets and bits, named as in the 16550 datasheet.
const RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;
const IER_ERBFI = 0x01, IER_ETBEI = 0x02, IER_ELSI = 0x04, IER_EDSSI = 0x08;
const IIR_NONE = 0x01, IIR_MS = 0x00, IIR_THRE = 0x02, IIR_RDA = 0x04, IIR_RLS = 0x06, IIR_CTI = 0x0c;
const IIR_ID = 0x0f, IIR_FIFO = 0xc0;
const FCR_ENABLE = 0x01, FCR_RX_RESET = 0x02, FCR_TRIGGER_4 = 0x40;
const LCR_DLAB = 0x80, LCR_8N1 = 0x03;
const MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOP = 0x10;
const LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40;
const MSR_DCTS = 0x01, MSR_DDSR = 0x02, MSR_TERI = 0x04, MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80;

class FakeIrq implements IrqLine {
  level = false;
  changes: boolean[] = [];
  set(level: boolean): void {
    this.level = level;
    this.changes.push(level);
  }
}

function makeUart() {
  const irq = new FakeIrq();
  const out: number[] = [];
  const uart = new Uart16550({ irq, output: (b) => out.push(b) });
  const rd = (off: number) => uart.read(off, 1);
  const wr = (off: number, v: number) => uart.write(off, 1, v);
  return { uart, irq, out, rd, wr };
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe("16550 UART: reset state (as QEMU virt)", () => {
  it("reads IIR=no interrupt, LSR=THRE|TEMT, MCR=OUT2, MSR=DCD|DSR|CTS", () => {
    const { rd, irq } = makeUart();
    expect(rd(IIR)).toBe(IIR_NONE);
    expect(rd(LSR)).toBe(LSR_THRE | LSR_TEMT);
    expect(rd(MCR)).toBe(MCR_OUT2);
    expect(rd(MSR)).toBe(MSR_DCD | MSR_DSR | MSR_CTS);
    expect(rd(IER)).toBe(0);
    expect(rd(LCR)).toBe(0);
    expect(irq.changes).toEqual([]);
  });
});

describe("16550 UART: transmitter", () => {
  it("a THR write goes to the output at once and THR is empty again", () => {
    const { wr, rd, out } = makeUart();
    wr(THR, 0x41);
    wr(THR, 0x42);
    expect(out).toEqual([0x41, 0x42]);
    expect(rd(LSR) & (LSR_THRE | LSR_TEMT)).toBe(LSR_THRE | LSR_TEMT);
  });

  it("enabling ETBEI with THR empty raises a THR-empty interrupt", () => {
    const { wr, rd, irq } = makeUart();
    wr(IER, IER_ETBEI);
    expect(irq.level).toBe(true);
    expect(rd(IIR) & IIR_ID).toBe(IIR_THRE);
  });

  it("reading IIR clears a THR-empty interrupt", () => {
    const { wr, rd, irq } = makeUart();
    wr(IER, IER_ETBEI);
    expect(rd(IIR) & IIR_ID).toBe(IIR_THRE);
    expect(irq.level).toBe(false);
    expect(rd(IIR)).toBe(IIR_NONE);
  });

  it("writing THR clears the THR-empty interrupt, which returns as soon as the byte has left", () => {
    const { wr, rd, irq } = makeUart();
    wr(IER, IER_ETBEI);
    rd(IIR); // acknowledge
    expect(irq.level).toBe(false);
    wr(THR, 0x55);
    // Transmission is immediate, so THR is empty again and the interrupt is owed again.
    expect(irq.level).toBe(true);
    expect(rd(IIR) & IIR_ID).toBe(IIR_THRE);
  });

  it("re-enabling ETBEI re-raises THRE even after IIR acknowledged it (QEMU, Windows)", () => {
    const { wr, rd, irq } = makeUart();
    wr(IER, IER_ETBEI);
    rd(IIR);
    wr(IER, 0);
    wr(IER, IER_ETBEI);
    expect(irq.level).toBe(true);
  });

  it("disabling ETBEI drops the THR-empty interrupt", () => {
    const { wr, irq } = makeUart();
    wr(IER, IER_ETBEI);
    wr(IER, 0);
    expect(irq.level).toBe(false);
  });
});

describe("16550 UART: receiver", () => {
  it("LSR.DR is set while received data waits and RBR returns it in order", () => {
    const { uart, rd } = makeUart();
    uart.receive(bytes("hi"));
    expect(rd(LSR) & LSR_DR).toBe(LSR_DR);
    expect(rd(RBR)).toBe(0x68);
    expect(rd(RBR)).toBe(0x69);
    expect(rd(LSR) & LSR_DR).toBe(0);
  });

  it("without FIFOs the holding register takes one byte at a time and refills from host input", () => {
    const { uart, rd } = makeUart();
    uart.receive(bytes("abc"));
    expect(rd(RBR)).toBe(0x61);
    expect(rd(RBR)).toBe(0x62);
    expect(rd(RBR)).toBe(0x63);
    expect(rd(LSR) & LSR_DR).toBe(0);
    expect(uart.hasPendingInput()).toBe(false);
  });

  it("host input longer than the 16-byte FIFO waits until the guest drains it, without overrun", () => {
    const { uart, rd, wr } = makeUart();
    wr(FCR, FCR_ENABLE);
    const text = "abcdefghijklmnopqrstuvwxyz";
    uart.receive(bytes(text));
    let got = "";
    while (rd(LSR) & LSR_DR) got += String.fromCharCode(rd(RBR));
    expect(got).toBe(text);
    expect(rd(LSR) & LSR_OE).toBe(0);
  });

  it("hasPendingInput reports bytes still in the FIFO or queued", () => {
    const { uart, rd } = makeUart();
    expect(uart.hasPendingInput()).toBe(false);
    uart.receive(bytes("x"));
    expect(uart.hasPendingInput()).toBe(true);
    rd(RBR);
    expect(uart.hasPendingInput()).toBe(false);
  });

  it("with ERBFI, received data raises a data-available interrupt until it is read", () => {
    const { uart, rd, wr, irq } = makeUart();
    wr(IER, IER_ERBFI);
    uart.receive(bytes("k"));
    expect(irq.level).toBe(true);
    expect(rd(IIR) & IIR_ID).toBe(IIR_RDA);
    rd(RBR);
    expect(irq.level).toBe(false);
    expect(rd(IIR)).toBe(IIR_NONE);
  });

  it("with FIFOs, data below the trigger level reports a character timeout; at the level, data available", () => {
    const { uart, rd, wr } = makeUart();
    wr(FCR, FCR_ENABLE | FCR_TRIGGER_4);
    wr(IER, IER_ERBFI);
    uart.receive(bytes("ab"));
    expect(rd(IIR)).toBe(IIR_FIFO | IIR_CTI);
    uart.receive(bytes("cd"));
    expect(rd(IIR)).toBe(IIR_FIFO | IIR_RDA);
  });

  it("IIR bits 7:6 say whether FIFOs are enabled", () => {
    const { rd, wr } = makeUart();
    wr(FCR, FCR_ENABLE);
    expect(rd(IIR) & IIR_FIFO).toBe(IIR_FIFO);
    wr(FCR, 0);
    expect(rd(IIR) & IIR_FIFO).toBe(0);
  });

  it("FCR RX reset empties the receive FIFO", () => {
    const { uart, rd, wr } = makeUart();
    wr(FCR, FCR_ENABLE);
    uart.receive(bytes("xyz"));
    wr(FCR, FCR_ENABLE | FCR_RX_RESET);
    expect(rd(LSR) & LSR_DR).toBe(0);
    expect(rd(RBR)).toBe(0); // QEMU: an empty FIFO reads 0
  });
});

describe("16550 UART: line status and priorities", () => {
  it("an overrun sets LSR.OE, raises a line-status interrupt, and reading LSR clears it", () => {
    const { rd, wr, irq } = makeUart();
    wr(IER, IER_ELSI);
    wr(MCR, MCR_LOOP);
    wr(THR, 1); // fills the one-byte holding register
    wr(THR, 2); // overrun
    expect(irq.level).toBe(true);
    expect(rd(IIR) & IIR_ID).toBe(IIR_RLS);
    expect(rd(LSR) & LSR_OE).toBe(LSR_OE);
    expect(rd(LSR) & LSR_OE).toBe(0);
    expect(irq.level).toBe(false);
  });

  it("IIR reports line status over data available over THR empty over modem status", () => {
    const { rd, wr } = makeUart();
    wr(IER, IER_ERBFI | IER_ETBEI | IER_ELSI | IER_EDSSI);
    wr(MCR, MCR_LOOP | MCR_RTS); // CTS changes: modem status delta
    wr(THR, 1);
    wr(THR, 2); // overrun; data waits; THR empty owed
    expect(rd(IIR) & IIR_ID).toBe(IIR_RLS);
    rd(LSR);
    expect(rd(IIR) & IIR_ID).toBe(IIR_RDA);
    rd(RBR);
    expect(rd(IIR) & IIR_ID).toBe(IIR_THRE); // this read acknowledges THRE
    expect(rd(IIR) & IIR_ID).toBe(IIR_MS);
    rd(MSR);
    expect(rd(IIR)).toBe(IIR_NONE);
  });

  it("drives the interrupt line only when its level changes", () => {
    const { uart, rd, wr, irq } = makeUart();
    wr(IER, IER_ERBFI);
    uart.receive(bytes("a"));
    uart.receive(bytes("b"));
    rd(RBR);
    rd(RBR);
    expect(irq.changes).toEqual([true, false]);
  });
});

describe("16550 UART: modem control and loopback", () => {
  it("in loopback THR comes back through RBR and nothing reaches the output", () => {
    const { rd, wr, out } = makeUart();
    wr(MCR, MCR_LOOP);
    wr(THR, 0x5a);
    expect(out).toEqual([]);
    expect(rd(LSR) & LSR_DR).toBe(LSR_DR);
    expect(rd(RBR)).toBe(0x5a);
  });

  it("in loopback MSR shows the MCR outputs: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD", () => {
    const { rd, wr } = makeUart();
    wr(MCR, MCR_LOOP | MCR_OUT2 | MCR_RTS); // Linux's autoconfig probe: expects 0x90
    expect(rd(MSR) & 0xf0).toBe(MSR_DCD | MSR_CTS);
    wr(MCR, MCR_LOOP | MCR_DTR | MCR_OUT1);
    expect(rd(MSR) & 0xf0).toBe(MSR_DSR | MSR_RI);
  });

  it("changing a looped-back line sets its MSR delta bit; RI falling sets TERI; reading MSR clears deltas", () => {
    const { rd, wr, irq } = makeUart();
    wr(MCR, MCR_LOOP | MCR_OUT1);
    rd(MSR);
    wr(IER, IER_EDSSI);
    wr(MCR, MCR_LOOP | MCR_DTR | MCR_RTS);
    expect(irq.level).toBe(true);
    expect(rd(MSR) & 0x0f).toBe(MSR_DCTS | MSR_DDSR | MSR_TERI);
    expect(rd(MSR) & 0x0f).toBe(0);
    expect(irq.level).toBe(false);
  });

  it("host input waits while in loopback and arrives when loopback ends", () => {
    const { uart, rd, wr } = makeUart();
    wr(MCR, MCR_LOOP);
    uart.receive(bytes("q"));
    expect(rd(LSR) & LSR_DR).toBe(0);
    wr(MCR, MCR_OUT2);
    expect(rd(RBR)).toBe(0x71);
  });
});

describe("16550 UART: divisor latch and scratch", () => {
  it("with LCR.DLAB set, offsets 0 and 1 are the divisor latch, not RBR/THR/IER", () => {
    const { rd, wr, out } = makeUart();
    expect(rd(DLL)).toBe(0); // DLAB clear: this is RBR, empty
    wr(LCR, LCR_DLAB);
    expect(rd(DLL) | (rd(DLM) << 8)).toBe(0x0c); // QEMU's reset divisor (9600 baud)
    wr(DLL, 0x01);
    wr(DLM, 0x00);
    expect(out).toEqual([]);
    wr(LCR, LCR_8N1);
    expect(rd(IER)).toBe(0);
    wr(LCR, LCR_DLAB);
    expect(rd(DLL)).toBe(0x01);
    expect(rd(DLM)).toBe(0x00);
  });

  it("SCR keeps what is written", () => {
    const { rd, wr } = makeUart();
    wr(SCR, 0xa5);
    expect(rd(SCR)).toBe(0xa5);
  });
});

describe("16550 UART: bus behaviour", () => {
  it("a 4-byte access reaches the register at its offset (upper bytes read 0)", () => {
    const { uart, out } = makeUart();
    uart.write(THR, 4, 0x1234_5641);
    expect(out).toEqual([0x41]);
    expect(uart.read(LSR, 4)).toBe(LSR_THRE | LSR_TEMT);
  });

  it("offsets past the eight registers read all ones and ignore writes", () => {
    const { uart } = makeUart();
    expect(uart.read(0x10, 1)).toBe(0xff);
    expect(uart.read(0xfc, 4)).toBe(0xffff_ffff);
    expect(() => uart.write(0x80, 4, 0xdead)).not.toThrow();
  });

  it("never throws on bad widths or offsets", () => {
    const { uart } = makeUart();
    expect(uart.read(-1, 1)).toBe(0xff);
    expect(uart.read(0, 3 as 1)).toBe(0xffff_ffff);
    expect(() => uart.write(1.5, 2, 1)).not.toThrow();
  });
});
