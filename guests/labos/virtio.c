/*
 * virtio.c: finding virtio-mmio devices and running split virtqueues.
 *
 * The device tree lists every virtio-mmio slot of the board (dtb.c); a slot
 * with device id 0 is empty and is skipped, as is a legacy (version 1)
 * device. Each slot found is initialised in the order of spec 3.1.1:
 * reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queues, DRIVER_OK.
 *
 * A virtqueue's three parts each get a page of their own (kalloc pages are
 * identity-mapped, so their virtual address is the physical one the device
 * needs). Descriptors are handed out from a busy map; a request is a chain
 * of them, made available by putting its head in the available ring.
 */
#include "virtio.h"

static int have_blk, have_net;

u32 virtio_read(u64 base, u32 off)
{
	return *(volatile u32 *)(base + off);
}

void virtio_write(u64 base, u32 off, u32 val)
{
	*(volatile u32 *)(base + off) = val;
}

/* Steps 1..6 of spec 3.1.1: 0 once the device accepted our features, -1 if it did not. */
int virtio_setup(u64 base, u64 features)
{
	virtio_write(base, VIRTIO_STATUS, 0);	/* reset */
	u32 status = STATUS_ACKNOWLEDGE | STATUS_DRIVER;
	virtio_write(base, VIRTIO_STATUS, status);
	for (u32 sel = 0; sel < 2; sel++) {
		virtio_write(base, VIRTIO_DEVICE_FEAT_SEL, sel);
		u32 offered = virtio_read(base, VIRTIO_DEVICE_FEATURES);
		virtio_write(base, VIRTIO_DRIVER_FEAT_SEL, sel);
		virtio_write(base, VIRTIO_DRIVER_FEATURES, offered & (u32)(features >> (32 * sel)));
	}
	status |= STATUS_FEATURES_OK;
	virtio_write(base, VIRTIO_STATUS, status);
	return (virtio_read(base, VIRTIO_STATUS) & STATUS_FEATURES_OK) ? 0 : -1;
}

void virtio_ready(u64 base)
{
	virtio_write(base, VIRTIO_STATUS, virtio_read(base, VIRTIO_STATUS) | STATUS_DRIVER_OK);
}

static void write64(u64 base, u32 off, u64 v)
{
	virtio_write(base, off, (u32)v);
	virtio_write(base, off + 4, (u32)(v >> 32));
}

int virtq_init(struct virtq *q, u64 base, u32 index)
{
	q->base = base;
	q->index = index;
	virtio_write(base, VIRTIO_QUEUE_SEL, index);
	if (virtio_read(base, VIRTIO_QUEUE_READY) || virtio_read(base, VIRTIO_QUEUE_NUM_MAX) < QNUM)
		return -1;
	q->desc = kalloc();
	q->avail = kalloc();
	q->used = kalloc();
	if (!q->desc || !q->avail || !q->used)
		return -1;
	virtio_write(base, VIRTIO_QUEUE_NUM, QNUM);
	write64(base, VIRTIO_QUEUE_DESC, (u64)q->desc);
	write64(base, VIRTIO_QUEUE_DRIVER, (u64)q->avail);
	write64(base, VIRTIO_QUEUE_DEVICE, (u64)q->used);
	virtio_write(base, VIRTIO_QUEUE_READY, 1);
	return 0;
}

/* A free descriptor's index, or -1. Caller holds the driver's lock. */
int virtq_alloc(struct virtq *q)
{
	for (int i = 0; i < QNUM; i++) {
		if (!q->busy[i]) {
			q->busy[i] = 1;
			return i;
		}
	}
	return -1;
}

/* Frees a chain, following NEXT at most QNUM times (the device never writes descriptors). */
void virtq_free_chain(struct virtq *q, int head)
{
	for (int i = head, n = 0; n < QNUM; n++) {
		q->busy[i] = 0;
		if (!(q->desc[i].flags & VRING_DESC_F_NEXT))
			break;
		i = q->desc[i].next;
	}
}

/* Puts a chain in the available ring and tells the device (the fences order the ring writes, spec 2.7.13). */
void virtq_submit(struct virtq *q, int head)
{
	q->avail->ring[q->avail->idx % QNUM] = (u16)head;
	__sync_synchronize();
	q->avail->idx++;
	__sync_synchronize();
	virtio_write(q->base, VIRTIO_QUEUE_NOTIFY, q->index);
}

/* The head of the next chain the device has finished, or -1 if none is new. */
int virtq_next_used(struct virtq *q, u32 *len)
{
	__sync_synchronize();
	if (q->last_used == q->used->idx)
		return -1;
	volatile struct vring_used_elem *e = &q->used->ring[q->last_used % QNUM];
	q->last_used++;
	if (len)
		*len = e->len;
	return e->id < QNUM ? (int)e->id : -1;
}

void virtio_probe(void)
{
	for (int i = 0; i < board.nvirtio; i++) {
		u64 base = board.virtio_base[i];
		u32 irq = board.virtio_irq[i];
		if (virtio_read(base, VIRTIO_MAGIC) != VIRTIO_MAGIC_VALUE)
			continue;
		u32 id = virtio_read(base, VIRTIO_DEVICE_ID);
		if (id == 0)
			continue;	/* an empty slot */
		if (virtio_read(base, VIRTIO_VERSION) != 2) {
			kprintf("labos: virtio device %u at %p is legacy (version 1): skipped\n", id, base);
			continue;
		}
		/* One of each kind: the drivers keep their state in one static struct. */
		if (id == VIRTIO_ID_BLOCK && !have_blk && blk_init(base, irq) == 0) {
			have_blk = 1;
			plic_register(irq, blk_intr, 0);
		} else if (id == VIRTIO_ID_NET && !have_net && vnet_init(base, irq) == 0) {
			have_net = 1;
			plic_register(irq, vnet_intr, 0);
		}
	}
}
