/*
 * ne2000.c: the driver (after Linux drivers/net/ethernet/8390/8390.c and ne.c).
 *
 * Card memory: transmit buffer at pages 0x40-0x45, receive ring 0x46-0x7f.
 * Remote DMA is word-wide (DCR.WTS) and moves 4 bytes per data-port access,
 * so a 64-byte frame costs 16 data accesses plus the set-up.
 */
#include "ne2000.h"
#include "ne2000-regs.h"

#define TX_PAGE   0x40
#define RX_START  0x46
#define RX_STOP   0x80
#define MIN_FRAME 60
/* Polls of ISR before giving up on a transmit. */
#define TX_SPINS  100000

unsigned long ne_mmio_accesses;
unsigned char ne_mac[6];
static unsigned char next_page;
/* Frames may remain in the ring after the last one read. */
static int more;

static unsigned char in(unsigned long reg)
{
	ne_mmio_accesses++;
	return *(volatile unsigned char *)(NE_BASE + reg);
}

static void out(unsigned long reg, unsigned char v)
{
	ne_mmio_accesses++;
	*(volatile unsigned char *)(NE_BASE + reg) = v;
}

static unsigned int in32(void)
{
	ne_mmio_accesses++;
	return *(volatile unsigned int *)(NE_BASE + DATA);
}

static void out32(unsigned int v)
{
	ne_mmio_accesses++;
	*(volatile unsigned int *)(NE_BASE + DATA) = v;
}

/* Starts a remote DMA of count bytes at card address addr. */
static void remote(unsigned int addr, unsigned int count, unsigned char cmd)
{
	out(RBCR0, count & 0xff);
	out(RBCR1, count >> 8);
	out(RSAR0, addr & 0xff);
	out(RSAR1, addr >> 8);
	out(CR, CR_STA | cmd);
}

/* Reads count bytes of card memory at addr (count rounded up to words). */
static void block_in(unsigned int addr, unsigned char *buf, unsigned int count)
{
	unsigned int words = (count + 3) / 4;

	remote(addr, words * 4, CR_RREAD);
	for (unsigned int i = 0; i < words; i++) {
		unsigned int v = in32();
		for (unsigned int b = 0; b < 4 && 4 * i + b < count; b++)
			buf[4 * i + b] = (unsigned char)(v >> (8 * b));
	}
	out(ISR, ISR_RDC);
}

int ne_init(void)
{
	unsigned char prom[32];

	in(RESET);
	if (!(in(ISR) & ISR_RST))
		return -1;
	out(ISR, 0xff);
	out(CR, CR_STP | CR_NODMA);
	out(DCR, DCR_WORD);
	out(RBCR0, 0);
	out(RBCR1, 0);
	out(RCR, 0x20);	/* monitor while configuring */
	out(TCR, 0x02);	/* internal loopback while configuring */
	/* The PROM holds each MAC byte twice. */
	block_in(0, prom, sizeof(prom));
	for (int i = 0; i < 6; i++)
		ne_mac[i] = prom[2 * i];
	out(TPSR, TX_PAGE);
	out(PSTART, RX_START);
	out(BNRY, RX_START);
	out(PSTOP, RX_STOP);
	out(ISR, 0xff);
	out(IMR, 0);
	out(CR, CR_STP | CR_NODMA | CR_PAGE1);
	for (int i = 0; i < 6; i++)
		out(PAR0 + i, ne_mac[i]);
	for (int i = 0; i < 8; i++)
		out(MAR0 + i, 0);
	next_page = RX_START + 1;
	out(CURR, next_page);
	out(CR, CR_STA | CR_NODMA);
	out(TCR, 0);
	out(RCR, RCR_AB);
	return 0;
}

int ne_send(const unsigned char *frame, unsigned int len)
{
	unsigned int padded = len < MIN_FRAME ? MIN_FRAME : len;
	unsigned int words = (padded + 3) / 4;

	if (len > NE_MAX_FRAME)
		return -1;
	remote(TX_PAGE << 8, words * 4, CR_RWRITE);
	for (unsigned int i = 0; i < words; i++) {
		unsigned int v = 0;
		for (unsigned int b = 0; b < 4; b++)
			if (4 * i + b < len)
				v |= (unsigned int)frame[4 * i + b] << (8 * b);
		out32(v);
	}
	out(ISR, ISR_RDC);
	out(TBCR0, padded & 0xff);
	out(TBCR1, padded >> 8);
	out(CR, CR_STA | CR_NODMA | CR_TXP);
	for (int spin = 0; spin < TX_SPINS; spin++) {
		unsigned char isr = in(ISR);
		if (isr & (ISR_PTX | ISR_TXE)) {
			out(ISR, ISR_PTX | ISR_TXE);
			return isr & ISR_TXE ? -1 : 0;
		}
	}
	return -1;
}

void ne_irq_mask(unsigned char mask)
{
	out(IMR, mask);
}

unsigned int ne_recv(unsigned char *buf, unsigned int cap)
{
	unsigned char hdr[4];
	unsigned char curr;
	unsigned int len;

	/*
	 * PRX is acknowledged before CURR is read, so a frame that lands after
	 * the read raises it again; `more` keeps reading while frames received
	 * before the acknowledgement are still in the ring.
	 */
	if (!more && !(in(ISR) & ISR_PRX))
		return 0;
	if (!more)
		out(ISR, ISR_PRX);
	out(CR, CR_STA | CR_NODMA | CR_PAGE1);
	curr = in(CURR);
	out(CR, CR_STA | CR_NODMA);
	if (next_page == curr) {
		more = 0;
		return 0;
	}
	more = 1;
	block_in(next_page << 8, hdr, 4);
	len = (unsigned int)(hdr[2] | (hdr[3] << 8)) - 4;
	if (hdr[1] < RX_START || hdr[1] >= RX_STOP || len > NE_MAX_FRAME) {
		/* A header that cannot be: start the ring over. */
		next_page = curr;
		out(BNRY, curr == RX_START ? RX_STOP - 1 : curr - 1);
		return 0;
	}
	unsigned int start = (next_page << 8) + 4;
	unsigned int first = (RX_STOP << 8) - start;
	unsigned int take = len < cap ? len : cap;
	if (take <= first) {
		block_in(start, buf, take);
	} else {
		block_in(start, buf, first);
		block_in(RX_START << 8, buf + first, take - first);
	}
	next_page = hdr[1];
	out(BNRY, next_page == RX_START ? RX_STOP - 1 : next_page - 1);
	return take;
}
