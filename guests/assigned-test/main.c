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
#include "riscv.h"

#define PEER_FRAMES    20
#define ETH_HDR        14
#define ETHERTYPE_LAB  0x88b5
#define TIMEOUT_TICKS  (60UL * MTIME_HZ)
#define RESEND_TICKS   (MTIME_HZ / 200)
/* Frames between two looks at the clock while sending or receiving flat out, */
#define CLOCK_EVERY    1024
/* and empty polls of the device between two looks while waiting for it (the clock is an exit, the device's page is not). */
#define IDLE_POLLS     100000

static unsigned char frame[ANIC_MAX_FRAME];
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

/* A lab frame of `size` bytes from us to `dst` in buf; returns where the payload starts. */
static unsigned char *lab_frame(unsigned char *buf, const unsigned char *dst, unsigned int size)
{
	for (int i = 0; i < 6; i++) {
		buf[i] = dst[i];
		buf[6 + i] = anic_mac[i];
	}
	put16(buf + 12, ETHERTYPE_LAB);
	for (unsigned int i = ETH_HDR; i < size; i++)
		buf[i] = (unsigned char)i;
	return buf + ETH_HDR;
}

/* ---- peer ---- */

static unsigned long peer_got, peer_reports;
static unsigned char peer_mac[6];

static void peer_send(void)
{
	if (anic_tx_free() == 0)
		return;
	unsigned char *p = lab_frame(frame, BCAST, ETH_HDR + 8);
	p[0] = 'A'; p[1] = 'N'; p[2] = 'I'; p[3] = 'C';
	put32(p + 4, peer_got);
	anic_tx_queue(frame, ETH_HDR + 8);
	anic_tx_kick();
}

static void peer_take(const unsigned char *f, unsigned int n)
{
	const unsigned char *p = f + ETH_HDR;
	if (n < ETH_HDR + 8 || get16(f + 12) != ETHERTYPE_LAB || p[0] != 'A' || p[3] != 'C')
		return;
	int self = 1;
	for (int i = 0; i < 6; i++)
		if (f[6 + i] != anic_mac[i])
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
		unsigned long t = now();
		if (sent == 0 || t - sent > RESEND_TICKS) {
			anic_tx_reap();
			peer_send();
			sent = t;
		}
		const unsigned char *data;
		int n;
		while ((n = anic_rx_peek(&data)) != 0) {
			if (n > 0)
				peer_take(data, n);
			anic_rx_done();
		}
		if (t - start > TIMEOUT_TICKS) {
			console_puts("peer: timed out, got ");
			console_put_dec(peer_got);
			console_puts("\n");
			return 1;
		}
	}
	/* Our last count reaches the peer even if it finished first. */
	for (int i = 0; i < 3; i++) {
		anic_tx_reap();
		peer_send();
	}
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

/*
 * Sends flat out: every free descriptor is queued (each slot's buffer holds
 * the frame already: zero copy), with doorbells along the way
 * (anic_tx_queue_many).
 */
static int transmit(const char *p)
{
	unsigned long count = args_number(&p), size = args_number(&p), ms = args_number(&p);
	unsigned long limit = ms ? ms * (MTIME_HZ / 1000) : TIMEOUT_TICKS;
	if (size < ETH_HDR || size > ANIC_MAX_FRAME)
		size = 64;
	for (unsigned int s = 0; s < ANIC_RING; s++)
		lab_frame(anic_tx_buffer(s), BCAST, size);
	unsigned long start = now(), elapsed = 0, queued = 0, next_clock = CLOCK_EVERY, idle = 0;
	while (queued < count && elapsed < limit) {
		unsigned int room = anic_tx_free();
		if (room > count - queued)
			room = count - queued;
		if (room) {
			anic_tx_queue_many(room, size);
			queued += room;
			idle = 0;
		}
		if (queued >= next_clock || ++idle >= IDLE_POLLS) {
			elapsed = now() - start;
			next_clock = queued + CLOCK_EVERY;
			idle = 0;
		}
	}
	/* Everything queued has left when TX_HEAD has caught up. */
	for (unsigned long polls = 0; anic_tx_free() < ANIC_RING; polls++)
		if (polls % IDLE_POLLS == 0 && now() - start > limit + TIMEOUT_TICKS)
			break;
	unsigned long ticks = now() - start;
	unsigned long errors = anic_tx_reap();
	console_puts("tx: sent ");
	console_put_dec(queued);
	console_puts(" frames of ");
	console_put_dec(size);
	console_puts(" bytes in ");
	console_put_dec(ticks / (MTIME_HZ / 1000000));
	console_puts(" us; errors ");
	console_put_dec(errors);
	console_puts("\n");
	return errors ? 1 : 0;
}

