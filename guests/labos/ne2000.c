/*
 * ne2000.c: the NE2000 (a National Semiconductor DP8390 with 32 KiB of
 * card memory), in popek's lab slots; a NIC of the network interface
 * (net.c). After Linux's drivers/net/ethernet/8390/8390.c and ne.c.
 *
 * The card never touches RAM. Every byte of a frame crosses the data port,
 * four at a time: the driver sets a remote-DMA address and count in card
 * memory, then reads or writes the port (remote()). So a 1514-byte frame is
 * about 380 device accesses, and under a hypervisor as many exits: the
 * lesson this card teaches next to virtio-net.
 *
 * Card memory: the PROM (the MAC, each byte twice) at 0; the transmit
 * buffer at page TX_PAGE; the receive ring in pages [RX_START, RX_STOP).
 * The card writes each arriving frame at CURR, behind a 4-byte header
 * (status, next page, length); the driver reads from `next` and moves BNRY
 * behind it, so the card never overwrites a frame not yet read.
 *
 * Interrupts: PRX (received) makes the handler empty the ring into the
 * interface's queue; PTX/TXE (transmit done) free the one transmit buffer,
 * which a sender sleeps on while it is busy.
 */
#include "kernel.h"
#include "ne2000-regs.h"

/*
 * PRX and the end of a transmit interrupt; OVW and CNT do not: the card
 * raises OVW for every frame it misses while the ring is full, so a flood
 * would become an interrupt per dropped frame just when the driver is
 * behind. The next PRX drains the ring anyway; CNTR2 counts the missed.
 */
#define IMR_USED  (ISR_PRX | ISR_PTX | ISR_TXE)

#define TX_PAGE   0x40
#define RX_START  0x46
#define RX_STOP   0x80
#define MIN_FRAME 60	/* shorter frames are padded (the FCS makes 64) */

struct ne {
	struct spinlock lock;
	u64 base;
	u8 mac[6];
	u8 next;		/* ring page of the next frame to read */
	int tx_busy;		/* the transmit buffer holds a frame being sent */
	struct nic *nic;
	u8 frame[ETH_FRAME_MAX];	/* a frame on its way out of the ring */
};
static struct ne cards[MAX_NE2000];

static u8 in(struct ne *ne, u32 reg) { return *(volatile u8 *)(ne->base + reg); }
static void out(struct ne *ne, u32 reg, u8 v) { *(volatile u8 *)(ne->base + reg) = v; }

/* Starts a remote DMA of count bytes at card address addr (read or write). */
static void remote(struct ne *ne, u32 addr, u32 count, u8 cmd)
{
	out(ne, RBCR0, count & 0xff);
	out(ne, RBCR1, count >> 8);
	out(ne, RSAR0, addr & 0xff);
	out(ne, RSAR1, addr >> 8);
	out(ne, CR, CR_STA | cmd);
}

/* Copies count bytes of card memory at addr into buf (the port moves whole words). */
static void block_in(struct ne *ne, u32 addr, u8 *buf, u32 count)
{
	u32 words = (count + 3) / 4;

	remote(ne, addr, words * 4, CR_RREAD);
	for (u32 i = 0; i < words; i++) {
		u32 v = *(volatile u32 *)(ne->base + DATA);
		if (4 * i + 4 <= count)
			memcpy(buf + 4 * i, &v, 4);	/* little-endian: byte 0 first */
		else
			for (u32 b = 0; 4 * i + b < count; b++)
				buf[4 * i + b] = (u8)(v >> (8 * b));
	}
	out(ne, ISR, ISR_RDC);
}

static void block_out(struct ne *ne, u32 addr, const u8 *buf, u32 count, u32 padded)
{
	u32 words = (padded + 3) / 4;

	remote(ne, addr, words * 4, CR_RWRITE);
	for (u32 i = 0; i < words; i++) {
		u32 v = 0;
		if (4 * i + 4 <= count)
			memcpy(&v, buf + 4 * i, 4);
		else
			for (u32 b = 0; 4 * i + b < count; b++)
				v |= (u32)buf[4 * i + b] << (8 * b);
		*(volatile u32 *)(ne->base + DATA) = v;
	}
	out(ne, ISR, ISR_RDC);
}

/* The page before p in the ring: where BNRY goes once the frame at p is read. */
static u8 ring_prev(u8 p)
{
	return p == RX_START ? RX_STOP - 1 : p - 1;
}

/* Resets the card and starts it on the ring; 0, or -1 if no card answers. */
static int ne_reset(struct ne *ne)
{
	u8 prom[12];

	in(ne, RESET);
	if (!(in(ne, ISR) & ISR_RST))
		return -1;
	out(ne, CR, CR_STP | CR_NODMA);
	out(ne, DCR, DCR_WORD);
	out(ne, RCR, RCR_MON);
	out(ne, TCR, TCR_LOOP);
	out(ne, ISR, 0xff);
	block_in(ne, 0, prom, sizeof(prom));
	for (int i = 0; i < 6; i++)
		ne->mac[i] = prom[2 * i];
	out(ne, TPSR, TX_PAGE);
	out(ne, PSTART, RX_START);
	out(ne, PSTOP, RX_STOP);
	out(ne, BNRY, RX_START);
	out(ne, CR, CR_STP | CR_NODMA | CR_PAGE1);
	for (int i = 0; i < 6; i++)
		out(ne, PAR0 + i, ne->mac[i]);
	for (int i = 0; i < 8; i++)
		out(ne, MAR0 + i, 0);
	ne->next = RX_START + 1;
	out(ne, CURR, ne->next);
	out(ne, CR, CR_STA | CR_NODMA);
	out(ne, ISR, 0xff);
	out(ne, IMR, IMR_USED);
	out(ne, TCR, 0);
	out(ne, RCR, RCR_AB);
	return 0;
}

