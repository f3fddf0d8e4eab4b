/*
 * net.c: the network interface between the NIC drivers and the programs.
 *
 * A NIC is a kind ("virtio-net", "ne2000"), a MAC, the driver's send
 * function and a queue of received frames. A driver calls net_attach once
 * its card works, and net_input from its interrupt handler for every frame
 * it takes off the card. Programs find a NIC by kind (net_find), send raw
 * Ethernet frames (destination MAC first) and receive them. There is no
 * protocol here: two VMs on one switch talk by MAC.
 *
 * The receive queue is a ring of NRXQ frames, copied in by the interrupt
 * handler and out by net_recv. It lets the driver empty the card's own ring
 * at once, whenever the reading program happens to be scheduled; when the
 * queue is full a new frame is dropped and counted, as a card drops one
 * when its ring is full.
 */
#include "kernel.h"

#define NNIC 4
#define NRXQ 16

struct nic {
	struct spinlock lock;
	const char *kind;
	u8 mac[6];
	int (*send)(void *dev, const void *frame, u32 len);
	void *dev;
	void (*rx_room)(void *dev);	/* the driver stopped receiving when the queue was full; restart it */
	void (*poll)(void *dev);	/* a driver without an interrupt: look at the card (or 0) */
	int rx_stopped;           /* lock */
	struct net_stats stats;   /* lock */
	int waiting;              /* readers asleep on the queue (lock) */
	u32 head, tail;           /* frames in and out so far: head - tail queued */
	u16 len[NRXQ];
	u8 buf[NRXQ][ETH_FRAME_MAX];
};

/* Filled at boot, before any process runs, and never changed: no lock needed to read. */
static struct nic nics[NNIC];
static int nnic;

struct nic *net_attach(const char *kind, const u8 mac[6],
		       int (*send)(void *dev, const void *frame, u32 len),
		       void (*rx_room)(void *dev), void *dev)
{
	if (nnic == NNIC) {
		kprintf("labos: more than %d NICs, %s ignored\n", NNIC, kind);
		return 0;
	}
	struct nic *n = &nics[nnic++];
	initlock(&n->lock, kind);
	n->kind = kind;
	memcpy(n->mac, mac, 6);
	n->send = send;
	n->rx_room = rx_room;
	n->dev = dev;
	return n;
}

/*
 * For a driver whose card cannot interrupt this kernel (anic.c behind
 * OpenSBI): net_recv asks it to look at the card before a reader sleeps,
 * so a reader waits for the next tick only when nothing has come.
 */
void net_set_poll(struct nic *n, void (*poll)(void *dev))
{
	n->poll = poll;
}

/* The first NIC of this kind (any kind for ""): its number, or -1. */
int net_find(const char *kind)
{
	for (int i = 0; i < nnic; i++)
		if (kind[0] == 0 || strcmp(nics[i].kind, kind) == 0)
			return i;
	return -1;
}

static struct nic *nic(int i)
{
	return i >= 0 && i < nnic ? &nics[i] : 0;
}

/*
 * Receive livelock (Mogul & Ramakrishnan, 1997): when frames come faster
 * than programs read them, a driver that keeps taking them off the card
 * spends the whole hart in its interrupt handler, copying frames only to
 * drop them here. A driver that can stop asks first: when the queue is
 * full it stops receiving (the card drops what comes, at no cost to the
 * hart), and net_recv calls its rx_room once a reader has made room.
 */
int net_full(struct nic *n)
{
	acquire(&n->lock);
	int full = n->head - n->tail == NRXQ;
	if (full && n->rx_room)
		n->rx_stopped = 1;
	release(&n->lock);
	return full;
}

/* A frame from the driver's interrupt handler, queued for net_recv (or dropped when the queue is full). */
void net_input(struct nic *n, const void *frame, u32 len)
{
	if (len > ETH_FRAME_MAX)
		len = ETH_FRAME_MAX;
	acquire(&n->lock);
	if (n->head - n->tail == NRXQ) {
		n->stats.rx_dropped++;
	} else {
		memcpy(n->buf[n->head % NRXQ], frame, len);
		n->len[n->head % NRXQ] = (u16)len;
		n->head++;
		n->stats.rx_frames++;
		if (n->waiting)
			wakeup(n);
	}
	release(&n->lock);
}

int net_send(int i, const void *frame, u32 len)
{
	struct nic *n = nic(i);

	if (!n || n->send(n->dev, frame, len) < 0)
		return -1;
	acquire(&n->lock);
	n->stats.tx_frames++;
	release(&n->lock);
	return 0;
}

/*
 * The next received frame, copied to dst (at most cap bytes): its length;
 * 0 when none came within `timeout` ticks (0: wait for ever); -1 without
 * that NIC. Sleeps on the NIC; net_input and, for the timeout, the tick
 * (net_tick) wake it.
 */
int net_recv(int i, void *dst, u32 cap, u64 timeout)
{
	struct nic *n = nic(i);

	if (!n)
		return -1;
	u64 start = ticks;
	acquire(&n->lock);
	while (n->head == n->tail) {
		if ((timeout && ticks - start >= timeout) || myproc()->killed) {
			release(&n->lock);
			return 0;
		}
		if (n->poll) {
			release(&n->lock);	/* the driver takes its own lock, then n->lock */
			n->poll(n->dev);
			acquire(&n->lock);
			if (n->head != n->tail)
				break;
		}
		n->waiting++;
		sleep(n, &n->lock);
		n->waiting--;
	}
	u32 len = n->len[n->tail % NRXQ];
	if (len > cap)
		len = cap;
	memcpy(dst, n->buf[n->tail % NRXQ], len);
	n->tail++;
	int restart = n->rx_stopped;
	n->rx_stopped = 0;
	release(&n->lock);
	if (restart)
		n->rx_room(n->dev);	/* outside n->lock: the driver takes its own lock, then n->lock */
	return (int)len;
}

/* Every tick of the boot hart: readers waiting with a timeout look at the clock again. */
void net_tick(void)
{
	for (int i = 0; i < nnic; i++) {
		acquire(&nics[i].lock);
		if (nics[i].waiting)
			wakeup(&nics[i]);
		release(&nics[i].lock);
	}
}

int net_info(int i, u8 mac[6], struct net_stats *st)
{
	struct nic *n = nic(i);

	if (!n)
		return -1;
	acquire(&n->lock);
	memcpy(mac, n->mac, 6);
	*st = n->stats;
	release(&n->lock);
	return 0;
}