static unsigned long sleeps;

/* Sleeps until the posted interrupt (a frame waits) or the deadline (mtimecmp); MIE stays 0, so no trap is taken. */
static void irq_wait(unsigned long deadline)
{
	sleeps++;
	*(volatile unsigned long *)CLINT_MTIMECMP(0) = deadline;
	__asm__ volatile("wfi");
}

static int receive(const char *p)
{
	unsigned long count = args_number(&p), ms = args_number(&p), got = 0, bytes = 0, bad = 0;
	unsigned long limit = ms ? ms * (MTIME_HZ / 1000) : TIMEOUT_TICKS;
	while (*p == ' ')
		p++;
	int irq = args_starts(p, "irq");
	if (irq) {
		csr_write(CSR_MIE, (1UL << IRQ_ANIC) | (1UL << IRQ_M_TIMER));
		anic_rx_irq(1);
	}
	unsigned long start = now(), first = 0, t = start, next_clock = 0, idle = 0;
	while (got < count) {
		const unsigned char *data;
		int n = anic_rx_peek(&data);
		if (n != 0) {
			if (n > 0) {
				if (got == 0)
					first = now();
				got++;
				bytes += n;
			} else {
				bad++;
			}
			anic_rx_done();
			idle = 0;
			if (got < next_clock)
				continue;
			next_clock = got + CLOCK_EVERY;
		} else if (!irq && ++idle < IDLE_POLLS) {
			continue;
		}
		idle = 0;
		t = now();
		unsigned long deadline = got ? first + limit : start + TIMEOUT_TICKS;
		if (t > deadline)
			break;
		if (irq && n == 0)
			irq_wait(deadline);
	}
	t = now();
	if (irq) {
		anic_rx_irq(0);
		csr_write(CSR_MIE, 0);
	}
	console_puts("rx: got ");
	console_put_dec(got);
	console_puts(" frames, ");
	console_put_dec(bytes);
	console_puts(" bytes in ");
	console_put_dec(got ? (t - first) / (MTIME_HZ / 1000000) : 0);
	console_puts(" us; bad ");
	console_put_dec(bad);
	if (irq) {
		console_puts("; slept in wfi ");
		console_put_dec(sleeps);
		console_puts(" times");
	}
	console_puts("\n");
	return got == count || (ms && got) ? 0 : 1;
}

/* ---- hostile ---- */

/* Waits (bounded) until the device has taken everything queued. */
static void drain_tx(void)
{
	unsigned long start = now();
	while (anic_tx_free() < ANIC_RING && (anic_status() & 1) && now() - start < TIMEOUT_TICKS)
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
	unsigned long start = now();
	while (!(anic_status() & 2) && now() - start < TIMEOUT_TICKS)
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
	if (args_starts(args, "peer"))
		return peer();
	if (args_starts(args, "tx"))
		return transmit(args + 2);
	if (args_starts(args, "rx"))
		return receive(args + 2);
	if (args_starts(args, "hostile"))
		return hostile(s.ram_end);
	console_puts("assigned-test: say peer, tx N SIZE, rx N or hostile in --append\n");
	return 1;
}
