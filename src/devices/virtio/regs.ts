/*
 * The virtio-mmio register window (virtio 1.2 §4.2.2), as offsets, and the
 * bits a driver writes to it. Version 1 ("legacy", §4.2.4) differs only in
 * the queue registers marked below; both are decoded by mmio.ts.
 *
 *   0x000 MagicValue        r   "virt"
 *   0x004 Version           r   2 modern, 1 legacy
 *   0x008 DeviceID          r   1 network, 2 block, 3 console
 *   0x00c VendorID          r   "QEMU"
 *   0x010 DeviceFeatures    r   32 bits of the word DeviceFeaturesSel picks
 *   0x014 DeviceFeaturesSel w
 *   0x020 DriverFeatures    w   32 bits of the word DriverFeaturesSel picks
 *   0x024 DriverFeaturesSel w
 *   0x028 GuestPageSize     w   legacy only
 *   0x030 QueueSel          w
 *   0x034 QueueNumMax       r
 *   0x038 QueueNum          w
 *   0x03c QueueAlign        w   legacy only
 *   0x040 QueuePFN          rw  legacy only: the ring's page number
 *   0x044 QueueReady        rw  modern only
 *   0x050 QueueNotify       w
 *   0x060 InterruptStatus   r   bit 0 used buffer, bit 1 config change
 *   0x064 InterruptACK      w
 *   0x070 Status            rw  writing 0 resets the device
 *   0x080 QueueDescLow/High w   modern only, 0x080/0x084
 *   0x090 QueueDriverLow/High   (the available ring) 0x090/0x094
 *   0x0a0 QueueDeviceLow/High   (the used ring) 0x0a0/0x0a4
 *   0x0fc ConfigGeneration  r   modern only
 *   0x100 Config            rw  the device's configuration space
 */

export const REG_MAGIC = 0x000;
export const REG_VERSION = 0x004;
export const REG_DEVICE_ID = 0x008;
export const REG_VENDOR_ID = 0x00c;
export const REG_DEVICE_FEATURES = 0x010;
export const REG_DEVICE_FEATURES_SEL = 0x014;
export const REG_DRIVER_FEATURES = 0x020;
export const REG_DRIVER_FEATURES_SEL = 0x024;
export const REG_GUEST_PAGE_SIZE = 0x028;
export const REG_QUEUE_SEL = 0x030;
export const REG_QUEUE_NUM_MAX = 0x034;
export const REG_QUEUE_NUM = 0x038;
export const REG_QUEUE_ALIGN = 0x03c;
export const REG_QUEUE_PFN = 0x040;
export const REG_QUEUE_READY = 0x044;
export const REG_QUEUE_NOTIFY = 0x050;
export const REG_INTERRUPT_STATUS = 0x060;
export const REG_INTERRUPT_ACK = 0x064;
export const REG_STATUS = 0x070;
export const REG_QUEUE_DESC_LOW = 0x080;
export const REG_QUEUE_DESC_HIGH = 0x084;
export const REG_QUEUE_DRIVER_LOW = 0x090;
export const REG_QUEUE_DRIVER_HIGH = 0x094;
export const REG_QUEUE_DEVICE_LOW = 0x0a0;
export const REG_QUEUE_DEVICE_HIGH = 0x0a4;
export const REG_CONFIG_GENERATION = 0x0fc;
export const REG_CONFIG = 0x100;

export const MAGIC = 0x74726976;
export const VERSION_LEGACY = 1;
export const VERSION_MODERN = 2;
export const VENDOR_QEMU = 0x554d4551;

/** Device IDs (§5). */
export const DEVICE_ID_NET = 1;
export const DEVICE_ID_BLOCK = 2;
export const DEVICE_ID_CONSOLE = 3;

/** Device status bits (§2.1). */
export const STATUS_ACKNOWLEDGE = 1;
export const STATUS_DRIVER = 2;
export const STATUS_DRIVER_OK = 4;
export const STATUS_FEATURES_OK = 8;
export const STATUS_DEVICE_NEEDS_RESET = 0x40;
/* 0x80 FAILED: the driver gave up; the device needs do nothing about it. */

/** InterruptStatus bits (§4.2.2). */
export const INT_USED_BUFFER = 1;
export const INT_CONFIG_CHANGE = 2;

/** Transport feature bits (§6), as bit numbers in the 64-bit feature set. */
export const F_RING_INDIRECT_DESC = 28;
export const F_RING_EVENT_IDX = 29;
export const F_VERSION_1 = 32;

/** A feature bit as a bigint mask. */
export function feature(bit: number): bigint {
  return 1n << BigInt(bit);
}

/** Most entries a queue may have: QEMU's VIRTQUEUE_MAX_SIZE, which its virtio-mmio reports as QueueNumMax. */
export const QUEUE_NUM_MAX = 1024;
