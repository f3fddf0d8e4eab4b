/*
 * virtio-console-test: a bare-metal M-mode driver for virtio-console
 * (virtio 1.2 §5.3, one port, virtio-mmio version 2). It prints a line
 * through emerg_wr and one through the transmit queue, posts a receive
 * buffer, waits for a line of host input (up to 60 s) and sends it back,
 * then exits 0. The UART says only what went wrong.
 */
#include "console.h"
#include "riscv.h"

#define VIRTIO0         0x10001000UL
#define VIRTIO_STRIDE   0x1000UL
#define VIRTIO_SLOTS    8

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
#define R_STATUS        0x070
#define R_DESC_LO       0x080
#define R_DESC_HI       0x084
#define R_DRIVER_LO     0x090
#define R_DRIVER_HI     0x094
#define R_DEVICE_LO     0x0a0
#define R_DEVICE_HI     0x0a4
#define R_CONFIG        0x100
#define CFG_EMERG_WR    8

#define S_ACKNOWLEDGE   1
#define S_DRIVER        2
#define S_DRIVER_OK     4
#define S_FEATURES_OK   8

#define DEVICE_ID_CONSOLE 3
#define F_EMERG_WRITE   (1U << 2)
#define DESC_WRITE      2
#define RX_QUEUE        0
#define TX_QUEUE        1
#define NUM             8
#define LINE            128
#define TIMEOUT_TICKS   (60UL * MTIME_HZ)

struct desc { unsigned long addr; unsigned int len; unsigned short flags, next; };
struct avail { unsigned short flags, idx, ring[NUM], used_event; };
struct used_elem { unsigned int id, len; };
struct used { unsigned short flags, idx; struct used_elem ring[NUM]; unsigned short avail_event; };
struct queue {
	struct desc desc[NUM] __attribute__((aligned(16)));
	struct avail avail __attribute__((aligned(4)));
	struct used used __attribute__((aligned(4)));
};

static struct queue rxq, txq;
static char rxbuf[LINE], txbuf[LINE + 64];
static unsigned long base;

static unsigned int rd(unsigned long off) { return *(volatile unsigned int *)(base + off); }
static void wr(unsigned long off, unsigned int v) { *(volatile unsigned int *)(base + off) = v; }
static unsigned short used_idx(struct queue *q) { return *(volatile unsigned short *)&q->used.idx; }

static int fail(const char *why)
{
	console_puts("virtio-console-test: FAIL: ");
	console_puts(why);
	console_puts("\n");
	return 1;
}

static int setup_queue(unsigned int sel, struct queue *q)
{
	wr(R_QUEUE_SEL, sel);
	if (rd(R_QUEUE_READY) || rd(R_QUEUE_NUM_MAX) < NUM)
		return -1;
	wr(R_QUEUE_NUM, NUM);
	wr(R_DESC_LO, (unsigned long)q->desc);
	wr(R_DESC_HI, (unsigned long)q->desc >> 32);
	wr(R_DRIVER_LO, (unsigned long)&q->avail);
	wr(R_DRIVER_HI, (unsigned long)&q->avail >> 32);
	wr(R_DEVICE_LO, (unsigned long)&q->used);
	wr(R_DEVICE_HI, (unsigned long)&q->used >> 32);
	wr(R_QUEUE_READY, 1);
	return 0;
}

/* One buffer on a queue, as descriptor 0; waits for the device to return it; its length written. */
static unsigned int one_buffer(struct queue *q, unsigned int queue, void *buf, unsigned int len, unsigned short flags)
{
	unsigned short seen = used_idx(q);
	q->desc[0] = (struct desc){ (unsigned long)buf, len, flags, 0 };
	q->avail.ring[q->avail.idx % NUM] = 0;
	__sync_synchronize();
	q->avail.idx++;
	__sync_synchronize();
	wr(R_QUEUE_NOTIFY, queue);
	unsigned long start = *(volatile unsigned long *)CLINT_MTIME;
	for (unsigned long spins = 0; used_idx(q) == seen; spins++)
		if (spins % 4096 == 0 && *(volatile unsigned long *)CLINT_MTIME - start > TIMEOUT_TICKS)
			return ~0U;
	__sync_synchronize();
	return q->used.ring[seen % NUM].len;
}

static unsigned int append(char *to, unsigned int at, const char *s)
{
	while (*s)
		to[at++] = *s++;
	return at;
}

int main(void)
{
	for (int i = 0; i < VIRTIO_SLOTS && !base; i++) {
		base = VIRTIO0 + i * VIRTIO_STRIDE;
		if (rd(R_MAGIC) != 0x74726976 || rd(R_VERSION) != 2 || rd(R_DEVICE_ID) != DEVICE_ID_CONSOLE)
			base = 0;
	}
	if (!base)
		return fail("no virtio-console device (version 2)");
	wr(R_STATUS, 0);
	wr(R_STATUS, S_ACKNOWLEDGE);
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER);
	wr(R_DEV_FEAT_SEL, 0);
	int emerg = (rd(R_DEV_FEAT) & F_EMERG_WRITE) != 0;
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, emerg ? F_EMERG_WRITE : 0);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1); /* VERSION_1 */
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	if (!(rd(R_STATUS) & S_FEATURES_OK))
		return fail("FEATURES_OK refused");
	if (!emerg)
		return fail("no EMERG_WRITE");
	/* §5.3.6.1: emerg_wr works as soon as the feature is accepted, before any queue. */
	for (const char *s = "virtio-console: emerg_wr works\n"; *s; s++)
		wr(R_CONFIG + CFG_EMERG_WR, (unsigned char)*s);
	if (setup_queue(RX_QUEUE, &rxq) != 0 || setup_queue(TX_QUEUE, &txq) != 0)
		return fail("queue set-up");
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	unsigned int n = append(txbuf, 0, "virtio-console: hello through the transmit queue; type a line\n");
	if (one_buffer(&txq, TX_QUEUE, txbuf, n, 0) == ~0U)
		return fail("transmit buffer not returned");
	unsigned int got = 0;
	while (got == 0 || rxbuf[got - 1] != '\n') {
		unsigned int len = one_buffer(&rxq, RX_QUEUE, rxbuf + got, LINE - got, DESC_WRITE);
		if (len == ~0U)
			return fail("no input line within 60 s");
		got += len;
		if (got >= LINE)
			return fail("input line too long");
	}
	n = append(txbuf, 0, "virtio-console: got ");
	for (unsigned int i = 0; i + 1 < got; i++)
		txbuf[n++] = rxbuf[i];
	n = append(txbuf, n, "\n");
	if (one_buffer(&txq, TX_QUEUE, txbuf, n, 0) == ~0U)
		return fail("echo not returned");
	return 0;
}
