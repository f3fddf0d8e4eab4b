/*
 * assigned-test: a bare-metal M-mode guest that drives the assigned NIC on
 * slot 0 (anic.c) on the virtual network. What it does is the first word of
 * /chosen/bootargs (popek run --append):
 *
 *   peer             exchange PEER_FRAMES lab frames with another guest on the
 *                    same switch (each side reports how many it has received)
 *   tx N SIZE [MS]   send N frames of SIZE bytes (to a sink), for at most MS ms
 *   rx N [MS] [irq]  receive N frames (from a source), for at most MS ms after
 *                    the first; with irq, sleep in wfi until the device's posted
 *                    interrupt (mip bit 16) when nothing waits
 *   hostile          DMA the IOMMU must block: frames outside RAM, then a ring
 *
 * Under --virt trap nothing the driver does to the device exits: its
 * registers are memory. The exits left are the clock (mtime is a CLINT
 * register), read once per batch, wfi, and the console.
 * Exit 0 on success, 1 when the network did not answer in time.
 */
#include "anic.h"
#include "console.h"
#include "fdt.h"
#include "nic-args.h"
#include "nic-loop.h"
#include "riscv.h"

/* Frames between two looks at the clock while sending or receiving flat out, */
#define CLOCK_EVERY    1024
/* and empty polls of the device between two looks while waiting for it (the clock is an exit, the device's page is not). */
#define IDLE_POLLS     100000

static const unsigned char BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static char args[128];

/* A lab frame of `size` bytes from us to `dst` in buf. */
static void lab_frame(unsigned char *buf, const unsigned char *dst, unsigned int size)
{
	nic_lab_header(buf, dst, anic_mac);
	for (unsigned int i = ETH_HDR; i < size; i++)
		buf[i] = (unsigned char)i;
}

/* ---- peer, tx, rx (common/nic-loop.c) ---- */

static void tx_prepare(unsigned int size)
{
	for (unsigned int s = 0; s < ANIC_RING; s++)
		lab_frame(anic_tx_buffer(s), BCAST, size);
}

/*
 * Every free descriptor is queued (each slot's buffer holds the frame
 * already: zero copy), with doorbells along the way (anic_tx_queue_many), so
 * the device sends while the rest are queued.
 */
static long tx_batch(unsigned long most, unsigned int size)
{
	unsigned int room = anic_tx_free();
	if (room > most)
		room = most;
	if (room)
		anic_tx_queue_many(room, size);
	return room;
}

/* Everything queued has left when TX_HEAD has caught up. */
static void tx_drain(unsigned long start, unsigned long limit)
{
	for (unsigned long polls = 0; anic_tx_free() < ANIC_RING; polls++)
		if (polls % IDLE_POLLS == 0 && nic_now() - start > limit + TIMEOUT_TICKS)
			break;
}

static int tx_report(unsigned long sent)
{
	(void)sent;
	unsigned long errors = anic_tx_reap();
	console_puts(" errors ");
	console_put_dec(errors);
	return errors ? 1 : 0;
}

/* Descriptors the device flagged ERROR. */
static unsigned long rx_bad;

/* The next good frame, if one waits (bad ones are counted and given back). */
static unsigned int rx_one(void (*take)(const unsigned char *, unsigned int))
{
	const unsigned char *data;
	int n;
	while ((n = anic_rx_peek(&data)) < 0) {
		rx_bad++;
		anic_rx_done();
	}
	if (n == 0)
		return 0;
	take(data, n);
	anic_rx_done();
	return 1;
}

static void rx_irq(int on, unsigned long deadline)
{
	(void)deadline;
	if (on) {
		csr_write(CSR_MIE, (1UL << IRQ_ANIC) | (1UL << IRQ_M_TIMER));
		anic_rx_irq(1);
	} else {
		anic_rx_irq(0);
		csr_write(CSR_MIE, 0);
	}
}

/* Sleeps until the posted interrupt (a frame waits) or the deadline (mtimecmp); MIE stays 0, so no trap is taken. */
static int rx_wait(unsigned long deadline)
{
	*(volatile unsigned long *)CLINT_MTIMECMP(0) = deadline;
	__asm__ volatile("wfi");
	return 1;
}

static void rx_report(unsigned long got)
{
	(void)got;
	console_puts(" bad ");
	console_put_dec(rx_bad);
}

static void peer_send(const unsigned char *frame, unsigned int len)
{
	anic_tx_reap();
	if (anic_tx_free() == 0)
		return;
	anic_tx_queue(frame, len);
	anic_tx_kick();
}

