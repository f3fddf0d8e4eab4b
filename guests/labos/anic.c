/*
 * anic.c: popek's directly assigned NIC ("popek,assigned-nic"; the datasheet
 * is src/devices/assigned-nic/regs.ts), a NIC of the network interface
 * (net.c). The lesson next to the NE2000 and virtio-net: a device the
 * hypervisor gets out of the way of.
 *
 * The register page is memory, mapped straight into the guest under
 * `--virt trap`: every access below is a plain load or store, and none
 * exits. There are no side effects on access: the driver writes its own
 * words (the tails, the doorbells; the acks) and reads the device's (the
 * heads), and the device's thread notices a doorbell by looking.
 *
 * Both rings live in RAM: TX_RING descriptors the driver fills and rings
 * TX_TAIL for, RX_RING receive buffers the device fills and advances
 * RX_HEAD over. The device reaches them by DMA through the IOMMU, which maps
 * the VM's RAM (natively: all RAM) at its guest-physical addresses, and the
 * kernel maps RAM one to one, so a buffer's address is its pointer.
 *
 * The interrupt is not the PLIC's: the device posts it into the boot hart's
 * mip bit 16 (the first platform-local interrupt), and S-mode sees it as
 * scause 16 only if the firmware delegated bit 16 in mideleg. The
 * hypervisor's SBI does (under `--virt trap` without --bios); OpenSBI does
 * not (it delegates SSIP, STIP and SEIP, and LCOFIP with Sscofpmf), and then
 * the sie bit reads as zero. anic_probe writes it and reads it back: where
 * it sticks the driver is interrupt-driven, where it does not the driver
 * polls the card from the timer tick (anic_tick) and from a reader about to
 * sleep (net.c's poll hook), which is what natively behind OpenSBI means.
 *
 * The line is a level the device's thread re-evaluates when it next looks
 * at the page: (IRQ_ENABLE.RX and RX_HEAD != RX_ACK) or (IRQ_ENABLE.TX and
 * TX_HEAD != TX_ACK). So the handler masks it in the device first (the
 * device's README), drains, acknowledges, and only then enables it again:
 * a frame that arrives while it drains raises it anew instead of being lost
 * between the drain and the ack.
 */
#include "kernel.h"
#include "anic-regs.h"

/*
 * Descriptors per ring (powers of two). TX is the larger: a sender queues
 * frames until the ring is full and never waits for the device otherwise.
 */
#define TX_RING         512
#define RX_RING         256
#define BUF_BYTES       2048	/* the largest frame, rounded: two buffers a page */
#define BUFS_PER_PAGE   ((int)(PAGE_SIZE / BUF_BYTES))
/* Looks at STATUS before the card is taken to be dead (its thread naps 0.25 ms when idle). */
#define START_POLLS     50000000UL

struct anic {
	struct spinlock lock;
	u64 base;
	u8 mac[6];
	int irq;		/* the posted interrupt reaches this kernel (else: polled) */
	u32 tx_tail;		/* descriptors queued so far (mod 2^32): what TX_TAIL says */
	u32 tx_reaped;		/* of which the device is known to be done with */
	u32 rx_next;		/* the next receive descriptor to take */
	int tx_waiting;		/* senders asleep on a full TX ring (lock) */
	int rx_stopped;		/* the interface's queue was full: frames left in the ring */
	struct nic *nic;
	struct anic_desc tx_ring[TX_RING] __attribute__((aligned(16)));
	struct anic_desc rx_ring[RX_RING] __attribute__((aligned(16)));
	u8 *tx_buf[TX_RING];
	u8 *rx_buf[RX_RING];
};
static struct anic cards[MAX_ANIC];
static int ncards;

static u32 rd(struct anic *a, u32 reg) { return *(volatile u32 *)(a->base + reg); }
static void wr(struct anic *a, u32 reg, u32 v) { *(volatile u32 *)(a->base + reg) = v; }

/* Orders the descriptor stores before the doorbell store that publishes them. */
static void wmb(void)
{
	__asm__ volatile ("fence w, w" ::: "memory");
}

/* Which progress should raise the line now; a->lock held. */
static u32 irq_wanted(struct anic *a)
{
	if (!a->irq)
		return 0;
	return (a->rx_stopped ? 0 : IRQ_RX) | (a->tx_waiting ? IRQ_TX : 0);
}

