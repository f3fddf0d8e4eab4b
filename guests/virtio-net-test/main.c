/*
 * virtio-net-test: a bare-metal M-mode guest that drives the first
 * virtio-net device (guests/virtio-net-test/virtio_net.c) on the virtual
 * network. What it does is the first word of /chosen/bootargs (popek run
 * --append):
 *
 *   peer            exchange PEER_FRAMES lab frames with another guest on the
 *                   same switch (each side reports how many it has received)
 *   tx N SIZE [MS]  send N frames of SIZE bytes (to a sink), for at most MS ms
 *   rx N [MS]       receive N frames (from a source), for at most MS ms after
 *                   the first; when the ring is empty it sleeps in wfi until
 *                   the device's PLIC interrupt
 *
 * The benchmarks read the clock once per batch, not per frame: under
 * --virt trap a clock read is an exit too. Exit 0 on success, 1 when the
 * network did not answer in time.
 */
#include "console.h"
#include "fdt.h"
#include "nic-args.h"
#include "riscv.h"
#include "virtio_net.h"

#define PEER_FRAMES    20
#define ETH_HDR        14
#define ETHERTYPE_LAB  0x88b5
#define TIMEOUT_TICKS  (60UL * MTIME_HZ)
#define RESEND_TICKS   (MTIME_HZ / 200)

/* PLIC (QEMU virt layout), context 0 = hart 0 in M-mode. */
#define PLIC_BASE          0x0c000000UL
#define PLIC_PRIORITY(s)   (PLIC_BASE + 4 * (s))
#define PLIC_ENABLE0       (PLIC_BASE + 0x2000)
#define PLIC_THRESHOLD0    (PLIC_BASE + 0x200000)
#define PLIC_CLAIM0        (PLIC_BASE + 0x200004)

static const unsigned char BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static char args[128];

static unsigned long now(void)
{
	return *(volatile unsigned long *)CLINT_MTIME;
}

static void put16(unsigned char *p, unsigned int v) { p[0] = v >> 8; p[1] = v & 0xff; }
static unsigned int get16(const unsigned char *p) { return (p[0] << 8) | p[1]; }
static void put32(unsigned char *p, unsigned long v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }
static unsigned long get32(const unsigned char *p) { return ((unsigned long)get16(p) << 16) | get16(p + 2); }

/* A lab frame header to `dst` in f; returns where the payload goes. */
static unsigned char *eth(unsigned char *f, const unsigned char *dst)
{
	for (int i = 0; i < 6; i++) {
		f[i] = dst[i];
		f[6 + i] = vnet_mac[i];
	}
	put16(f + 12, ETHERTYPE_LAB);
	return f + ETH_HDR;
}

/* ---- peer ---- */

static unsigned long peer_got, peer_reports;
static unsigned char peer_mac[6];

static void peer_send(void)
{
	while (vnet_tx_free() == 0)
		;
	unsigned char *f = vnet_tx_slot();
	unsigned char *p = eth(f, BCAST);
	p[0] = 'V'; p[1] = 'N'; p[2] = 'E'; p[3] = 'T';
	put32(p + 4, peer_got);
	vnet_tx_queue(ETH_HDR + 8);
	vnet_tx_kick();
}

static void peer_take(const unsigned char *f, unsigned int n)
{
	const unsigned char *p = f + ETH_HDR;
	if (n < ETH_HDR + 8 || get16(f + 12) != ETHERTYPE_LAB || p[0] != 'V' || p[3] != 'T')
		return;
	int self = 1;
	for (int i = 0; i < 6; i++)
		if (f[6 + i] != vnet_mac[i])
			self = 0;
	if (self)
		return;
	for (int i = 0; i < 6; i++)
		peer_mac[i] = f[6 + i];
	peer_got++;
	if (get32(p + 4) > peer_reports)
		peer_reports = get32(p + 4);
}

static int peer(void)
{
	unsigned long start = now(), sent = 0;
	while (peer_got < PEER_FRAMES || peer_reports < PEER_FRAMES) {
		if (sent == 0 || now() - sent > RESEND_TICKS) {
			peer_send();
			sent = now();
		}
		vnet_rx_poll(peer_take);
		if (now() - start > TIMEOUT_TICKS) {
			console_puts("peer: timed out, got ");
			console_put_dec(peer_got);
			console_puts("\n");
			return 1;
		}
	}
	/* Our last count reaches the peer even if it finished first. */
	for (int i = 0; i < 3; i++)
		peer_send();
	console_puts("peer: got ");
	console_put_dec(peer_got);
	console_puts(" frames from ");
	console_put_mac(peer_mac);
	console_puts(", it got ");
	console_put_dec(peer_reports);
	console_puts(" of ours\n");
	return 0;
}

/* ---- tx / rx ---- */

static void put_per_frame(const char *what, unsigned long n, unsigned long frames)
{
	unsigned long scaled = frames ? n * 10000 / frames : 0;
	console_puts(what);
	console_put_dec(scaled / 10000);
	console_putc('.');
	for (unsigned long d = 1000; d; d /= 10)
		console_put_dec(scaled / d % 10);
}

/*
 * Sends in batches: every free slot gets a frame, then one kick (which
 * notifies only if the device asked). Each slot's buffer is written once
 * with the frame, since every frame of a run is the same.
 */