/* Hands every frame in the ring to the interface; ne->lock held. */
static void drain_ring(struct ne *ne)
{
	u8 hdr[4];

	for (int n = 0; n < RX_STOP - RX_START; n++) {	/* at most a frame per page */
		out(ne, CR, CR_STA | CR_NODMA | CR_PAGE1);
		u8 curr = in(ne, CURR);
		out(ne, CR, CR_STA | CR_NODMA);
		if (ne->next == curr)
			return;
		if (net_full(ne->nic)) {
			out(ne, IMR, IMR_USED & ~ISR_PRX);	/* until ne_rx_room: see net.c */
			return;
		}
		block_in(ne, (u32)ne->next << 8, hdr, sizeof(hdr));
		u32 len = (u32)(hdr[2] | hdr[3] << 8) - sizeof(hdr);
		if (hdr[1] < RX_START || hdr[1] >= RX_STOP || len > ETH_FRAME_MAX + 4) {
			/* A header that cannot be: drop everything and start over at CURR. */
			kprintf("labos: ne2000: bad ring header, ring reset\n");
			ne->next = curr;
			out(ne, BNRY, ring_prev(curr));
			return;
		}
		if (len > ETH_FRAME_MAX)
			len = ETH_FRAME_MAX;	/* the card counts the FCS in some modes */
		u32 start = ((u32)ne->next << 8) + sizeof(hdr);
		u32 to_end = ((u32)RX_STOP << 8) - start;	/* a frame may wrap */
		if (len <= to_end) {
			block_in(ne, start, ne->frame, len);
		} else {
			block_in(ne, start, ne->frame, to_end);
			block_in(ne, (u32)RX_START << 8, ne->frame + to_end, len - to_end);
		}
		net_input(ne->nic, ne->frame, len);
		ne->next = hdr[1];
		out(ne, BNRY, ring_prev(ne->next));
	}
}

static void ne_intr(void *arg)
{
	struct ne *ne = arg;

	acquire(&ne->lock);
	/* Acknowledge first: a frame that lands while the ring is read raises PRX again. */
	u8 isr = in(ne, ISR);
	out(ne, ISR, isr & (IMR_USED | ISR_OVW | ISR_CNT));
	if (isr & (ISR_PRX | ISR_OVW))
		drain_ring(ne);
	if (isr & ISR_CNT)
		(void)in(ne, CNTR2);	/* the read clears the tally that set CNT */
	if (isr & (ISR_PTX | ISR_TXE)) {
		ne->tx_busy = 0;
		wakeup(&ne->tx_busy);
	}
	release(&ne->lock);
}

/* The interface's queue has room again: receive interrupts back on, and take what waited in the ring. */
static void ne_rx_room(void *dev)
{
	struct ne *ne = dev;

	acquire(&ne->lock);
	out(ne, IMR, IMR_USED);
	drain_ring(ne);
	release(&ne->lock);
}

/* Copies the frame into the transmit buffer and starts it; sleeps while the previous one is still going. */
static int ne_send(void *dev, const void *frame, u32 len)
{
	struct ne *ne = dev;

	if (len > ETH_FRAME_MAX)
		return -1;
	u32 padded = len < MIN_FRAME ? MIN_FRAME : len;
	acquire(&ne->lock);
	while (ne->tx_busy)
		sleep(&ne->tx_busy, &ne->lock);
	block_out(ne, (u32)TX_PAGE << 8, frame, len, padded);
	out(ne, TBCR0, padded & 0xff);
	out(ne, TBCR1, padded >> 8);
	out(ne, CR, CR_STA | CR_NODMA | CR_TXP);
	ne->tx_busy = 1;
	release(&ne->lock);
	return 0;
}

/* Every card the device tree lists: reset, attached to the interface, its line on. */
void ne2000_probe(void)
{
	for (int i = 0; i < board.nne2000; i++) {
		struct ne *ne = &cards[i];
		initlock(&ne->lock, "ne2000");
		ne->base = board.ne2000_base[i];
		if (ne_reset(ne) < 0) {
			kprintf("labos: ne2000 at %p does not answer: skipped\n", ne->base);
			continue;
		}
		ne->nic = net_attach("ne2000", ne->mac, ne_send, ne_rx_room, ne);
		if (!ne->nic)
			continue;
		plic_register(board.ne2000_irq[i], ne_intr, ne);
		kprintf("labos: ne2000 at %p irq %u, mac %x:%x:%x:%x:%x:%x\n", ne->base,
			board.ne2000_irq[i], ne->mac[0], ne->mac[1], ne->mac[2], ne->mac[3],
			ne->mac[4], ne->mac[5]);
	}
}