/* Nothing the driver does exits: the clock does, so it is read once per CLOCK_EVERY frames or IDLE_POLLS empty polls. */
static const struct nic_ops anic_ops = {
	.peer_tag = "ANIC",
	.mac = anic_mac,
	.max_frame = ANIC_MAX_FRAME,
	.tx_limit = TIMEOUT_TICKS,
	.tx_clock_every = CLOCK_EVERY,
	.tx_idle_polls = IDLE_POLLS,
	.tx_prepare = tx_prepare,
	.tx_batch = tx_batch,
	.tx_drain = tx_drain,
	.tx_report = tx_report,
	.rx_clock_every = CLOCK_EVERY,
	.rx_idle_polls = IDLE_POLLS,
	.rx_poll = rx_one,
	.rx_irq = rx_irq,
	.rx_wait = rx_wait,
	.rx_report = rx_report,
	.peer_send = peer_send,
};

/* ---- hostile ---- */

/* Waits (bounded) until the device has taken everything queued. */
static void drain_tx(void)
{
	unsigned long start = nic_now();
	while (anic_tx_free() < ANIC_RING && (anic_status() & 1) && nic_now() - start < TIMEOUT_TICKS)
		;
}

/*
 * DMA outside this guest's RAM: a frame in the UART's window, one past the
 * end of RAM, one in the device's own register page. The IOMMU blocks each
 * (the device completes the descriptor with ERROR and goes on); a good frame
 * still goes out after them. Then a TX ring outside RAM: the device cannot
 * read its descriptors and stops (FAILED, error 5).
 */
static int hostile(unsigned long ram_end)
{
	for (int i = 0; i < 3; i++)
		anic_tx_queue_again(64);
	/* Point the three descriptors just queued at the bad addresses (the queue wrote their buffers' addresses). */
	anic_test_retarget(3, 0x10000000UL);
	anic_test_retarget(2, ram_end);
	anic_test_retarget(1, ANIC_BASE);
	lab_frame(anic_tx_buffer(3), BCAST, 64);
	anic_tx_queue_again(64);
	anic_tx_kick();
	drain_tx();
	unsigned long errors = anic_tx_reap();
	console_puts("hostile: ");
	console_put_dec(errors);
	console_puts(" of 4 frames refused, device ");
	console_puts(anic_status() & 1 ? "running" : "stopped");
	console_puts("\n");
	anic_test_tx_ring(ram_end);
	lab_frame(anic_tx_buffer(0), BCAST, 64);
	anic_tx_queue_again(64);
	anic_tx_kick();
	unsigned long start = nic_now();
	while (!(anic_status() & 2) && nic_now() - start < TIMEOUT_TICKS)
		;
	console_puts("hostile: ring outside RAM: status ");
	console_put_dec(anic_status());
	console_puts(" error ");
	console_put_dec(anic_error());
	console_puts("\n");
	return errors == 3 && anic_status() == 2 && anic_error() == 5 ? 0 : 1;
}

/* ---- memory ---- */

struct dt_scan {
	int in_memory;
	unsigned long ram_end;
};

static unsigned long be(const unsigned char *p, int cells)
{
	unsigned long v = 0;
	for (int i = 0; i < 4 * cells; i++)
		v = (v << 8) | p[i];
	return v;
}

/* A node name "base" or "base@unit". */
static int node_is(const char *name, const char *base)
{
	if (name == 0)
		return 0;
	while (*base && *name == *base)
		name++, base++;
	return *base == 0 && (*name == 0 || *name == '@');
}

static int scan(const struct fdt_event *ev, void *ctx)
{
	struct dt_scan *s = ctx;
	if (ev->kind == FDT_EVENT_BEGIN_NODE) {
		s->in_memory = ev->depth == 2 && node_is(ev->name, "memory");
		return 0;
	}
	if (ev->kind != FDT_EVENT_PROP)
		return 0;
	if (s->in_memory && fdt_name_is(ev->name, "reg") && ev->len >= 16)
		s->ram_end = be(ev->value, 2) + be(ev->value + 8, 2);
	return 0;
}

int main(unsigned long hartid, const void *fdt)
{
	struct dt_scan s = { 0, 0 };
	(void)hartid;
	fdt_walk(fdt, scan, &s);
	bootargs_copy(fdt, args, sizeof(args));
	int r = anic_init();
	if (r != 0) {
		console_puts(r == -1 ? "anic: no device at slot 0\n" : "anic: the device refused the rings\n");
		return 1;
	}
	console_puts("anic: mac ");
	console_put_mac(anic_mac);
	console_puts("\n");
	if (args_starts(args, "hostile"))
		return hostile(s.ram_end);
	r = nic_command(&anic_ops, args);
	if (r != NIC_NO_COMMAND)
		return r;
	console_puts("assigned-test: say peer, tx N SIZE, rx N or hostile in --append\n");
	return 1;
}
