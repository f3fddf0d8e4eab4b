/*
 * The seams between devices and the rest of the board. A device knows its
 * register window and its interrupt line; it never knows about harts, VMs or
 * threads.
 */

/** Widths a hart may use on a device register; 8-byte accesses are split by the bus into two 4-byte ones, low half first. */
export type AccessWidth = 1 | 2 | 4;

export interface MmioDevice {
  readonly name: string;
  /** Size of the register window in bytes. */
  readonly size: number;
  /** Returns the register's value as an unsigned number (all ones for undefined registers, like QEMU). */
  read(offset: number, width: AccessWidth): number;
  write(offset: number, width: AccessWidth, value: number): void;
}

/** A wire from a device to an interrupt controller. */
export interface IrqLine {
  set(level: boolean): void;
}

/** Where interrupt controllers drive the harts' mip bits (MSIP=3, MTIP=7, MEIP=11, SEIP=9). */
export interface InterruptSink {
  setPending(hart: number, bit: number, level: boolean): void;
}

/** The board's time base: mtime in 10 MHz ticks, an exact integer below 2^53. */
export interface Clock {
  mtime(): number;
}
