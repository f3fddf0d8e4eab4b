/*
 * virtio.h: virtio over MMIO, version 2 (virtio spec v1.2, 4.2.2), and the
 * split virtqueue (2.7). Shared by virtio.c and the two drivers.
 */
#ifndef LABOS_VIRTIO_H
#define LABOS_VIRTIO_H
#include "kernel.h"

/* MMIO registers (spec 4.2.2, table "MMIO Device Register Layout"). */
#define VIRTIO_MAGIC            0x000	/* "virt" */
#define VIRTIO_VERSION          0x004	/* 2; 1 is the legacy interface */
#define VIRTIO_DEVICE_ID        0x008	/* 0: an empty slot */
#define VIRTIO_DEVICE_FEATURES  0x010
#define VIRTIO_DEVICE_FEAT_SEL  0x014
#define VIRTIO_DRIVER_FEATURES  0x020
#define VIRTIO_DRIVER_FEAT_SEL  0x024
#define VIRTIO_QUEUE_SEL        0x030
#define VIRTIO_QUEUE_NUM_MAX    0x034
#define VIRTIO_QUEUE_NUM        0x038
#define VIRTIO_QUEUE_READY      0x044
#define VIRTIO_QUEUE_NOTIFY     0x050
#define VIRTIO_INTERRUPT_STATUS 0x060
#define VIRTIO_INTERRUPT_ACK    0x064
#define VIRTIO_STATUS           0x070
#define VIRTIO_QUEUE_DESC       0x080	/* low word; high word at +4 */
#define VIRTIO_QUEUE_DRIVER     0x090	/* the available ring */
#define VIRTIO_QUEUE_DEVICE     0x0a0	/* the used ring */
#define VIRTIO_CONFIG           0x100	/* device-specific configuration */

#define VIRTIO_MAGIC_VALUE      0x74726976
#define VIRTIO_ID_NET           1
#define VIRTIO_ID_BLOCK         2

/* Device status bits (2.1). */
#define STATUS_ACKNOWLEDGE      1
#define STATUS_DRIVER           2
#define STATUS_DRIVER_OK        4
#define STATUS_FEATURES_OK      8

#define VIRTIO_F_VERSION_1      32	/* feature bit: the modern interface */

/* The split virtqueue (2.7). */
#define QNUM 16			/* entries in every queue labos makes */
#define VRING_DESC_F_NEXT  1
#define VRING_DESC_F_WRITE 2	/* the device writes this buffer */

struct vring_desc { u64 addr; u32 len; u16 flags; u16 next; };
struct vring_avail { u16 flags; u16 idx; u16 ring[QNUM]; };
struct vring_used_elem { u32 id; u32 len; };
struct vring_used { u16 flags; u16 idx; struct vring_used_elem ring[QNUM]; };

struct virtq {
	u64 base;		/* the device's registers */
	u32 index;		/* queue number on the device */
	struct vring_desc *desc;
	struct vring_avail *avail;
	volatile struct vring_used *used;
	u16 last_used;		/* used entries consumed so far */
	u8 busy[QNUM];
};

u32 virtio_read(u64 base, u32 off);
void virtio_write(u64 base, u32 off, u32 val);
int virtio_setup(u64 base, u64 features);
int virtq_init(struct virtq *q, u64 base, u32 index);
int virtq_alloc(struct virtq *q);
void virtq_free_chain(struct virtq *q, int head);
void virtq_submit(struct virtq *q, int head);
int virtq_next_used(struct virtq *q, u32 *len);
void virtio_ready(u64 base);

int blk_init(u64 base, u32 irq);
int vnet_init(u64 base, u32 irq);
void blk_intr(void *unused);
void vnet_intr(void *unused);
#endif
