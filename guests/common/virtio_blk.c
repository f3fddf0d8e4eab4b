/*
 * virtio_blk.c: a polling virtio-blk driver over virtio-mmio version 2, in
 * the manner of a teaching kernel's (xv6's virtio_disk.c): the registers of
 * virtio 1.2 §4.2.2, programmed directly, and the used ring polled. Runs on
 * QEMU (-global virtio-mmio.force-legacy=false) and on popek alike.
 */
#include "virtio_blk.h"
#include "console.h"

#define VIRTIO0         0x10001000UL
#define VIRTIO_STRIDE   0x1000UL
#define VIRTIO_SLOTS    8

/* Registers (virtio 1.2 §4.2.2). */
#define R_MAGIC         0x000
#define R_VERSION       0x004
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
#define R_INT_STATUS    0x060
#define R_INT_ACK       0x064
#define R_STATUS        0x070
#define R_DESC_LO       0x080
#define R_DESC_HI       0x084
#define R_DRIVER_LO     0x090
#define R_DRIVER_HI     0x094
#define R_DEVICE_LO     0x0a0
#define R_DEVICE_HI     0x0a4
#define R_CONFIG        0x100

#define S_ACKNOWLEDGE   1
#define S_DRIVER        2
#define S_DRIVER_OK     4
#define S_FEATURES_OK   8

#define DESC_NEXT       1
#define DESC_WRITE      2
#define AVAIL_NO_INTERRUPT 1

#define NUM             8

struct desc { unsigned long addr; unsigned int len; unsigned short flags, next; };
struct avail { unsigned short flags, idx, ring[NUM], used_event; };
struct used_elem { unsigned int id, len; };
struct used { unsigned short flags, idx; struct used_elem ring[NUM]; unsigned short avail_event; };
struct req { unsigned int type, reserved; unsigned long sector; };

static struct desc desc[NUM] __attribute__((aligned(16)));
static struct avail avail __attribute__((aligned(2)));
static struct used used __attribute__((aligned(4)));
static struct req req;
static volatile unsigned char status;
static unsigned short last_used;
static unsigned long base;
/* 0: the driver polls only, asks for no interrupts (avail.flags NO_INTERRUPT) and checks no InterruptStatus. */
static int want_interrupts = 1;

static unsigned int rd(unsigned long off) { return *(volatile unsigned int *)(base + off); }
static void wr(unsigned long off, unsigned int v) { *(volatile unsigned int *)(base + off) = v; }

void vblk_fail(const char *why)
{
	console_puts("virtio-blk: FAIL: ");
	console_puts(why);
	console_puts("\n");
	finisher_exit(1);
}

static unsigned long find_disk(void)
{
	for (int i = 0; i < VIRTIO_SLOTS; i++) {
		base = VIRTIO0 + i * VIRTIO_STRIDE;
		if (rd(R_MAGIC) != 0x74726976 || rd(R_DEVICE_ID) != 2)
			continue;
		if (rd(R_VERSION) != 2)
			vblk_fail("legacy virtio-mmio (on QEMU add -global virtio-mmio.force-legacy=false)");
		return base;
	}
	vblk_fail("no virtio-blk device");
}

/* §3.1.1: reset, acknowledge, accept VERSION_1 only, one queue of NUM entries, DRIVER_OK. */
unsigned long vblk_init(void)
{
	find_disk();
	wr(R_STATUS, 0);
	wr(R_STATUS, S_ACKNOWLEDGE);
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER);
	wr(R_DEV_FEAT_SEL, 1);
	if (!(rd(R_DEV_FEAT) & 1))
		vblk_fail("no VIRTIO_F_VERSION_1");
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, 0);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1); /* bit 32: VERSION_1 */
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	if (!(rd(R_STATUS) & S_FEATURES_OK))
		vblk_fail("FEATURES_OK refused");
	wr(R_QUEUE_SEL, 0);
	if (rd(R_QUEUE_READY))
		vblk_fail("queue 0 already ready");
	if (rd(R_QUEUE_NUM_MAX) < NUM)
		vblk_fail("queue 0 too short");
	wr(R_QUEUE_NUM, NUM);
	wr(R_DESC_LO, (unsigned long)desc);
	wr(R_DESC_HI, (unsigned long)desc >> 32);
	wr(R_DRIVER_LO, (unsigned long)&avail);
	wr(R_DRIVER_HI, (unsigned long)&avail >> 32);
	wr(R_DEVICE_LO, (unsigned long)&used);
	wr(R_DEVICE_HI, (unsigned long)&used >> 32);
	wr(R_QUEUE_READY, 1);
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return base;
}

void vblk_interrupts(int on)
{
	want_interrupts = on;
	avail.flags = on ? 0 : AVAIL_NO_INTERRUPT;
}

unsigned long vblk_capacity(void)
{
	return rd(R_CONFIG) | (unsigned long)rd(R_CONFIG + 4) << 32;
}

int vblk_request(unsigned int type, unsigned long sector, void *buf, unsigned int len)
{
	int n = 0;
	req.type = type;
	req.reserved = 0;
	req.sector = sector;
	desc[n] = (struct desc){ (unsigned long)&req, sizeof req, DESC_NEXT, 1 };
	n++;
	if (len) {
		unsigned short w = (type == VBLK_T_IN || type == VBLK_T_GET_ID) ? DESC_WRITE : 0;
		desc[n] = (struct desc){ (unsigned long)buf, len, w | DESC_NEXT, 2 };
		n++;
	}
	status = 0xff;
	desc[n] = (struct desc){ (unsigned long)&status, 1, DESC_WRITE, 0 };
	avail.ring[avail.idx % NUM] = 0;
	__sync_synchronize();
	avail.idx++;
	__sync_synchronize();
	wr(R_QUEUE_NOTIFY, 0);
	while (*(volatile unsigned short *)&used.idx == last_used)
		;
	__sync_synchronize();
	last_used++;
	if (!want_interrupts)
		return status;
	if (!(rd(R_INT_STATUS) & 1))
		vblk_fail("no used-buffer interrupt status");
	wr(R_INT_ACK, 1);
	return status;
}
