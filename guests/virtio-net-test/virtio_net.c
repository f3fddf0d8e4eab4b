/*
 * virtio_net.c: a batching virtio-net driver over virtio-mmio version 2
 * (virtio 1.2 §4.2.2 registers, §5.1 network device, §2.7 split queues).
 *
 * Queue 0 receives, queue 1 transmits, VNET_NUM entries each. Every
 * descriptor is fixed to its own buffer at start-up (a 12-byte
 * virtio_net_hdr, then the frame), so a send or a repost only writes the
 * available ring. With EVENT_IDX the device writes avail_event (where it
 * stopped taking buffers) and the driver notifies only when its new buffers
 * pass it (vring_need_event); the driver keeps used_event far ahead while it
 * polls, so the device raises no interrupt, and points it at the next entry
 * only before it sleeps. Runs on QEMU (-global virtio-mmio.force-legacy=false)
 * and on popek alike.
 */
#include "virtio_net.h"
#include "virtio_mmio.h"

/* Feature bits in word 0: MAC (§5.1.3), EVENT_IDX (§6); VERSION_1 is virtio_mmio_negotiate's. */
#define F_MAC           (1U << 5)
#define F_EVENT_IDX     (1U << 29)

#define RX_QUEUE        0
#define TX_QUEUE        1
/* virtio_net_hdr with num_buffers (§5.1.6): 12 bytes, all zero on transmit (no offloads). */
#define HDR             12
#define BUF_BYTES       1536
/* used_event while polling: this far ahead, the device never reaches it between two polls. */
#define FAR_AHEAD       0x8000

struct avail { unsigned short flags, idx, ring[VNET_NUM], used_event; };
struct used { unsigned short flags, idx; struct virtq_used_elem ring[VNET_NUM]; unsigned short avail_event; };

struct queue {
	struct virtq_desc desc[VNET_NUM] __attribute__((aligned(16)));
	struct avail avail __attribute__((aligned(4)));
	struct used used __attribute__((aligned(4)));
	/* Free-running: next available entry to fill, last used entry seen. */
	unsigned short next_avail, last_used;
};

static struct queue rxq, txq;
static unsigned char rxbuf[VNET_NUM][BUF_BYTES] __attribute__((aligned(64)));
static unsigned char txbuf[VNET_NUM][BUF_BYTES] __attribute__((aligned(64)));
static unsigned long base;

unsigned long vnet_notifies;
unsigned char vnet_mac[6];
unsigned int vnet_irq;

static unsigned short volatile_u16(const unsigned short *p)
{
	return *(const volatile unsigned short *)p;
}

static void notify(unsigned int queue)
{
	vnet_notifies++;
	virtio_mmio_notify(base, queue);
}

/* Makes entries [q->avail.idx, q->next_avail) visible; notifies if they pass avail_event. */
static void publish(struct queue *q, unsigned int queue)
{
	unsigned short old = q->avail.idx;
	if (old == q->next_avail)
		return;
	__sync_synchronize();
	q->avail.idx = q->next_avail;
	__sync_synchronize();
	if (virtq_need_event(volatile_u16(&q->used.avail_event), q->next_avail, old))
		notify(queue);
}

/* §3.1.1: reset, acknowledge, features VERSION_1 | MAC | EVENT_IDX, both queues, DRIVER_OK; then every receive buffer posted. */
int vnet_init(void)
{
	unsigned int slot;
	base = virtio_mmio_find(VIRTIO_ID_NET, &slot);
	if (!base || virtio_mmio_read(base, VIRTIO_MMIO_VERSION) != 2)
		return -1;
	vnet_irq = VIRTIO_IRQ0 + slot;
	long f0 = virtio_mmio_negotiate(base, F_MAC | F_EVENT_IDX);
	if (f0 < 0 || !(f0 & F_EVENT_IDX))
		return -1;
	for (int i = 0; i < 6; i++)
		vnet_mac[i] = (f0 & F_MAC) ? *(volatile unsigned char *)(base + VIRTIO_MMIO_CONFIG + i) : 0;
	virtio_mmio_accesses += 6;
	for (int i = 0; i < VNET_NUM; i++) {
		rxq.desc[i] = (struct virtq_desc){ (unsigned long)rxbuf[i], BUF_BYTES, VIRTQ_DESC_F_WRITE, 0 };
		txq.desc[i] = (struct virtq_desc){ (unsigned long)txbuf[i], 0, 0, 0 };
	}
	rxq.avail.used_event = FAR_AHEAD;
	txq.avail.used_event = FAR_AHEAD;
	if (virtio_mmio_queue(base, RX_QUEUE, VNET_NUM, rxq.desc, &rxq.avail, &rxq.used) != 0 ||
	    virtio_mmio_queue(base, TX_QUEUE, VNET_NUM, txq.desc, &txq.avail, &txq.used) != 0)
		return -1;
	virtio_mmio_driver_ok(base);
	for (int i = 0; i < VNET_NUM; i++)
		rxq.avail.ring[i] = i;
	rxq.next_avail = VNET_NUM;
	publish(&rxq, RX_QUEUE);
	return 0;
}

unsigned int vnet_tx_free(void)
{
	txq.last_used = volatile_u16(&txq.used.idx);
	__sync_synchronize();
	txq.avail.used_event = txq.last_used + FAR_AHEAD;
	return VNET_NUM - (unsigned short)(txq.next_avail - txq.last_used);
}

unsigned char *vnet_tx_slot(void)
{
	return txbuf[txq.next_avail % VNET_NUM] + HDR;
}

void vnet_tx_queue(unsigned int len)
{
	unsigned int slot = txq.next_avail % VNET_NUM;
	txq.desc[slot].len = HDR + len;
	txq.avail.ring[slot] = slot;
	txq.next_avail++;
}

void vnet_tx_kick(void)
{
	publish(&txq, TX_QUEUE);
}

unsigned int vnet_rx_poll(void (*fn)(const unsigned char *frame, unsigned int len))
{
	unsigned short used = volatile_u16(&rxq.used.idx);
	unsigned int n = 0;
	__sync_synchronize();
	while (rxq.last_used != used) {
		struct virtq_used_elem *e = &rxq.used.ring[rxq.last_used % VNET_NUM];
		unsigned int id = e->id % VNET_NUM;
		if (e->len > HDR)
			fn(rxbuf[id] + HDR, e->len - HDR);
		rxq.avail.ring[rxq.next_avail % VNET_NUM] = id;
		rxq.next_avail++;
		rxq.last_used++;
		n++;
	}
	rxq.avail.used_event = rxq.last_used + FAR_AHEAD;
	publish(&rxq, RX_QUEUE);
	return n;
}

int vnet_rx_arm(void)
{
	rxq.avail.used_event = rxq.last_used;
	__sync_synchronize();
	return volatile_u16(&rxq.used.idx) == rxq.last_used;
}

void vnet_irq_ack(void)
{
	virtio_mmio_write(base, VIRTIO_MMIO_INT_ACK, 1);
}
