/*
 * virtio_net.c: the virtio network device (virtio spec v1.2, 5.1), as a raw
 * Ethernet interface: send a frame, count the frames that arrive.
 *
 * Queue 0 receives, queue 1 transmits. Every receive descriptor holds one
 * buffer, posted at start and posted again as soon as its frame is counted.
 * A transmitted frame is copied, behind the 12-byte virtio-net header (all
 * zero: no offloads), into the transmit slot of its descriptor; net_send
 * sleeps when all slots are in flight, and the interrupt frees them.
 */
#include "virtio.h"

#define VIRTIO_NET_F_MAC  5
#define NET_HDR           12	/* struct virtio_net_hdr, with num_buffers (VERSION_1) */
#define BUF_BYTES         2048	/* header + the largest frame, rounded */
#define CFG_MAC           0

static struct {
	struct spinlock lock;
	struct virtq rx, tx;
	int present;
	u8 mac[6];
	u64 rx_frames, tx_done;
} net;

static u8 rxbuf[QNUM][BUF_BYTES] __attribute__((aligned(PAGE_SIZE)));
static u8 txbuf[QNUM][BUF_BYTES] __attribute__((aligned(PAGE_SIZE)));

static void post_rx(int i)
{
	net.rx.desc[i] = (struct vring_desc){ (u64)rxbuf[i], BUF_BYTES, VRING_DESC_F_WRITE, 0 };
	virtq_submit(&net.rx, i);
}

int net_init(u64 base, u32 irq)
{
	initlock(&net.lock, "virtio-net");
	u64 features = 1UL << VIRTIO_F_VERSION_1 | 1UL << VIRTIO_NET_F_MAC;
	if (virtio_setup(base, features) < 0 || virtq_init(&net.rx, base, 0) < 0 ||
	    virtq_init(&net.tx, base, 1) < 0) {
		kprintf("labos: virtio-net at %p: setup failed, skipped\n", base);
		return -1;
	}
	for (int i = 0; i < 6; i++)
		net.mac[i] = *(volatile u8 *)(base + VIRTIO_CONFIG + CFG_MAC + i);
	virtio_ready(base);
	for (int i = 0; i < QNUM; i++) {
		net.rx.busy[i] = 1;
		post_rx(i);
	}
	net.present = 1;
	kprintf("labos: virtio-net at %p irq %u, mac %x:%x:%x:%x:%x:%x\n", base, irq,
		net.mac[0], net.mac[1], net.mac[2], net.mac[3], net.mac[4], net.mac[5]);
	return 0;
}

int net_present(void)
{
	return net.present;
}

int net_mac(u8 mac[6])
{
	memcpy(mac, net.mac, 6);
	return 0;
}

u64 net_rx_frames(void)
{
	return net.rx_frames;
}

/* Takes back the transmit descriptors the device is done with; net.lock held. */
static void reclaim_tx(void)
{
	int head;

	while ((head = virtq_next_used(&net.tx, 0)) >= 0) {
		net.tx.busy[head] = 0;
		net.tx_done++;
	}
}

/* Queues one frame (destination MAC first); 0, or -1 if the NIC is gone. */
int net_send(const void *frame, u32 len)
{
	int i;

	acquire(&net.lock);
	reclaim_tx();
	while ((i = virtq_alloc(&net.tx)) < 0) {
		sleep(&net.tx, &net.lock);
		reclaim_tx();
	}
	memset(txbuf[i], 0, NET_HDR);
	memcpy(txbuf[i] + NET_HDR, frame, len);
	net.tx.desc[i] = (struct vring_desc){ (u64)txbuf[i], NET_HDR + len, 0, 0 };
	virtq_submit(&net.tx, i);
	release(&net.lock);
	return 0;
}

void net_intr(void)
{
	int head;

	acquire(&net.lock);
	virtio_write(net.rx.base, VIRTIO_INTERRUPT_ACK,
		     virtio_read(net.rx.base, VIRTIO_INTERRUPT_STATUS) & 3);
	while ((head = virtq_next_used(&net.rx, 0)) >= 0) {
		net.rx_frames++;
		post_rx(head);
	}
	reclaim_tx();
	wakeup(&net.tx);
	release(&net.lock);
}
