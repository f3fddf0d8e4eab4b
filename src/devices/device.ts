/*
 * The seams between devices and the rest of the board. A device knows its
 * register window and its interrupt line; it never knows about harts, VMs or
 * threads.
 *
 * Each device module also exports its kind (a DeviceKind): what the board's
 * one device table (src/machine/board-devices.ts) needs to create, wire,
 * describe and reset an instance of it. A factory gets a DeviceContext —
 * its interrupt line, a clock and a view of guest memory — and the host-side
 * endpoints of DeviceHost; nothing else.
 */

import type { FdtNode, FdtProperty } from "../machine/fdt.ts";
import type { GuestMemoryView } from "../machine/guest-memory-view.ts";
import type { CodeWriteShare } from "../machine/code-writes.ts";
import type { GuestPhysMap } from "../machine/guest-phys-view.ts";

/** Widths a hart may use on a device register; 8-byte accesses are split by the bus into two 4-byte ones, low half first. */
export type AccessWidth = 1 | 2 | 4;

export interface MmioDevice {
  readonly name: string;
  /** Size of the register window in bytes. */
  readonly size: number;
  /** Returns the register's value as an unsigned number (all ones for undefined registers, like QEMU). */
  read(offset: number, width: AccessWidth): number;
  write(offset: number, width: AccessWidth, value: number): void;
  /** Register stores a vCPU's thread may serve itself, without an exit (IoEvent). */
  ioEvents?(): readonly IoEvent[];
}

/**
 * A register store that only tells a back-end's worker to look (KVM's
 * ioeventfd with datamatch): a 4-byte store of `value` at `offset` in the
 * window. The vCPU's thread kicks the worker through `table`
 * (virtio/blk-vhost.ts VhostTable.kickFromVcpu) and runs on; when the
 * table says no (no worker serving), the store exits as any other.
 */
export interface IoEvent {
  readonly offset: number;
  readonly value: number;
  readonly table: SharedArrayBuffer;
}

/** What a read of `width` bytes returns where nothing answers (QEMU's unassigned access). */
export function allOnes(width: number): number {
  return width === 1 ? 0xff : width === 2 ? 0xffff : 0xffffffff;
}

/** A wire from a device to an interrupt controller. */
export interface IrqLine {
  set(level: boolean): void;
}

/** A line that goes nowhere: the interrupt of a device that has none. */
export const NO_IRQ_LINE: IrqLine = { set: () => {} };

/** Where interrupt controllers drive the harts' mip bits, by interrupt number (riscv.ts IRQ_M_SOFT, IRQ_M_TIMER, ...). */
export interface InterruptSink {
  setPending(hart: number, irq: number, level: boolean): void;
}

/** The harts' local interrupt inputs, given to the controllers that drive them (CLINT, PLIC). */
export interface HartLines extends InterruptSink {
  readonly count: number;
}

/** The board's time base: mtime in 10 MHz ticks, an exact integer below 2^53. */
export interface Clock {
  mtime(): number;
}

/** What a guest asked the machine's power control for (the test finisher; SBI SRST is the VMM's). */
export type PowerEvent = { kind: "pass" } | { kind: "fail"; code: number } | { kind: "reset" };

/** The host side of the board's devices, like QEMU's chardev and machine power control. */
export interface DeviceHost {
  /** A byte the guest sent out of a console device. */
  consoleOut(byte: number): void;
  /** The guest ended the run or asked for a reset. */
  power(e: PowerEvent): void;
  /** A guest read mtime from the timer device: other time comparators (the harts' Sstc) may now be due. */
  timeRead?(mtime: number): void;
  /**
   * A device started (+1) or finished (-1) work off the main thread (a block
   * request in the I/O pool). While any is in flight the native run loop,
   * which shares its thread with the completions, gives the event loop a
   * turn after every short slice so they land promptly.
   */
  asyncIo?(delta: 1 | -1): void;
  /**
   * A word (Int32 at index 0) a device's helper thread bumps and notifies
   * when it finishes work, so that a service loop asleep on it (the
   * hypervisor's doorbell) wakes and polls the device at once. Absent on the
   * native board, whose run loop polls between slices.
   */
  readonly doorbell?: SharedArrayBuffer;
  /**
   * The VM's guest-physical map (frame table), from which a device's helper
   * thread builds its own view of guest RAM (a block device's vhost worker,
   * virtio/blk-vhost.ts). Absent on the native board, whose hart shares the
   * main thread with the devices.
   */
  readonly guestMap?: GuestPhysMap;
}

/**
 * What a directly assigned device is given instead of emulation (kinds with
 * `assigned: true`): the machine's side of a device that reaches the guest
 * without the VMM in between. The board (natively) or the hypervisor (for a
 * VM) fills it in; the device passes it, as plain data, to its own thread.
 */