/* n buffers of BUF_BYTES from fresh pages into bufs; 0, or -1 when memory ran out. */
static int alloc_buffers(u8 **bufs, int n)
{
	for (int i = 0; i < n; i += BUFS_PER_PAGE) {
		u8 *page = kalloc();
		if (!page)
			return -1;
		for (int j = 0; j < BUFS_PER_PAGE; j++)
			bufs[i + j] = page + j * BUF_BYTES;
	}
	return 0;
}

/* Clears ENABLE and waits until the card has stopped: it then forgets its rings and heads. */
static void stop(struct anic *a)
{
	wr(a, REG_CTRL, 0);
	for (u64 i = 0; i < START_POLLS && (rd(a, REG_STATUS) & (STATUS_RUNNING | STATUS_FAILED)); i++)
		;
}

/* Gives the card both rings, every receive buffer posted, and starts it; 0, or -1. */
static int start(struct anic *a)
{
	stop(a);
	for (int i = 0; i < RX_RING; i++)
		a->rx_ring[i] = (struct anic_desc){ (u64)a->rx_buf[i], BUF_BYTES, 0, 0 };
	a->tx_tail = a->tx_reaped = a->rx_next = 0;
	wr(a, REG_TX_BASE_LO, (u32)(u64)a->tx_ring);
	wr(a, REG_TX_BASE_HI, (u32)((u64)a->tx_ring >> 32));
	wr(a, REG_TX_SIZE, TX_RING);
	wr(a, REG_RX_BASE_LO, (u32)(u64)a->rx_ring);
	wr(a, REG_RX_BASE_HI, (u32)((u64)a->rx_ring >> 32));
	wr(a, REG_RX_SIZE, RX_RING);
	wr(a, REG_TX_TAIL, 0);
	wr(a, REG_TX_ACK, 0);
	wr(a, REG_RX_ACK, 0);
	wr(a, REG_IRQ_HART, (u32)boot_hart);
	wr(a, REG_IRQ_ENABLE, irq_wanted(a));
	wr(a, REG_RX_TAIL, RX_RING);
	wmb();
	wr(a, REG_CTRL, CTRL_ENABLE);
	for (u64 i = 0; i < START_POLLS; i++) {
		u32 s = rd(a, REG_STATUS);
		if (s & STATUS_FAILED) {
			kprintf("labos: assigned-nic at %p refused its rings, error %u\n", a->base, rd(a, REG_ERROR));
			return -1;
		}
		if (s & STATUS_RUNNING)
			return 0;
	}
	kprintf("labos: assigned-nic at %p never started\n", a->base);
	return -1;
}

/* Takes back the transmit descriptors the device has sent; a->lock held. */
static void reclaim_tx(struct anic *a)
{
	a->tx_reaped = rd(a, REG_TX_HEAD);
	wr(a, REG_TX_ACK, a->tx_reaped);	/* seen: the TX line may drop */
}

/*
 * Hands every filled receive buffer to the interface and posts it again;
 * stops, leaving the rest in the ring, when the interface's queue is full
 * (receive livelock: see net.c). a->lock held.
 */
static void drain_rx(struct anic *a)
{
	u32 head = rd(a, REG_RX_HEAD);

	for (; a->rx_next != head; a->rx_next++) {
		if (net_full(a->nic)) {
			a->rx_stopped = 1;	/* until anic_rx_room */
			break;
		}
		struct anic_desc *d = &a->rx_ring[a->rx_next % RX_RING];
		u32 s = d->status;
		if ((s & DESC_DONE) && !(s & DESC_ERROR))
			net_input(a->nic, a->rx_buf[a->rx_next % RX_RING], s & 0xffff);
		d->status = 0;
	}
	wmb();
	wr(a, REG_RX_ACK, a->rx_next);
	wr(a, REG_RX_TAIL, a->rx_next + RX_RING);	/* the buffers just read, posted again */
}

/* One card's work, from its interrupt or from a poll. */
static void service(struct anic *a)
{
	acquire(&a->lock);
	wr(a, REG_IRQ_ENABLE, 0);	/* masked while we drain: see the top of the file */
	drain_rx(a);
	reclaim_tx(a);
	if (a->tx_waiting)
		wakeup(&a->tx_waiting);
	wr(a, REG_IRQ_ENABLE, irq_wanted(a));
	release(&a->lock);
}

/* scause 16: the posted interrupt (the device does not say which card, so each looks). */
void anic_intr(void)
{
	for (int i = 0; i < ncards; i++)
		service(&cards[i]);
}

/* Every tick of the boot hart: the polled cards' receive ring and TX heads. */
void anic_tick(void)
{
	for (int i = 0; i < ncards; i++)
		if (!cards[i].irq)
			service(&cards[i]);
}

