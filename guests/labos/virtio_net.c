/*
 * virtio_net.c: the virtio network device (virtio spec v1.2, 5.1), a NIC of
 * the network interface (net.c): send a frame, hand on the frames that arrive.
 *
 * Queue 0 receives, queue 1 transmits. Every receive descriptor holds one
 * buffer, posted at start and posted again as soon as its frame is copied
 * into the interface's receive queue.
 * A transmitted frame is copied, behind the 12-byte virtio-net header (all
 * zero: no offloads), into the transmit slot of its descriptor; vnet_send
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
	u8 mac[6];
	struct nic *nic;
} vnet;

static u8 rxbuf[QNUM][BUF_BYTES] __attribute__((aligned(PAGE_SIZE)));
static u8 txbuf[QNUM][BUF_BYTES] __attribute__((aligned(PAGE_SIZE)));

static void post_rx(int i)
{
	vnet.rx.desc[i] = (struct vring_desc){ (u64)rxbuf[i], BUF_BYTES, VRING_DESC_F_WRITE, 0 };
	virtq_submit(&vnet.rx, i);
}

static int vnet_send(void *dev, const void *frame, u32 len);

int vnet_init(u64 base, u32 irq)
{
	initlock(&vnet.lock, "virtio-net");
	u64 features = 1UL << VIRTIO_F_VERSION_1 | 1UL << VIRTIO_NET_F_MAC;
	if (virtio_setup(base, features) < 0 || virtq_init(&vnet.rx, base, 0) < 0 ||
	    virtq_init(&vnet.tx, base, 1) < 0) {
		kprintf("labos: virtio-net at %p: setup failed, skipped\n", base);
		return -1;
	}
	for (int i = 0; i < 6; i++)
		vnet.mac[i] = *(volatile u8 *)(base + VIRTIO_CONFIG + CFG_MAC + i);
	vnet.nic = net_attach("virtio-net", vnet.mac, vnet_send, 0, 0);
	if (!vnet.nic)
		return -1;
	virtio_ready(base);
	for (int i = 0; i < QNUM; i++) {
		vnet.rx.busy[i] = 1;
		post_rx(i);
	}
	kprintf("labos: virtio-net at %p irq %u, mac %x:%x:%x:%x:%x:%x\n", base, irq,
		vnet.mac[0], vnet.mac[1], vnet.mac[2], vnet.mac[3], vnet.mac[4], vnet.mac[5]);
	return 0;
}

/* Takes back the transmit descriptors the device is done with; vnet.lock held. */
static void reclaim_tx(void)
{
	int head;

	while ((head = virtq_next_used(&vnet.tx, 0)) >= 0)
		vnet.tx.busy[head] = 0;
}

/* Queues one frame (destination MAC first): 0. Sleeps while every transmit slot is in flight. */
static int vnet_send(void *dev, const void *frame, u32 len)
{
	int i;

	(void)dev;
	acquire(&vnet.lock);
	reclaim_tx();
	while ((i = virtq_alloc(&vnet.tx)) < 0) {
		sleep(&vnet.tx, &vnet.lock);
		reclaim_tx();
	}
	memset(txbuf[i], 0, NET_HDR);
	memcpy(txbuf[i] + NET_HDR, frame, len);
	vnet.tx.desc[i] = (struct vring_desc){ (u64)txbuf[i], NET_HDR + len, 0, 0 };
	virtq_submit(&vnet.tx, i);
	release(&vnet.lock);
	return 0;
}

/* Received frames go to the network interface (net.c), and their buffers straight back to the device. */
void vnet_intr(void *unused)
{
	int head;
	u32 len;

	(void)unused;
	acquire(&vnet.lock);
	virtio_write(vnet.rx.base, VIRTIO_INTERRUPT_ACK,
		     virtio_read(vnet.rx.base, VIRTIO_INTERRUPT_STATUS) & 3);
	while ((head = virtq_next_used(&vnet.rx, &len)) >= 0) {
		if (len > NET_HDR)
			net_input(vnet.nic, rxbuf[head] + NET_HDR, len - NET_HDR);
		post_rx(head);
	}
	reclaim_tx();
	wakeup(&vnet.tx);
	release(&vnet.lock);
}
