/*
 * The board's physical address map. It follows QEMU's `virt` machine so that
 * firmware and kernels written for that board run unmodified.
 *
 *   0x0000_1000  MROM        reset vector (QEMU puts its boot ROM here; popek
 *                            sets a0/a1/pc directly at reset instead)
 *   0x0010_0000  TEST        sifive_test finisher (pass / fail / reset)
 *   0x0200_0000  CLINT       msip, mtimecmp, mtime (10 MHz)
 *   0x0C00_0000  PLIC        platform-level interrupt controller
 *   0x1000_0000  UART0       16550, PLIC source 10
 *   0x1000_1000  VIRTIO0..7  virtio-mmio slots, 0x1000 apart, sources 1..8
 *   0x1000_9000  LAB         lab-only devices (NE2000, an assigned NIC, ...)
 *   0x1000_9000  NE2000 0..3 0x100 apart, PLIC sources 11..14
 *   0x1000_a000  ANIC 0..3   assigned NICs: one register page each, 0x1000
 *                            apart (page-aligned: a VM maps each page straight
 *                            into the guest), interrupt posted to a hart (mip bit 16)
 *   0x8000_0000  DRAM        size from --mem
 *
 * This file names each region once. Which device sits where, with which
 * interrupt, is the board's device table (board-devices.ts); each device's
 * window size is its own module's. A test checks every window of the table
 * against the regions below.
 */

export const MROM_BASE = 0x0000_1000;
export const TEST_BASE = 0x0010_0000;
export const CLINT_BASE = 0x0200_0000;
export const PLIC_BASE = 0x0c00_0000;
export const UART0_BASE = 0x1000_0000;
export const UART0_IRQ = 10;
export const VIRTIO_BASE = 0x1000_1000;
export const VIRTIO_STRIDE = 0x1000;
export const VIRTIO_COUNT = 8;
/** PLIC source of virtio slot n is VIRTIO_IRQ + n. */
export const VIRTIO_IRQ = 1;
/** Lab-only devices: free space above the virtio slots, below QEMU's flash (0x2000_0000). */
export const LAB_BASE = 0x1000_9000;
/** NE2000 cards (src/devices/ne2000.ts): card n at NE2000_BASE + n * NE2000_STRIDE, PLIC source NE2000_IRQ + n. */
export const NE2000_BASE = LAB_BASE;
export const NE2000_STRIDE = 0x100;
export const NE2000_COUNT = 4;
export const NE2000_IRQ = 11;
/** Directly assigned NICs (src/devices/assigned-nic/): card n's register page at ASSIGNED_NIC_BASE + n * ASSIGNED_NIC_STRIDE. */
export const ASSIGNED_NIC_BASE = 0x1000_a000;
export const ASSIGNED_NIC_STRIDE = 0x1000;
export const ASSIGNED_NIC_COUNT = 4;
export const DRAM_BASE = 0x8000_0000;

/** Where firmware starts when --bios is given, and where --kernel goes then (QEMU's convention). */
export const FIRMWARE_BASE = DRAM_BASE;
export const KERNEL_BASE = 0x8020_0000;

/** mtime frequency: QEMU virt's timebase. */
export const TIMEBASE_HZ = 10_000_000;
/** mtime ticks per millisecond of wall time. */
export const TICKS_PER_MS = TIMEBASE_HZ / 1000;

/** Size of a page and of a decoded-instruction page. */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

export interface RegionInfo {
  readonly name: string;
  readonly base: number;
  /** Bytes of address space the region reserves (0: sized at run time). */
  readonly size: number;
  readonly note: string;
}

/** The map as data, for the README and `popek info`; device windows must fit their region (tests/machine/memlayout.test.ts). */
export const MEMORY_MAP: readonly RegionInfo[] = [
  { name: "mrom", base: MROM_BASE, size: 0xf000, note: "reset vector (not modelled: registers are set at reset)" },
  { name: "test", base: TEST_BASE, size: 0x1000, note: "sifive_test finisher: 0x5555 pass, 0x3333|code<<16 fail, 0x7777 reset" },
  { name: "clint", base: CLINT_BASE, size: 0x1_0000, note: "msip @0x0, mtimecmp @0x4000, mtime @0xbff8" },
  { name: "plic", base: PLIC_BASE, size: 0x60_0000, note: "QEMU layout; context 2h = hart h M-mode, 2h+1 = S-mode" },
  { name: "uart0", base: UART0_BASE, size: 0x100, note: `16550, PLIC source ${UART0_IRQ}` },
  { name: "virtio", base: VIRTIO_BASE, size: VIRTIO_STRIDE * VIRTIO_COUNT, note: "virtio-mmio slots n=0..7 at +0x1000*n, PLIC source 1+n" },
  { name: "lab", base: LAB_BASE, size: 0x2000_0000 - LAB_BASE, note: "lab-only devices, as the device table places them" },
  { name: "dram", base: DRAM_BASE, size: 0, note: "RAM, size from --mem (default 128M)" },
];
