/*
 * The assigned NIC's register page and descriptors: the one definition both
 * the device's threads use (guests/assigned-test/anic.h is the driver's
 * copy, as a datasheet would be).
 *
 * The page is ordinary shared memory, mapped straight into the guest: a
 * guest store is not seen by the device at the moment it happens, so there
 * are no side effects on access — no write-1-to-clear, no read-to-ack. The
 * guest owns some words and the device owns the others; each side only
 * writes its own, and the device finds the guest's changes by looking
 * (polling its page). Words each side writes start cache lines of their own.
 *
 *   0x000 ID          device  0x43494e41 ("ANIC")
 *   0x004 VERSION     device  1
 *   0x008 MAC_LO      device  MAC bytes 0-3 (byte 0 lowest)
 *   0x00c MAC_HI      device  MAC bytes 4-5
 *   0x010 STATUS      device  RUNNING (bit 0), FAILED (bit 1)
 *   0x014 ERROR       device  why it FAILED (ERR_*); it stays stopped until CTRL.ENABLE is cleared
 *   0x018 RING_MAX    device  most descriptors a ring may have (4096)
 *   0x040 CTRL        guest   ENABLE (bit 0): set after the rings are configured; clear to reset
 *   0x044 IRQ_ENABLE  guest   RX (bit 0), TX (bit 1): which progress raises the posted interrupt
 *   0x048 IRQ_HART    guest   the hart it is posted to (out of range: hart 0)
 *   0x04c TX_BASE_LO  guest   TX ring: guest-physical address (16-byte aligned), entries (a power of two)
 *   0x050 TX_BASE_HI
 *   0x054 TX_SIZE
 *   0x058 RX_BASE_LO  guest   RX ring, likewise
 *   0x05c RX_BASE_HI
 *   0x060 RX_SIZE
 *   0x080 TX_TAIL     guest   descriptors handed to the device so far (mod 2^32): the TX doorbell
 *   0x084 RX_TAIL     guest   receive buffers handed to the device so far: the RX doorbell
 *   0x088 TX_ACK      guest   the TX_HEAD the driver has seen: the interrupt stays up while they differ
 *   0x08c RX_ACK      guest   the RX_HEAD the driver has seen
 *   0x0c0 TX_HEAD     device  descriptors sent and written back (mod 2^32)
 *   0x0c4 RX_HEAD     device  buffers filled and written back
 *
 * Descriptor (16 bytes, 16-byte aligned, in guest RAM, read and written
 * back by DMA):
 *   0  addr    u64  the frame (TX) or the buffer (RX), guest-physical
 *   8  len     u16  TX: the frame's length; RX: the buffer's size
 *  10  flags   u16  0 (reserved)
 *  12  status  u32  written back by the device: DONE (bit 31), ERROR (bit 30),
 *                   the received length in bits 15:0 (RX)
 */

export const PAGE_BYTES = 0x1000;

export const REG_ID = 0x000;
export const REG_VERSION = 0x004;
export const REG_MAC_LO = 0x008;
export const REG_MAC_HI = 0x00c;
export const REG_STATUS = 0x010;
export const REG_ERROR = 0x014;
export const REG_RING_MAX = 0x018;
export const REG_CTRL = 0x040;
export const REG_IRQ_ENABLE = 0x044;
export const REG_IRQ_HART = 0x048;
export const REG_TX_BASE_LO = 0x04c;
export const REG_TX_BASE_HI = 0x050;
export const REG_TX_SIZE = 0x054;
export const REG_RX_BASE_LO = 0x058;
export const REG_RX_BASE_HI = 0x05c;
export const REG_RX_SIZE = 0x060;
export const REG_TX_TAIL = 0x080;
export const REG_RX_TAIL = 0x084;
export const REG_TX_ACK = 0x088;
export const REG_RX_ACK = 0x08c;
export const REG_TX_HEAD = 0x0c0;
export const REG_RX_HEAD = 0x0c4;

/** The words the guest owns: [GUEST_START, GUEST_END), from CTRL up to the device's heads. A reset zeroes them. */
export const GUEST_START = 0x040;
export const GUEST_END = 0x0c0;

export const ANIC_ID = 0x43494e41;
export const ANIC_VERSION = 1;
export const RING_MAX = 4096;

export const STATUS_RUNNING = 1 << 0;
export const STATUS_FAILED = 1 << 1;
export const CTRL_ENABLE = 1 << 0;
export const IRQ_RX = 1 << 0;
export const IRQ_TX = 1 << 1;

/** Why the device stopped (REG_ERROR). */
export const ERR_RING_SIZE = 1; //     a ring size that is 0, above RING_MAX or not a power of two
export const ERR_RING_ALIGN = 2; //    a ring base not 16-byte aligned
export const ERR_TX_OVERRUN = 3; //    TX_TAIL ran more than the ring's size ahead of TX_HEAD
export const ERR_RX_OVERRUN = 4; //    RX_TAIL likewise
export const ERR_DESC_DMA = 5; //      a descriptor the IOMMU would not let the device read or write back

export const DESC_BYTES = 16;
export const DESC_ADDR = 0;
export const DESC_LEN = 8;
export const DESC_STATUS = 12;
export const DESC_DONE = 0x8000_0000;
export const DESC_ERROR = 0x4000_0000;

/** Word index (for an Int32Array over the page) of a register's byte offset. */
export function word(reg: number): number {
  return reg >>> 2;
}
