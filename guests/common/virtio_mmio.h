/*
 * virtio_mmio.h: the virtio-mmio version-2 transport for the bare-metal
 * guests (virtio 1.2 §4.2.2 registers, §3.1.1 initialization, §2.7 split
 * queues): find a device among QEMU virt's eight slots, reset it and
 * negotiate features, lay out a queue, notify. What each driver
 * (common/virtio_blk.c, virtio-net-test, virtio-console-test) adds is its
 * device type's requests; the queues' rings are the driver's own, sized as
 * it likes (struct layouts below take the size as the driver declares it).
 */
#ifndef GUESTS_VIRTIO_MMIO_H
#define GUESTS_VIRTIO_MMIO_H

#define VIRTIO_SLOTS        8
/* The PLIC source of slot 0; slot i is VIRTIO_IRQ0 + i. */
#define VIRTIO_IRQ0         1

/* Registers a driver touches beyond set-up (§4.2.2). */
#define VIRTIO_MMIO_VERSION     0x004
#define VIRTIO_MMIO_INT_STATUS  0x060
#define VIRTIO_MMIO_INT_ACK     0x064
#define VIRTIO_MMIO_STATUS      0x070
#define VIRTIO_MMIO_CONFIG      0x100

/* Device types (§5). */
#define VIRTIO_ID_NET       1
#define VIRTIO_ID_BLOCK     2
#define VIRTIO_ID_CONSOLE   3

/* Descriptor flags (§2.7.5). */
#define VIRTQ_DESC_F_NEXT   1
#define VIRTQ_DESC_F_WRITE  2
/* Available ring flags (§2.7.6). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_desc { unsigned long addr; unsigned int len; unsigned short flags, next; };
struct virtq_used_elem { unsigned int id, len; };

/* Register accesses made through this file: under --virt trap, each is one VM exit. */
extern unsigned long virtio_mmio_accesses;

unsigned int virtio_mmio_read(unsigned long base, unsigned long off);
void virtio_mmio_write(unsigned long base, unsigned long off, unsigned int v);
/* The first device of that type in the eight slots (of any version: check VIRTIO_MMIO_VERSION); its base, its slot in *slot, or 0. */
unsigned long virtio_mmio_find(unsigned int device_id, unsigned int *slot);
/*
 * §3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER; accepts the device's
 * feature bits 0-31 that are in `want` and VERSION_1 (bit 32, required);
 * FEATURES_OK, checked. The accepted bits 0-31, or -1 (no VERSION_1,
 * FEATURES_OK refused).
 */
long virtio_mmio_negotiate(unsigned long base, unsigned int want);
/* Queue `sel` of `num` entries at desc/avail/used (§4.2.3.2); 0, or -1 (already live, or shorter than num). */
int virtio_mmio_queue(unsigned long base, unsigned int sel, unsigned int num, const void *desc, const void *avail, const void *used);
/* §3.1.1 step 8: DRIVER_OK, after the queues. */
void virtio_mmio_driver_ok(unsigned long base);
void virtio_mmio_notify(unsigned long base, unsigned int queue);
/* §2.7.10: whether moving an index from old to new_idx passes the other side's event index. */
int virtq_need_event(unsigned short event, unsigned short new_idx, unsigned short old);

#endif