/* net.c: a reader is about to sleep on an empty queue; a polled card looks first. */
static void anic_poll(void *dev)
{
	struct anic *a = dev;

	if (!a->irq)
		service(a);
}

/* net.c: the interface's queue has room again: take what waited in the ring, RX interrupt back on. */
static void anic_rx_room(void *dev)
{
	struct anic *a = dev;

	acquire(&a->lock);
	a->rx_stopped = 0;
	release(&a->lock);
	service(a);
}

/*
 * Queues one frame: copied into its slot's buffer, the descriptor filled,
 * the doorbell rung. No exit and no interrupt on this path; only a full
 * ring waits, for the TX interrupt or, polled, by giving up the hart.
 */
static int anic_send(void *dev, const void *frame, u32 len)
{
	struct anic *a = dev;

	if (len > ETH_FRAME_MAX)
		return -1;
	acquire(&a->lock);
	while (a->tx_tail - a->tx_reaped == TX_RING) {
		reclaim_tx(a);
		if (a->tx_tail - a->tx_reaped < TX_RING)
			break;
		if (rd(a, REG_STATUS) & STATUS_FAILED) {
			release(&a->lock);
			return -1;
		}
		if (a->irq) {
			a->tx_waiting++;
			wr(a, REG_IRQ_ENABLE, irq_wanted(a));
			sleep(&a->tx_waiting, &a->lock);
			a->tx_waiting--;
		} else {
			release(&a->lock);
			yield();	/* the device's thread sends on its own; let others run meanwhile */
			acquire(&a->lock);
		}
	}
	u32 slot = a->tx_tail % TX_RING;
	memcpy(a->tx_buf[slot], frame, len);
	a->tx_ring[slot] = (struct anic_desc){ (u64)a->tx_buf[slot], (u16)len, 0, 0 };
	a->tx_tail++;
	wmb();
	wr(a, REG_TX_TAIL, a->tx_tail);
	release(&a->lock);
	return 0;
}

/*
 * Before the power goes: waits (a bounded while) until every card has sent
 * what its TX ring holds. A sender returns as soon as its frame is queued,
 * so without this the last frames of a run would die with the machine.
 */
void anic_flush(void)
{
	for (int i = 0; i < ncards; i++)
		for (u64 n = 0; n < START_POLLS && rd(&cards[i], REG_TX_HEAD) != cards[i].tx_tail &&
		     !(rd(&cards[i], REG_STATUS) & STATUS_FAILED); n++)
			;
}

/*
 * Every card the device tree lists: buffers, rings, started, attached to the
 * interface. Runs on the boot hart, before interrupts are on: the posted
 * interrupt goes to this hart, and its sie bit says whether it can arrive.
 */
void anic_probe(void)
{
	int delegated = 0;

	if (board.nanic > 0) {
		csr_set(CSR_SIE, 1UL << IRQ_POSTED);
		delegated = (csr_read(CSR_SIE) >> IRQ_POSTED) & 1;
	}
	for (int i = 0; i < board.nanic; i++) {
		struct anic *a = &cards[ncards];
		initlock(&a->lock, "assigned-nic");
		a->base = board.anic_base[i];
		a->irq = delegated;
		if (rd(a, REG_ID) != ANIC_ID) {
			kprintf("labos: assigned-nic at %p does not answer: skipped\n", a->base);
			continue;
		}
		u32 lo = rd(a, REG_MAC_LO), hi = rd(a, REG_MAC_HI);
		for (int b = 0; b < 4; b++)
			a->mac[b] = (u8)(lo >> (8 * b));
		a->mac[4] = (u8)hi;
		a->mac[5] = (u8)(hi >> 8);
		if (alloc_buffers(a->tx_buf, TX_RING) < 0 || alloc_buffers(a->rx_buf, RX_RING) < 0) {
			kprintf("labos: assigned-nic at %p: no memory for its buffers\n", a->base);
			continue;
		}
		if (start(a) < 0)
			continue;
		a->nic = net_attach("assigned", a->mac, anic_send, anic_rx_room, a);
		if (!a->nic) {
			stop(a);
			continue;
		}
		net_set_poll(a->nic, anic_poll);
		ncards++;
		kprintf("labos: assigned-nic at %p %s, mac %x:%x:%x:%x:%x:%x\n", a->base,
			a->irq ? "irq 16 (posted)" : "polled (mip bit 16 not delegated)",
			a->mac[0], a->mac[1], a->mac[2], a->mac[3], a->mac[4], a->mac[5]);
	}
}
