/*
 * virtio_mmio.c: the virtio-mmio version-2 transport shared by the
 * bare-metal virtio drivers (see virtio_mmio.h): the registers of virtio
 * 1.2 §4.2.2, programmed directly, as a teaching kernel's driver does.
 */
#include "virtio_mmio.h"

#define VIRTIO0         0x10001000UL
#define VIRTIO_STRIDE   0x1000UL
#define VIRTIO_MAGIC    0x74726976 /* "virt" */

#define R_MAGIC         0x000
#define R_DEVICE_ID     0x008
#define R_DEV_FEAT      0x010
#define R_DEV_FEAT_SEL  0x014
#define R_DRV_FEAT      0x020
#define R_DRV_FEAT_SEL  0x024
#define R_QUEUE_SEL     0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM     0x038
#define R_QUEUE_READY   0x044
#define R_QUEUE_NOTIFY  0x050
#define R_DESC_LO       0x080
#define R_DESC_HI       0x084
#define R_DRIVER_LO     0x090
#define R_DRIVER_HI     0x094
#define R_DEVICE_LO     0x0a0
#define R_DEVICE_HI     0x0a4

#define S_ACKNOWLEDGE   1
#define S_DRIVER        2
#define S_DRIVER_OK     4
#define S_FEATURES_OK   8
#define S_SET_UP        (S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK)

/* Feature word 1, bit 0: VIRTIO_F_VERSION_1 (bit 32). */
#define F1_VERSION_1    1U

unsigned long virtio_mmio_accesses;

unsigned int virtio_mmio_read(unsigned long base, unsigned long off)
{
	virtio_mmio_accesses++;
	return *(volatile unsigned int *)(base + off);
}

void virtio_mmio_write(unsigned long base, unsigned long off, unsigned int v)
{
	virtio_mmio_accesses++;
	*(volatile unsigned int *)(base + off) = v;
}

unsigned long virtio_mmio_find(unsigned int device_id, unsigned int *slot)
{
	for (unsigned int i = 0; i < VIRTIO_SLOTS; i++) {
		unsigned long base = VIRTIO0 + i * VIRTIO_STRIDE;
		if (virtio_mmio_read(base, R_MAGIC) == VIRTIO_MAGIC && virtio_mmio_read(base, R_DEVICE_ID) == device_id) {
			if (slot)
				*slot = i;
			return base;
		}
	}
	return 0;
}

long virtio_mmio_negotiate(unsigned long base, unsigned int want)
{
	virtio_mmio_write(base, VIRTIO_MMIO_STATUS, 0);
	virtio_mmio_write(base, VIRTIO_MMIO_STATUS, S_ACKNOWLEDGE);
	virtio_mmio_write(base, VIRTIO_MMIO_STATUS, S_ACKNOWLEDGE | S_DRIVER);
	virtio_mmio_write(base, R_DEV_FEAT_SEL, 0);
	unsigned int f0 = virtio_mmio_read(base, R_DEV_FEAT) & want;
	virtio_mmio_write(base, R_DEV_FEAT_SEL, 1);
	if (!(virtio_mmio_read(base, R_DEV_FEAT) & F1_VERSION_1))
		return -1;
	virtio_mmio_write(base, R_DRV_FEAT_SEL, 0);
	virtio_mmio_write(base, R_DRV_FEAT, f0);
	virtio_mmio_write(base, R_DRV_FEAT_SEL, 1);
	virtio_mmio_write(base, R_DRV_FEAT, F1_VERSION_1);
	virtio_mmio_write(base, VIRTIO_MMIO_STATUS, S_SET_UP);
	if (!(virtio_mmio_read(base, VIRTIO_MMIO_STATUS) & S_FEATURES_OK))
		return -1;
	return f0;
}

int virtio_mmio_queue(unsigned long base, unsigned int sel, unsigned int num, const void *desc, const void *avail, const void *used)
{
	virtio_mmio_write(base, R_QUEUE_SEL, sel);
	if (virtio_mmio_read(base, R_QUEUE_READY) || virtio_mmio_read(base, R_QUEUE_NUM_MAX) < num)
		return -1;
	virtio_mmio_write(base, R_QUEUE_NUM, num);
	virtio_mmio_write(base, R_DESC_LO, (unsigned long)desc);
	virtio_mmio_write(base, R_DESC_HI, (unsigned long)desc >> 32);
	virtio_mmio_write(base, R_DRIVER_LO, (unsigned long)avail);
	virtio_mmio_write(base, R_DRIVER_HI, (unsigned long)avail >> 32);
	virtio_mmio_write(base, R_DEVICE_LO, (unsigned long)used);
	virtio_mmio_write(base, R_DEVICE_HI, (unsigned long)used >> 32);
	virtio_mmio_write(base, R_QUEUE_READY, 1);
	return 0;
}

void virtio_mmio_driver_ok(unsigned long base)
{
	virtio_mmio_write(base, VIRTIO_MMIO_STATUS, S_SET_UP | S_DRIVER_OK);
}

void virtio_mmio_notify(unsigned long base, unsigned int queue)
{
	virtio_mmio_write(base, R_QUEUE_NOTIFY, queue);
}

int virtq_need_event(unsigned short event, unsigned short new_idx, unsigned short old)
{
	return (unsigned short)(new_idx - event - 1) < (unsigned short)(new_idx - old);
}
