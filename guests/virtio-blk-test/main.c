/*
 * virtio-blk-test: a bare-metal M-mode virtio-blk driver, in the manner of a
 * teaching kernel's (xv6's virtio_disk.c): it programs the virtio-mmio
 * version-2 registers directly, polls the used ring, and checks what it
 * reads. Runs the same on QEMU (-machine virt -bios none -global
 * virtio-mmio.force-legacy=false) and on popek.
 *
 * It finds the first block device among the eight slots, negotiates
 * VERSION_1 only, sets up queue 0 with 8 entries, then:
 *   1. reads sector 0 and prints its first line (the host put it there);
 *   2. writes sectors 2 and 3 with a known pattern ("popek-sector-N" then
 *      bytes i ^ N) and flushes;
 *   3. reads them back and compares;
 *   4. asks for the device ID and prints it.
 * Exit 0 when all agree; the host then checks sectors 2 and 3 in the file.
 */
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

#define T_IN    0
#define T_OUT   1
#define T_FLUSH 4
#define T_GET_ID 8

#define NUM     8
#define SECTOR  512

struct desc { unsigned long addr; unsigned int len; unsigned short flags, next; };
struct avail { unsigned short flags, idx, ring[NUM], used_event; };
struct used_elem { unsigned int id, len; };
struct used { unsigned short flags, idx; struct used_elem ring[NUM]; unsigned short avail_event; };
struct req { unsigned int type, reserved; unsigned long sector; };

static struct desc desc[NUM] __attribute__((aligned(16)));
static struct avail avail __attribute__((aligned(2)));
static struct used used __attribute__((aligned(4)));
static struct req req;
static unsigned char data[2 * SECTOR] __attribute__((aligned(16)));
static volatile unsigned char status;
static unsigned short last_used;
static unsigned long base;

static unsigned int rd(unsigned long off) { return *(volatile unsigned int *)(base + off); }
static void wr(unsigned long off, unsigned int v) { *(volatile unsigned int *)(base + off) = v; }

static void fail(const char *why)
{
	console_puts("virtio-blk-test: FAIL: ");
	console_puts(why);
	console_puts("\n");
	finisher_exit(1);
}

/* The first slot with a version-2 block device; 0 when there is none. */
static unsigned long find_disk(void)
{
	for (int i = 0; i < VIRTIO_SLOTS; i++) {
		base = VIRTIO0 + i * VIRTIO_STRIDE;
		if (rd(R_MAGIC) != 0x74726976 || rd(R_DEVICE_ID) != 2)
			continue;
		if (rd(R_VERSION) != 2)
			fail("legacy virtio-mmio (on QEMU add -global virtio-mmio.force-legacy=false)");
		return base;
	}
	return 0;
}

/* §3.1.1: reset, acknowledge, accept VERSION_1 only, one queue of NUM entries, DRIVER_OK. */
static void init_disk(void)
{
	wr(R_STATUS, 0);
	wr(R_STATUS, S_ACKNOWLEDGE);
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER);
	wr(R_DEV_FEAT_SEL, 1);
	if (!(rd(R_DEV_FEAT) & 1))
		fail("no VIRTIO_F_VERSION_1");
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, 0);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1); /* bit 32: VERSION_1 */
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	if (!(rd(R_STATUS) & S_FEATURES_OK))
		fail("FEATURES_OK refused");
	wr(R_QUEUE_SEL, 0);
	if (rd(R_QUEUE_READY))
		fail("queue 0 already ready");
	if (rd(R_QUEUE_NUM_MAX) < NUM)
		fail("queue 0 too short");
	wr(R_QUEUE_NUM, NUM);
	wr(R_DESC_LO, (unsigned long)desc);
	wr(R_DESC_HI, (unsigned long)desc >> 32);
	wr(R_DRIVER_LO, (unsigned long)&avail);
	wr(R_DRIVER_HI, (unsigned long)&avail >> 32);
	wr(R_DEVICE_LO, (unsigned long)&used);
	wr(R_DEVICE_HI, (unsigned long)&used >> 32);
	wr(R_QUEUE_READY, 1);
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* One request: header, optional data (device-writable for IN and GET_ID), status; waits for it. */
static int request(unsigned int type, unsigned long sector, void *buf, unsigned int len)
{
	int n = 0;
	req.type = type;
	req.reserved = 0;
	req.sector = sector;
	desc[n] = (struct desc){ (unsigned long)&req, sizeof req, DESC_NEXT, 1 };
	n++;
	if (len) {
		unsigned short w = (type == T_IN || type == T_GET_ID) ? DESC_WRITE : 0;
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
	if (!(rd(R_INT_STATUS) & 1))
		fail("no used-buffer interrupt status");
	wr(R_INT_ACK, 1);
	return status;
}

static void pattern(unsigned char *p, unsigned long sector)
{
	const char *tag = "popek-sector-";
	int i = 0;
	for (; tag[i]; i++)
		p[i] = tag[i];
	p[i++] = '0' + sector;
	for (; i < SECTOR; i++)
		p[i] = (unsigned char)(i ^ sector);
}

int main(unsigned long hartid, const void *fdt)
{
	(void)hartid;
	(void)fdt;
	if (!find_disk())
		fail("no virtio-blk device");
	console_puts("virtio-blk-test: disk at ");
	console_put_hex(base, 8);
	init_disk();
	unsigned long capacity = rd(R_CONFIG) | (unsigned long)rd(R_CONFIG + 4) << 32;
	console_puts(", ");
	console_put_dec(capacity);
	console_puts(" sectors\n");
	if (capacity < 4)
		fail("disk smaller than 4 sectors");

	if (request(T_IN, 0, data, SECTOR) != 0)
		fail("read of sector 0");
	console_puts("sector 0: ");
	for (int i = 0; i < 64 && data[i] && data[i] != '\n'; i++)
		console_putc(data[i]);
	console_puts("\n");

	pattern(data, 2);
	pattern(data + SECTOR, 3);
	if (request(T_OUT, 2, data, 2 * SECTOR) != 0)
		fail("write of sectors 2-3");
	if (request(T_FLUSH, 0, 0, 0) != 0)
		fail("flush");
	for (int i = 0; i < 2 * SECTOR; i++)
		data[i] = 0;
	if (request(T_IN, 2, data, 2 * SECTOR) != 0)
		fail("read of sectors 2-3");
	static unsigned char want[SECTOR];
	for (unsigned long s = 2; s <= 3; s++) {
		pattern(want, s);
		for (int i = 0; i < SECTOR; i++)
			if (data[(s - 2) * SECTOR + i] != want[i])
				fail("read back differs from what was written");
	}
	console_puts("sectors 2-3 written, flushed and read back\n");

	static char id[21];
	if (request(T_GET_ID, 0, id, 20) != 0)
		fail("get-id");
	console_puts("device id: ");
	console_puts(id);
	console_puts("\nvirtio-blk-test: PASS\n");
	return 0;
}
