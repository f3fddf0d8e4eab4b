/*
 * anic.c: the driver. Rings and buffers are static (the device reaches them
 * by DMA through the IOMMU, which maps all of this guest's RAM and nothing
 * else).
 */
#include "anic.h"
#include "anic-regs.h"

#define BUF_BYTES       1536
/* Polls of STATUS before the device is taken to be absent (its thread looks every fraction of a ms). */
#define START_POLLS     200000000UL

static struct anic_desc tx_ring[ANIC_RING] __attribute__((aligned(16)));
static struct anic_desc rx_ring[ANIC_RING] __attribute__((aligned(16)));
static unsigned char tx_buf[ANIC_RING][BUF_BYTES] __attribute__((aligned(64)));
static unsigned char rx_buf[ANIC_RING][BUF_BYTES] __attribute__((aligned(64)));
static unsigned int tx_tail, tx_reaped, rx_next;
static unsigned long tx_errors;
unsigned char anic_mac[6];

static volatile unsigned int *reg(unsigned long off)
{
	return (volatile unsigned int *)(ANIC_BASE + off);
}

/* Orders the descriptor stores before the doorbell store that publishes them. */
static void wmb(void)
{
	__asm__ volatile("fence w, w" ::: "memory");
}

int anic_init(void)
{
	if (*reg(REG_ID) != ANIC_ID)
		return -1;
	unsigned int lo = *reg(REG_MAC_LO), hi = *reg(REG_MAC_HI);
	for (int i = 0; i < 4; i++)
		anic_mac[i] = lo >> (8 * i);
	anic_mac[4] = hi;
	anic_mac[5] = hi >> 8;
	*reg(REG_CTRL) = 0;
	for (unsigned long i = 0; i < START_POLLS && (*reg(REG_STATUS) & (STATUS_RUNNING | STATUS_FAILED)); i++)
		;
	for (int i = 0; i < ANIC_RING; i++) {
		tx_ring[i].status = 0;
		rx_ring[i].addr = (unsigned long)rx_buf[i];
		rx_ring[i].len = BUF_BYTES;
		rx_ring[i].flags = 0;
		rx_ring[i].status = 0;
	}
	tx_tail = tx_reaped = rx_next = 0;
	*reg(REG_TX_BASE_LO) = (unsigned long)tx_ring;
	*reg(REG_TX_BASE_HI) = (unsigned long)tx_ring >> 32;
	*reg(REG_TX_SIZE) = ANIC_RING;
	*reg(REG_RX_BASE_LO) = (unsigned long)rx_ring;
	*reg(REG_RX_BASE_HI) = (unsigned long)rx_ring >> 32;
	*reg(REG_RX_SIZE) = ANIC_RING;
	*reg(REG_TX_TAIL) = 0;
	*reg(REG_TX_ACK) = 0;
	*reg(REG_RX_ACK) = 0;
	*reg(REG_IRQ_ENABLE) = 0;
	*reg(REG_RX_TAIL) = ANIC_RING;
	wmb();
	*reg(REG_CTRL) = CTRL_ENABLE;
	for (unsigned long i = 0; i < START_POLLS; i++) {
		unsigned int s = *reg(REG_STATUS);
		if (s & STATUS_FAILED)
			return -2;
		if (s & STATUS_RUNNING)
			return 0;
	}
	return -1;
}

unsigned int anic_tx_free(void)
{
	return ANIC_RING - (tx_tail - *reg(REG_TX_HEAD));
}

unsigned char *anic_tx_buffer(unsigned int slot)
{
	return tx_buf[slot % ANIC_RING];
}

void anic_tx_queue_again(unsigned int len)
{
	struct anic_desc *d = &tx_ring[tx_tail % ANIC_RING];
	d->addr = (unsigned long)tx_buf[tx_tail % ANIC_RING];
	d->len = len;
	d->flags = 0;
	d->status = 0;
	tx_tail++;
}

void anic_tx_queue_many(unsigned int n, unsigned int len)
{
	unsigned int tail = tx_tail;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int slot = tail++ % ANIC_RING;
		/* No status store: the device writes every status back before TX_HEAD passes it. */
		tx_ring[slot].addr = (unsigned long)tx_buf[slot];
		tx_ring[slot].len = len;
		tx_ring[slot].flags = 0;
		if (i % ANIC_TX_KICK_EVERY == ANIC_TX_KICK_EVERY - 1) {
			tx_tail = tail;
			anic_tx_kick();
		}
	}
	tx_tail = tail;
	anic_tx_kick();
}

void anic_tx_queue(const unsigned char *frame, unsigned int len)
{
	unsigned char *b = tx_buf[tx_tail % ANIC_RING];
	for (unsigned int i = 0; i < len; i++)
		b[i] = frame[i];
	anic_tx_queue_again(len);
}

void anic_tx_kick(void)
{
	wmb();
	*reg(REG_TX_TAIL) = tx_tail;
}

unsigned long anic_tx_reap(void)
{
	unsigned int head = *reg(REG_TX_HEAD);
	for (; tx_reaped != head; tx_reaped++)
		if (tx_ring[tx_reaped % ANIC_RING].status & DESC_ERROR)
			tx_errors++;
	return tx_errors;
}

int anic_rx_peek(const unsigned char **data)
{
	if (rx_next == *reg(REG_RX_HEAD))
		return 0;
	struct anic_desc *d = &rx_ring[rx_next % ANIC_RING];
	unsigned int s = d->status;
	if (!(s & DESC_DONE) || (s & DESC_ERROR))
		return -1;
	*data = rx_buf[rx_next % ANIC_RING];
	return s & 0xffff;
}

void anic_rx_done(void)
{
	struct anic_desc *d = &rx_ring[rx_next % ANIC_RING];
	d->status = 0;
	rx_next++;
	wmb();
	*reg(REG_RX_ACK) = rx_next;
	*reg(REG_RX_TAIL) = rx_next + ANIC_RING;
}

void anic_rx_irq(int on)
{
	*reg(REG_IRQ_ENABLE) = on ? IRQ_RX : 0;
}

unsigned int anic_status(void)
{
	return *reg(REG_STATUS);
}

unsigned int anic_error(void)
{
	return *reg(REG_ERROR);
}

/* For the hostile test only: rewrites the address of the descriptor `back` places before the tail. */
void anic_test_retarget(unsigned int back, unsigned long addr)
{
	tx_ring[(tx_tail - back) % ANIC_RING].addr = addr;
}

/* For the hostile test only: restarts the device with its TX ring at `addr`. */
void anic_test_tx_ring(unsigned long addr)
{
	*reg(REG_CTRL) = 0;
	for (unsigned long i = 0; i < START_POLLS && (*reg(REG_STATUS) & (STATUS_RUNNING | STATUS_FAILED)); i++)
		;
	tx_tail = tx_reaped = 0;
	*reg(REG_TX_BASE_LO) = addr;
	*reg(REG_TX_BASE_HI) = addr >> 32;
	*reg(REG_TX_TAIL) = 0;
	*reg(REG_RX_TAIL) = 0;
	rx_next = 0;
	wmb();
	*reg(REG_CTRL) = CTRL_ENABLE;
	for (unsigned long i = 0; i < START_POLLS && !(*reg(REG_STATUS) & (STATUS_RUNNING | STATUS_FAILED)); i++)
		;
}
