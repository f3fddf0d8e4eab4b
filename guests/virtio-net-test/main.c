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
#include "nic-loop.h"
#include "riscv.h"
#include "virtio_net.h"

static char args[128];

static void put_per_frame(const char *what, unsigned long n, unsigned long frames)
{
	unsigned long scaled = frames ? n * 10000 / frames : 0;
	console_puts(what);
	console_put_dec(scaled / 10000);
	console_putc('.');
	for (unsigned long d = 1000; d; d /= 10)
		console_put_dec(scaled / d % 10);
}

/* ---- peer, tx, rx (common/nic-loop.c) ---- */

static const unsigned char BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static unsigned long tx_mmio, tx_kicks;

/*
 * Each slot's buffer is written once with the frame, since every frame of a
 * run is the same; those frames are then sent once (a warm-up batch) to
 * wind the ring back.
 */
static void tx_prepare(unsigned int size)
{
	for (int s = 0; s < VNET_NUM; s++) {
		unsigned char *f = vnet_tx_slot();
		nic_lab_header(f, BCAST, vnet_mac);
		for (unsigned long i = 0; i < size - ETH_HDR; i++)
			f[ETH_HDR + i] = (unsigned char)i;
		vnet_tx_queue(size);
	}
	vnet_tx_kick();
	while (vnet_tx_free() < VNET_NUM)
		;
	tx_mmio = vnet_mmio_accesses;
	tx_kicks = vnet_notifies;
}

/* Every free slot gets a frame, then one kick (which notifies only if the device asked). */
static long tx_batch(unsigned long most, unsigned int size)
{
	unsigned int n = vnet_tx_free();
	if (n > most)
		n = most;
	for (unsigned int i = 0; i < n; i++)
		vnet_tx_queue(size);
	vnet_tx_kick();
	return n;
}

static void tx_drain(unsigned long start, unsigned long limit)
{
	(void)start;
	(void)limit;
	while (vnet_tx_free() < VNET_NUM)
		;
}

static int tx_report(unsigned long sent)
{
	put_per_frame(" mmio per frame: ", vnet_mmio_accesses - tx_mmio, sent);
	put_per_frame(", notifies per frame: ", vnet_notifies - tx_kicks, sent);
	return 0;
}

/*
 * Interrupt-driven receive: the device's used-buffer interrupt goes to its
 * PLIC source, the PLIC to mip.MEIP. mstatus.MIE stays 0, so wfi just
 * returns once MEIP (or the timer, our deadline) is pending, and no trap
 * handler is needed; the claim and complete keep the PLIC in step.
 */
static void rx_irq(int on, unsigned long deadline)
{
	if (!on) {
		csr_write(CSR_MIE, 0);
		return;
	}
	nic_plic_enable(vnet_irq);
	*(volatile unsigned long *)CLINT_MTIMECMP(0) = deadline;
	csr_write(CSR_MIE, (1UL << IRQ_M_EXT) | (1UL << IRQ_M_TIMER));
}

static unsigned long rx_mmio;

/* From the first frame: the run's own deadline, and the accesses counted. */
static void rx_started(unsigned long deadline)
{
	rx_mmio = vnet_mmio_accesses;
	*(volatile unsigned long *)CLINT_MTIMECMP(0) = deadline;
}

/* The timer is already at the deadline (rx_irq, rx_started). */
static int rx_wait(unsigned long deadline)
{
	(void)deadline;
	if (!vnet_rx_arm())
		return 0;
	__asm__ volatile("wfi");
	unsigned int src = nic_plic_claim();
	if (src) {
		vnet_irq_ack();
		nic_plic_complete(src);
	}
	return 1;
}

static void rx_report(unsigned long got)
{
	put_per_frame(" mmio per frame: ", vnet_mmio_accesses - rx_mmio, got);
}

static void peer_send(const unsigned char *frame, unsigned int len)
{
	while (vnet_tx_free() == 0)
		;
	unsigned char *f = vnet_tx_slot();
	for (unsigned int i = 0; i < len; i++)
		f[i] = frame[i];
	vnet_tx_queue(len);
	vnet_tx_kick();
}

/*
 * The clock once per ring's worth of frames sent, however the device
 * returns them (all at once, or a few at a time while it polls); while
 * receiving, only when the ring is empty.
 */
static const struct nic_ops vnet_ops = {
	.peer_tag = "VNET",
	.mac = vnet_mac,
	.max_frame = VNET_MAX_FRAME,
	.tx_limit = ~0UL,
	.tx_clock_every = VNET_NUM,
	.tx_prepare = tx_prepare,
	.tx_batch = tx_batch,
	.tx_drain = tx_drain,
	.tx_report = tx_report,
	.rx_always_irq = 1,
	.rx_poll = vnet_rx_poll,
	.rx_irq = rx_irq,
	.rx_started = rx_started,
	.rx_wait = rx_wait,
	.rx_report = rx_report,
	.peer_send = peer_send,
};

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
	int r = nic_command(&vnet_ops, args);
	if (r != NIC_NO_COMMAND)
		return r;
	console_puts("virtio-net-test: say peer, tx N SIZE [MS] or rx N [MS] in --append\n");
	return 1;
}
