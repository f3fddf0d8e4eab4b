/*
 * virtio-console-test: a bare-metal M-mode driver for virtio-console
 * (virtio 1.2 §5.3, one port, virtio-mmio version 2). It prints a line
 * through emerg_wr and one through the transmit queue, posts a receive
 * buffer, waits for a line of host input (up to 60 s) and sends it back,
 * then exits 0. The UART says only what went wrong.
 */
#include "console.h"
#include "riscv.h"
#include "virtio_mmio.h"

#define CFG_EMERG_WR    8

#define F_EMERG_WRITE   (1U << 2)
#define RX_QUEUE        0
#define TX_QUEUE        1
#define NUM             8
#define LINE            128
#define TIMEOUT_TICKS   (60UL * MTIME_HZ)

struct avail { unsigned short flags, idx, ring[NUM], used_event; };
struct used { unsigned short flags, idx; struct virtq_used_elem ring[NUM]; unsigned short avail_event; };
struct queue {
	struct virtq_desc desc[NUM] __attribute__((aligned(16)));
	struct avail avail __attribute__((aligned(4)));
	struct used used __attribute__((aligned(4)));
};

static struct queue rxq, txq;
static char rxbuf[LINE], txbuf[LINE + 64];
static unsigned long base;

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
	return virtio_mmio_queue(base, sel, NUM, q->desc, &q->avail, &q->used);
}

/* One buffer on a queue, as descriptor 0; waits for the device to return it; its length written. */
static unsigned int one_buffer(struct queue *q, unsigned int queue, void *buf, unsigned int len, unsigned short flags)
{
	unsigned short seen = used_idx(q);
	q->desc[0] = (struct virtq_desc){ (unsigned long)buf, len, flags, 0 };
	q->avail.ring[q->avail.idx % NUM] = 0;
	__sync_synchronize();
	q->avail.idx++;
	__sync_synchronize();
	virtio_mmio_notify(base, queue);
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
	base = virtio_mmio_find(VIRTIO_ID_CONSOLE, 0);
	if (!base || virtio_mmio_read(base, VIRTIO_MMIO_VERSION) != 2)
		return fail("no virtio-console device (version 2)");
	long features = virtio_mmio_negotiate(base, F_EMERG_WRITE);
	if (features < 0)
		return fail("FEATURES_OK refused");
	if (!(features & F_EMERG_WRITE))
		return fail("no EMERG_WRITE");
	/* §5.3.6.1: emerg_wr works as soon as the feature is accepted, before any queue. */
	for (const char *s = "virtio-console: emerg_wr works\n"; *s; s++)
		virtio_mmio_write(base, VIRTIO_MMIO_CONFIG + CFG_EMERG_WR, (unsigned char)*s);
	if (setup_queue(RX_QUEUE, &rxq) != 0 || setup_queue(TX_QUEUE, &txq) != 0)
		return fail("queue set-up");
	virtio_mmio_driver_ok(base);
	unsigned int n = append(txbuf, 0, "virtio-console: hello through the transmit queue; type a line\n");
	if (one_buffer(&txq, TX_QUEUE, txbuf, n, 0) == ~0U)
		return fail("transmit buffer not returned");
	unsigned int got = 0;
	while (got == 0 || rxbuf[got - 1] != '\n') {
		unsigned int len = one_buffer(&rxq, RX_QUEUE, rxbuf + got, LINE - got, VIRTQ_DESC_F_WRITE);
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