static int transmit(const char *p)
{
	unsigned long count = args_number(&p), size = args_number(&p), ms = args_number(&p);
	unsigned long limit = ms ? ms * (MTIME_HZ / 1000) : ~0UL;
	if (size < ETH_HDR || size > VNET_MAX_FRAME)
		size = 64;
	for (int s = 0; s < VNET_NUM; s++) {
		unsigned char *f = vnet_tx_slot();
		unsigned char *payload = eth(f, BCAST);
		for (unsigned long i = 0; i < size - ETH_HDR; i++)
			payload[i] = (unsigned char)i;
		vnet_tx_queue(size);
	}
	/* Those were only to fill the buffers: wind the ring back by sending them (a warm-up batch). */
	vnet_tx_kick();
	while (vnet_tx_free() < VNET_NUM)
		;
	unsigned long mmio = vnet_mmio_accesses, kicks = vnet_notifies, start = now(), sent = 0, unclocked = 0;
	while (sent < count) {
		unsigned int n = vnet_tx_free();
		if (n > count - sent)
			n = count - sent;
		for (unsigned int i = 0; i < n; i++)
			vnet_tx_queue(size);
		vnet_tx_kick();
		sent += n;
		/* The clock once per ring's worth of frames, however the device returns them (all at once, or a few at a time while it polls). */
		unclocked += n;
		if (unclocked >= VNET_NUM) {
			unclocked = 0;
			if (now() - start >= limit)
				break;
		}
	}
	while (vnet_tx_free() < VNET_NUM)
		;
	unsigned long ticks = now() - start;
	console_puts("tx: sent ");
	console_put_dec(sent);
	console_puts(" frames of ");
	console_put_dec(size);
	console_puts(" bytes in ");
	console_put_dec(ticks / (MTIME_HZ / 1000000));
	console_puts(" us;");
	put_per_frame(" mmio per frame: ", vnet_mmio_accesses - mmio, sent);
	put_per_frame(", notifies per frame: ", vnet_notifies - kicks, sent);
	console_puts("\n");
	return 0;
}

static volatile unsigned int *reg32(unsigned long addr)
{
	return (volatile unsigned int *)addr;
}

/*
 * Interrupt-driven receive: the device's used-buffer interrupt goes to its
 * PLIC source, the PLIC to mip.MEIP. mstatus.MIE stays 0, so wfi just
 * returns once MEIP (or the timer, our deadline) is pending, and no trap
 * handler is needed; the claim and complete keep the PLIC in step.
 */
static void irq_setup(unsigned long deadline)
{
	*reg32(PLIC_PRIORITY(vnet_irq)) = 1;
	*reg32(PLIC_ENABLE0) = 1U << vnet_irq;
	*reg32(PLIC_THRESHOLD0) = 0;
	*(volatile unsigned long *)CLINT_MTIMECMP(0) = deadline;
	csr_write(CSR_MIE, (1UL << IRQ_M_EXT) | (1UL << IRQ_M_TIMER));
}

static unsigned long sleeps, rx_frames, rx_bytes;

static void irq_wait(void)
{
	sleeps++;
	__asm__ volatile("wfi");
	unsigned int src = *reg32(PLIC_CLAIM0);
	if (src) {
		vnet_irq_ack();
		*reg32(PLIC_CLAIM0) = src;
	}
}

static void rx_count(const unsigned char *f, unsigned int n)
{
	(void)f;
	rx_frames++;
	rx_bytes += n;
}

static int receive(const char *p)
{
	unsigned long count = args_number(&p), ms = args_number(&p);
	unsigned long limit = ms ? ms * (MTIME_HZ / 1000) : TIMEOUT_TICKS;
	unsigned long start = now(), first = 0, deadline = start + TIMEOUT_TICKS, mmio = 0;
	irq_setup(deadline);
	while (rx_frames < count) {
		unsigned long before = rx_frames;
		vnet_rx_poll(rx_count);
		if (before == 0 && rx_frames > 0) {
			/* From the first frame: the run's clock and its own deadline. */
			first = now();
			mmio = vnet_mmio_accesses;
			deadline = first + limit;
			*(volatile unsigned long *)CLINT_MTIMECMP(0) = deadline;
		}
		if (rx_frames == before) {
			if (now() > deadline)
				break;
			if (vnet_rx_arm())
				irq_wait();
		}
	}
	csr_write(CSR_MIE, 0);
	unsigned long got = rx_frames;
	console_puts("rx: got ");
	console_put_dec(got);
	console_puts(" frames, ");
	console_put_dec(rx_bytes);
	console_puts(" bytes in ");
	console_put_dec(got ? (now() - first) / (MTIME_HZ / 1000000) : 0);
	console_puts(" us;");
	put_per_frame(" mmio per frame: ", vnet_mmio_accesses - mmio, got);
	console_puts("; slept in wfi ");
	console_put_dec(sleeps);
	console_puts(" times\n");
	/* With a time limit, whatever arrived in it is the result. */
	return got == count || (ms && got) ? 0 : 1;
}

/* ---- main ---- */

int main(unsigned long hartid, const void *fdt)
{
	(void)hartid;
	bootargs_copy(fdt, args, sizeof(args));
	if (vnet_init() != 0) {
		console_puts("virtio-net: no usable device\n");
		return 1;
	}
	console_puts("virtio-net: mac ");
	console_put_mac(vnet_mac);
	console_puts(", irq ");
	console_put_dec(vnet_irq);
	console_puts(", init took ");
	console_put_dec(vnet_mmio_accesses);
	console_puts(" mmio accesses\n");
	if (args_starts(args, "peer"))
		return peer();
	if (args_starts(args, "tx"))
		return transmit(args + 2);
	if (args_starts(args, "rx"))
		return receive(args + 2);
	console_puts("virtio-net-test: say peer, tx N SIZE [MS] or rx N [MS] in --append\n");
	return 1;
}
