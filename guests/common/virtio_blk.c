/*
 * virtio_blk.c: a polling virtio-blk driver over virtio-mmio version 2
 * (common/virtio_mmio.c), in the manner of a teaching kernel's (xv6's
 * virtio_disk.c): the used ring polled, no interrupt handler. Request tag t
 * owns descriptors 3t (header), 3t+1 (data) and 3t+2 (status), so a
 * finished request's used element names its tag. Runs on QEMU
 * (-global virtio-mmio.force-legacy=false) and on popek alike.
 */
#include "virtio_blk.h"
#include "virtio_mmio.h"
#include "console.h"

#if 3 * VBLK_MAX_DEPTH > 128
#error "virtio_blk.c: the queue holds 42 requests of three descriptors at most"
#endif

/* A power of two (§2.7: split queues; ring positions wrap with the 16-bit indices) holding three descriptors per tag. */
#define NUM             128
#define QUEUE           0
/* InterruptStatus reads a finished request waits for its interrupt bit (vblk_request). */
#define INT_STATUS_TRIES 100000

struct avail { unsigned short flags, idx, ring[NUM], used_event; };
struct used { unsigned short flags, idx; struct virtq_used_elem ring[NUM]; unsigned short avail_event; };
struct req { unsigned int type, reserved; unsigned long sector; };

static struct virtq_desc desc[NUM] __attribute__((aligned(16)));
static struct avail avail __attribute__((aligned(2)));
static struct used used __attribute__((aligned(4)));
static struct req req[VBLK_MAX_DEPTH];
static volatile unsigned char status[VBLK_MAX_DEPTH];
/* Tags not in flight, a stack. */
static unsigned char free_tags[VBLK_MAX_DEPTH];
static int nfree;
/* avail.idx as published to the device, and as filled by vblk_submit. */
static unsigned short next_avail;
static unsigned short last_used;
static unsigned long base;
/* 0: the driver polls only, asks for no interrupts (avail.flags NO_INTERRUPT) and checks no InterruptStatus. */
static int want_interrupts = 1;

void vblk_fail(const char *why)
{
	console_puts("virtio-blk: FAIL: ");
	console_puts(why);
	console_puts("\n");
	finisher_exit(1);
}

/* §3.1.1: reset, acknowledge, accept VERSION_1 only, one queue of NUM entries, DRIVER_OK. */
unsigned long vblk_init(void)
{
	base = virtio_mmio_find(VIRTIO_ID_BLOCK, 0);
	if (!base)
		vblk_fail("no virtio-blk device");
	if (virtio_mmio_read(base, VIRTIO_MMIO_VERSION) != 2)
		vblk_fail("legacy virtio-mmio (on QEMU add -global virtio-mmio.force-legacy=false)");
	if (virtio_mmio_negotiate(base, 0) < 0)
		vblk_fail("no VIRTIO_F_VERSION_1, or FEATURES_OK refused");
	if (virtio_mmio_queue(base, QUEUE, NUM, desc, &avail, &used) != 0)
		vblk_fail("queue 0 already ready, or too short");
	virtio_mmio_driver_ok(base);
	for (int t = 0; t < VBLK_MAX_DEPTH; t++)
		free_tags[t] = VBLK_MAX_DEPTH - 1 - t;
	nfree = VBLK_MAX_DEPTH;
	return base;
}

void vblk_interrupts(int on)
{
	want_interrupts = on;
	avail.flags = on ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT;
}

unsigned long vblk_capacity(void)
{
	return virtio_mmio_read(base, VIRTIO_MMIO_CONFIG) | (unsigned long)virtio_mmio_read(base, VIRTIO_MMIO_CONFIG + 4) << 32;
}

int vblk_submit(unsigned int type, unsigned long sector, void *buf, unsigned int len)
{
	if (nfree == 0)
		return -1;
	int t = free_tags[--nfree];
	unsigned short d = 3 * t;
	req[t] = (struct req){ type, 0, sector };
	status[t] = 0xff;
	desc[d] = (struct virtq_desc){ (unsigned long)&req[t], sizeof req[t], VIRTQ_DESC_F_NEXT, len ? d + 1 : d + 2 };
	if (len) {
		unsigned short w = (type == VBLK_T_IN || type == VBLK_T_GET_ID) ? VIRTQ_DESC_F_WRITE : 0;
		desc[d + 1] = (struct virtq_desc){ (unsigned long)buf, len, w | VIRTQ_DESC_F_NEXT, d + 2 };
	}
	desc[d + 2] = (struct virtq_desc){ (unsigned long)&status[t], 1, VIRTQ_DESC_F_WRITE, 0 };
	avail.ring[next_avail % NUM] = d;
	next_avail++;
	return t;
}

void vblk_kick(void)
{
	if (avail.idx == next_avail)
		return;
	__sync_synchronize();
	avail.idx = next_avail;
	__sync_synchronize();
	virtio_mmio_notify(base, QUEUE);
}

int vblk_reap(int *st)
{
	if (*(volatile unsigned short *)&used.idx == last_used)
		return -1;
	__sync_synchronize();
	unsigned int id = used.ring[last_used % NUM].id;
	last_used++;
	if (id >= NUM || id % 3 != 0)
		vblk_fail("used element names no request");
	int t = id / 3;
	*st = status[t];
	free_tags[nfree++] = t;
	return t;
}

int vblk_request(unsigned int type, unsigned long sector, void *buf, unsigned int len)
{
	int st;
	if (vblk_submit(type, sector, buf, len) < 0)
		vblk_fail("vblk_request with requests in flight");
	vblk_kick();
	while (vblk_reap(&st) < 0)
		;
	if (!want_interrupts)
		return st;
	/*
	 * The interrupt may follow the used element: a device whose I/O threads
	 * return requests themselves (vhost; popek under --virt trap) raises it
	 * after them. Each read is an exit there, so the wait is bounded.
	 */
	for (int tries = 0; !(virtio_mmio_read(base, VIRTIO_MMIO_INT_STATUS) & 1); tries++)
		if (tries == INT_STATUS_TRIES)
			vblk_fail("no used-buffer interrupt status");
	virtio_mmio_write(base, VIRTIO_MMIO_INT_ACK, 1);
	return st;
}