export interface DirectAttachment {
  /** Machine memory: its first byte is machine address DRAM_BASE. DMA lands here (through the IOMMU). */
  readonly machine: SharedArrayBuffer;
  /**
   * How many bytes of `machine` are memory a DMA may reach. The buffer can be
   * longer: natively the wasm block tier keeps registers and TLBs past RAM
   * (jit/wasm-arena.ts), and a device that could write there would corrupt
   * the hart's state.
   */
  readonly machineBytes: number;
  /**
   * Offset in `machine` of the device's register page when it is mapped
   * straight into the guest (a VM: a machine frame in its guest-physical
   * map, so register accesses never exit); undefined natively, where the
   * device keeps its page in memory of its own and the bus reaches it.
   */
  readonly registerPage?: number;
  /** The IOMMU device context its owner programmed for the device's DMA (assigned-nic/iommu.ts). */
  readonly iommu: SharedArrayBuffer;
  /** Where DMA writes are marked for the harts' decoded code (machine/code-writes.ts), when the owner keeps such a log. */
  readonly codeWrites?: CodeWriteShare;
  /** Each hart's interrupt input, by hart id: where the device posts its interrupt (riscv.ts IRQ_POSTED). */
  readonly harts: readonly PostedInterruptLine[];
}

/** A hart's wired mip word, as an Int32Array over shared memory (csr.ts ST_MIP_HW), and the word its thread sleeps on. */
export interface PostedInterruptLine {
  readonly mip: Int32Array;
  readonly mipIndex: number;
  /** Bumped and notified after a post, so a vCPU asleep in wfi wakes; absent natively. */
  readonly wake?: Int32Array;
}

/** All a device factory is given. */
interface DeviceContext {
  /** The device's interrupt output (a PLIC source line), or NO_IRQ_LINE. */
  readonly irq: IrqLine;
  /** Hart-level interrupt controllers only (kinds wired "harts"): the harts' inputs. */
  readonly harts?: HartLines;
  readonly clock: Clock;
  /** Guest memory as this device may reach it (DMA, rings): never more than its machine's own RAM. */
  readonly memory: GuestMemoryView;
  /** Kinds with `assigned: true` only: their register page, IOMMU context and posted interrupt lines. */
  readonly direct?: DirectAttachment;
}

/** What the device-tree builder hands a kind for one instance's node. */
export interface DeviceTreeContext {
  /** Node name with unit address, e.g. "serial@10000000". */
  readonly name: string;
  /** reg = <base size>. */
  readonly reg: FdtProperty;
  /** interrupts and interrupt-parent (QEMU's order) for a PLIC source; empty without one. */
  readonly interrupts: readonly FdtProperty[];
  /** The node's phandle, when its kind asks for one (dt.phandle). */
  readonly phandle: number;
  /** interrupts-extended: each hart's interrupt controller with each of `irqs`, for hart-level controllers. */
  hartInterrupts(irqs: readonly number[]): FdtProperty;
}

/** A kind of device: one row of the board's table refers to one of these. */
export interface DeviceKind<D extends MmioDevice = MmioDevice> {
  /** Stable kind name ("uart16550"), as configurations and `popek info` spell it. */
  readonly name: string;
  /** Register window size in bytes, the device's own. */
  readonly window: number;
  /** "harts": drives the harts' mip lines (CLINT, PLIC); "source": one PLIC source; "none": no interrupt (or a posted one). */
  readonly wiring: "harts" | "source" | "none";
  /** Directly assigned: the device needs a DirectAttachment (its window must be one page, page-aligned). */
  readonly assigned?: boolean;
  readonly dt: {
    /** Node base name, e.g. "serial". */
    readonly node: string;
    /** Other nodes refer to this one (interrupt-parent, regmap): give it a phandle. */
    readonly phandle?: boolean;
    /** /chosen stdout-path points at the first such device. */
    readonly stdout?: boolean;
    /** The node, properties in QEMU's order. */
    build(c: DeviceTreeContext): FdtNode;
    /** Nodes this device adds at the root (the finisher's syscon writers), given its phandle. */
    rootNodes?(phandle: number): FdtNode[];
  };
  create(ctx: DeviceContext, host: DeviceHost): D;
  /** Back to the power-on state (a board reset). */
  reset(device: D): void;
  /** Resolves once no work of the device is in flight off the main thread (an I/O worker writing guest RAM): before its machine's frames are freed. */
  quiesce?(device: D): Promise<void>;
  /**
   * Work a device finishes outside guest accesses: I/O completions a worker
   * flagged in shared memory. The run loops call it often (between slices
   * natively, every service round under trap), without waiting for the event
   * loop, so it must cost next to nothing when there is none. Returns
   * whether it did any (a service loop with work keeps polling rather than
   * sleep).
   */
  poll?(device: D): boolean;
  /** Host console input, for console devices other than the UART (virtio-console); others ignore it. */
  input?(device: D, bytes: Uint8Array): void;
  /** For the controller devices' lines go to (the PLIC): the input line of source n. */
  irqSource?(device: D, source: number): IrqLine;
}
