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

#define VIRTIO0         0x10001000UL
#define VIRTIO_STRIDE   0x1000UL
#define VIRTIO_SLOTS    8
#define VIRTIO_IRQ0     1

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

#define DEVICE_ID_NET   1
/* Feature bits: MAC (§5.1.3) in word 0, EVENT_IDX (§6) in word 0, VERSION_1 in word 1. */
#define F_MAC           (1U << 5)
#define F_EVENT_IDX     (1U << 29)
#define F1_VERSION_1    (1U << 0)

#define DESC_WRITE      2
#define RX_QUEUE        0
#define TX_QUEUE        1
/* virtio_net_hdr with num_buffers (§5.1.6): 12 bytes, all zero on transmit (no offloads). */
#define HDR             12
#define BUF_BYTES       1536
/* used_event while polling: this far ahead, the device never reaches it between two polls. */
#define FAR_AHEAD       0x8000

struct desc { unsigned long addr; unsigned int len; unsigned short flags, next; };
struct avail { unsigned short flags, idx, ring[VNET_NUM], used_event; };
struct used_elem { unsigned int id, len; };
struct used { unsigned short flags, idx; struct used_elem ring[VNET_NUM]; unsigned short avail_event; };

struct queue {
	struct desc desc[VNET_NUM] __attribute__((aligned(16)));
	struct avail avail __attribute__((aligned(4)));
	struct used used __attribute__((aligned(4)));
	/* Free-running: next available entry to fill, last used entry seen. */
	unsigned short next_avail, last_used;
};

static struct queue rxq, txq;
static unsigned char rxbuf[VNET_NUM][BUF_BYTES] __attribute__((aligned(64)));
static unsigned char txbuf[VNET_NUM][BUF_BYTES] __attribute__((aligned(64)));
static unsigned long base;

unsigned long vnet_mmio_accesses;
unsigned long vnet_notifies;
unsigned char vnet_mac[6];
unsigned int vnet_irq;

static unsigned int rd(unsigned long off)
{
	vnet_mmio_accesses++;
	return *(volatile unsigned int *)(base + off);
}

static void wr(unsigned long off, unsigned int v)
{
	vnet_mmio_accesses++;
	*(volatile unsigned int *)(base + off) = v;
}

static unsigned short volatile_u16(const unsigned short *p)
{
	return *(const volatile unsigned short *)p;
}

/* §2.7.10: whether moving an index from old to new passes the other side's event index. */
static int need_event(unsigned short event, unsigned short new_idx, unsigned short old)
{
	return (unsigned short)(new_idx - event - 1) < (unsigned short)(new_idx - old);
}

static int find_device(void)
{
	for (int i = 0; i < VIRTIO_SLOTS; i++) {
		base = VIRTIO0 + i * VIRTIO_STRIDE;
		if (rd(R_MAGIC) == 0x74726976 && rd(R_VERSION) == 2 && rd(R_DEVICE_ID) == DEVICE_ID_NET) {
			vnet_irq = VIRTIO_IRQ0 + i;
			return 0;
		}
	}
	return -1;
}

static int setup_queue(unsigned int sel, struct queue *q)
{
	wr(R_QUEUE_SEL, sel);
	if (rd(R_QUEUE_READY) || rd(R_QUEUE_NUM_MAX) < VNET_NUM)
		return -1;
	wr(R_QUEUE_NUM, VNET_NUM);
	wr(R_DESC_LO, (unsigned long)q->desc);
	wr(R_DESC_HI, (unsigned long)q->desc >> 32);
	wr(R_DRIVER_LO, (unsigned long)&q->avail);
	wr(R_DRIVER_HI, (unsigned long)&q->avail >> 32);
	wr(R_DEVICE_LO, (unsigned long)&q->used);
	wr(R_DEVICE_HI, (unsigned long)&q->used >> 32);
	wr(R_QUEUE_READY, 1);
	return 0;
}

static void notify(unsigned int queue)
{
	vnet_notifies++;
	wr(R_QUEUE_NOTIFY, queue);
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
	if (need_event(volatile_u16(&q->used.avail_event), q->next_avail, old))
		notify(queue);
}

/* §3.1.1: reset, acknowledge, features VERSION_1 | MAC | EVENT_IDX, both queues, DRIVER_OK; then every receive buffer posted. */
int vnet_init(void)
{
	if (find_device() != 0)
		return -1;
	wr(R_STATUS, 0);
	wr(R_STATUS, S_ACKNOWLEDGE);
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER);
	wr(R_DEV_FEAT_SEL, 0);
	unsigned int f0 = rd(R_DEV_FEAT) & (F_MAC | F_EVENT_IDX);
	wr(R_DEV_FEAT_SEL, 1);
	if (!(rd(R_DEV_FEAT) & F1_VERSION_1) || !(f0 & F_EVENT_IDX))
		return -1;
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, f0);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, F1_VERSION_1);
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	if (!(rd(R_STATUS) & S_FEATURES_OK))
		return -1;
	for (int i = 0; i < 6; i++)
		vnet_mac[i] = (f0 & F_MAC) ? *(volatile unsigned char *)(base + R_CONFIG + i) : 0;
	vnet_mmio_accesses += 6;
	for (int i = 0; i < VNET_NUM; i++) {
		rxq.desc[i] = (struct desc){ (unsigned long)rxbuf[i], BUF_BYTES, DESC_WRITE, 0 };
		txq.desc[i] = (struct desc){ (unsigned long)txbuf[i], 0, 0, 0 };
	}
	rxq.avail.used_event = FAR_AHEAD;
	txq.avail.used_event = FAR_AHEAD;
	if (setup_queue(RX_QUEUE, &rxq) != 0 || setup_queue(TX_QUEUE, &txq) != 0)
		return -1;
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
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
		struct used_elem *e = &rxq.used.ring[rxq.last_used % VNET_NUM];
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
	wr(R_INT_ACK, 1);
}
