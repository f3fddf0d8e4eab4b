/*
 * virtio_blk.c: the virtio block device (virtio spec v1.2, 5.2).
 *
 * One request at a time: a request is a chain of three descriptors (the
 * header with type and sector, the data, a status byte the device writes).
 * The data goes through a bounce buffer in the kernel, because the caller's
 * buffer is program memory whose pages need not be physically contiguous.
 * The caller sleeps until the device's interrupt says the request is done.
 */
#include "virtio.h"

#define BLK_T_IN        0	/* read */
#define BLK_T_OUT       1	/* write */
#define BLK_S_OK        0
#define SECTOR          512
#define MAX_SECTORS     128	/* per request: the bounce buffer's size */
#define CFG_CAPACITY    0	/* u64, in 512-byte sectors */

struct blk_req_hdr { u32 type; u32 reserved; u64 sector; };

static struct {
	struct spinlock lock;
	struct virtq q;
	u64 capacity;
	int present;
	int busy;		/* a request is in flight */
	int done;		/* blk.lock */
	struct blk_req_hdr hdr;
	volatile u8 status;
} blk;

static u8 bounce[MAX_SECTORS * SECTOR] __attribute__((aligned(PAGE_SIZE)));

int blk_init(u64 base, u32 irq)
{
	initlock(&blk.lock, "virtio-blk");
	if (virtio_setup(base, 1UL << VIRTIO_F_VERSION_1) < 0 || virtq_init(&blk.q, base, 0) < 0) {
		kprintf("labos: virtio-blk at %p: setup failed, skipped\n", base);
		return -1;
	}
	blk.capacity = virtio_read(base, VIRTIO_CONFIG + CFG_CAPACITY) |
		       (u64)virtio_read(base, VIRTIO_CONFIG + CFG_CAPACITY + 4) << 32;
	virtio_ready(base);
	blk.present = 1;
	kprintf("labos: virtio-blk at %p irq %u, %lu sectors\n", base, irq, blk.capacity);
	return 0;
}

int blk_present(void)
{
	return blk.present;
}

u64 blk_capacity(void)
{
	return blk.capacity;
}

static void chain(int i, void *addr, u32 len, u16 flags, int next)
{
	blk.q.desc[i] = (struct vring_desc){ (u64)addr, len, flags, (u16)next };
}

/* Reads or writes nsect sectors at `sector` to or from buf; 0, or -1 on a device error. */
int blk_rw(u64 sector, void *buf, u32 nsect, int write)
{
	if (nsect > MAX_SECTORS || sector + nsect > blk.capacity)
		return -1;
	acquire(&blk.lock);
	while (blk.busy)
		sleep(&blk, &blk.lock);
	blk.busy = 1;
	if (write)
		memcpy(bounce, buf, nsect * SECTOR);
	blk.hdr = (struct blk_req_hdr){ write ? BLK_T_OUT : BLK_T_IN, 0, sector };
	blk.status = 0xff;
	blk.done = 0;
	int d0 = virtq_alloc(&blk.q), d1 = virtq_alloc(&blk.q), d2 = virtq_alloc(&blk.q);
	chain(d0, &blk.hdr, sizeof(blk.hdr), VRING_DESC_F_NEXT, d1);
	chain(d1, bounce, nsect * SECTOR, (write ? 0 : VRING_DESC_F_WRITE) | VRING_DESC_F_NEXT, d2);
	chain(d2, (void *)&blk.status, 1, VRING_DESC_F_WRITE, 0);
	virtq_submit(&blk.q, d0);
	while (!blk.done)
		sleep(&blk.done, &blk.lock);
	virtq_free_chain(&blk.q, d0);
	int ok = blk.status == BLK_S_OK;
	if (ok && !write)
		memcpy(buf, bounce, nsect * SECTOR);
	blk.busy = 0;
	wakeup(&blk);
	release(&blk.lock);
	return ok ? 0 : -1;
}

void blk_intr(void *unused)
{
	(void)unused;
	acquire(&blk.lock);
	virtio_write(blk.q.base, VIRTIO_INTERRUPT_ACK,
		     virtio_read(blk.q.base, VIRTIO_INTERRUPT_STATUS) & 3);
	while (virtq_next_used(&blk.q, 0) >= 0) {
		blk.done = 1;
		wakeup(&blk.done);
	}
	release(&blk.lock);
}
