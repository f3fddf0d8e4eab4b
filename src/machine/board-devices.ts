/*
 * The devices of the popek board, created and mapped at their QEMU-virt
 * addresses in one place. The native board wires their interrupt lines to
 * real harts; the hypervisor gives each VM its own set, wired to virtual
 * harts. Either way the set and the map are the same.
 */

import { Clint } from "../devices/clint.ts";
import type { Clock, InterruptSink } from "../devices/device.ts";
import { Plic } from "../devices/plic.ts";
import { SifiveTest, type FinisherEvent } from "../devices/sifive-test.ts";
import { Uart16550 } from "../devices/uart16550.ts";
import { Bus } from "./bus.ts";
import * as L from "./memlayout.ts";

export interface BoardDeviceOptions {
  readonly harts: number;
  /** The board's time base (the CLINT adds mtime writes on top). */
  readonly clock: Clock;
  /** Where interrupt controllers drive the harts' mip lines. */
  readonly sink: InterruptSink;
  /** The UART's transmitter. */
  readonly output: (byte: number) => void;
  /** The finisher's pass / fail / reset. */
  readonly onFinish: (e: FinisherEvent) => void;
  /** After a guest read of the CLINT's mtime: re-evaluate other time comparators (the board's Sstc). */
  readonly onTimeRead?: (mtime: number) => void;
  /** The bus to map the devices on (harts may already hold it); a new one if absent. */
  readonly bus?: Bus;
}

export class BoardDevices {
  readonly bus: Bus;
  readonly clint: Clint;
  readonly plic: Plic;
  readonly uart: Uart16550;
  readonly finisher: SifiveTest;

  constructor(opts: BoardDeviceOptions) {
    this.bus = opts.bus ?? new Bus();
    this.clint = new Clint({ harts: opts.harts, clock: opts.clock, sink: opts.sink, onTimeRead: opts.onTimeRead });
    this.plic = new Plic({ harts: opts.harts, sources: L.PLIC_NUM_SOURCES, sink: opts.sink });
    this.uart = new Uart16550({ irq: this.plic.irqLine(L.UART0_IRQ), output: opts.output });
    this.finisher = new SifiveTest(opts.onFinish);
    this.bus.map(L.TEST_BASE, this.finisher);
    this.bus.map(L.CLINT_BASE, this.clint);
    this.bus.map(L.PLIC_BASE, this.plic);
    this.bus.map(L.UART0_BASE, this.uart);
  }

  /** Power-on state of every device (a reboot). */
  reset(): void {
    this.clint.reset();
    this.plic.reset();
    this.uart.reset();
  }
}
