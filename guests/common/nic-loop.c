/*
 * nic-loop.c: the peer, tx and rx runs of the bare-metal NIC test programs
 * (nic-loop.h), driven by each program's struct nic_ops.
 */
#include "nic-loop.h"
#include "console.h"
#include "nic-args.h"

#define PEER_FRAMES    20

#define PLIC_BASE          0x0c000000UL
#define PLIC_PRIORITY(s)   (PLIC_BASE + 4 * (s))
#define PLIC_ENABLE0       (PLIC_BASE + 0x2000)
#define PLIC_THRESHOLD0    (PLIC_BASE + 0x200000)
#define PLIC_CLAIM0        (PLIC_BASE + 0x200004)

static const unsigned char BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void put16(unsigned char *p, unsigned int v) { p[0] = v >> 8; p[1] = v & 0xff; }
static unsigned int get16(const unsigned char *p) { return (p[0] << 8) | p[1]; }
static void put32(unsigned char *p, unsigned long v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }
static unsigned long get32(const unsigned char *p) { return ((unsigned long)get16(p) << 16) | get16(p + 2); }

static volatile unsigned int *reg32(unsigned long addr)
{
	return (volatile unsigned int *)addr;
}

void nic_plic_enable(unsigned int source)
{
	*reg32(PLIC_PRIORITY(source)) = 1;
	*reg32(PLIC_ENABLE0) = 1U << source;
	*reg32(PLIC_THRESHOLD0) = 0;
}

unsigned int nic_plic_claim(void)
{
	return *reg32(PLIC_CLAIM0);
}

void nic_plic_complete(unsigned int source)
{
	*reg32(PLIC_CLAIM0) = source;
}

void nic_lab_header(unsigned char *f, const unsigned char *dst, const unsigned char *src)
{
	for (int i = 0; i < 6; i++) {
		f[i] = dst[i];
		f[6 + i] = src[i];
	}
	put16(f + 12, ETHERTYPE_LAB);
}

/* ---- peer ---- */

/* The run's NIC, for peer_take (rx_poll's callback has no context). */
static const struct nic_ops *peer_nic;
static unsigned long peer_got, peer_reports;
static unsigned char peer_mac[6];

/* Broadcasts our tag and how many frames we have from the peer. */
static void peer_send(void)
{
	unsigned char f[ETH_HDR + 8];
	nic_lab_header(f, BCAST, peer_nic->mac);
	for (int i = 0; i < 4; i++)
		f[ETH_HDR + i] = (unsigned char)peer_nic->peer_tag[i];
	put32(f + ETH_HDR + 4, peer_got);
	peer_nic->peer_send(f, ETH_HDR + 8);
}

/* Counts a peer's frame (not our own, which the switch may echo) and keeps its count of ours. */
static void peer_take(const unsigned char *f, unsigned int n)
{
	const unsigned char *p = f + ETH_HDR;
	const char *tag = peer_nic->peer_tag;
	if (n < ETH_HDR + 8 || get16(f + 12) != ETHERTYPE_LAB || p[0] != (unsigned char)tag[0] || p[3] != (unsigned char)tag[3])
		return;
	int self = 1;
	for (int i = 0; i < 6; i++)
		if (f[6 + i] != peer_nic->mac[i])
			self = 0;
	if (self)
		return;
	for (int i = 0; i < 6; i++)
		peer_mac[i] = f[6 + i];
	peer_got++;
	if (get32(p + 4) > peer_reports)
		peer_reports = get32(p + 4);
}

/* Until each side has PEER_FRAMES from the other and has heard the other has as many. */
static int peer(const struct nic_ops *o)
{
	peer_nic = o;
	unsigned long start = nic_now(), sent = 0;
	while (peer_got < PEER_FRAMES || peer_reports < PEER_FRAMES) {
		unsigned long t = nic_now();
		if (sent == 0 || t - sent > RESEND_TICKS) {
			peer_send();
			sent = t;
		}
		while (o->rx_poll(peer_take))
			;
		if (t - start > TIMEOUT_TICKS) {
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
	console_puts(" of ours");
	if (o->peer_report)
		o->peer_report();
	console_puts("\n");
	return 0;
}

/* ---- tx ---- */

/* tx N SIZE [MS]: N frames of SIZE bytes, for at most MS milliseconds (without MS, ops->tx_limit). */
static int transmit(const struct nic_ops *o, const char *p)
{
	unsigned long count = args_number(&p), size = args_number(&p), ms = args_number(&p);
	unsigned long limit = ms ? ms * (MTIME_HZ / 1000) : o->tx_limit;
	if (size < ETH_HDR || size > o->max_frame)
		size = 64;
	o->tx_prepare(size);
	unsigned long start = nic_now(), elapsed = 0, sent = 0, unclocked = 0, idle = 0;
	while (sent < count && elapsed < limit) {
		long n = o->tx_batch(count - sent, size);
		if (n < 0) {
			console_puts("tx: transmit error\n");
			return 1;
		}
		sent += n;
		unclocked += n;
		if (n)
			idle = 0;
		if (unclocked >= o->tx_clock_every || (o->tx_idle_polls && ++idle >= o->tx_idle_polls)) {
			elapsed = nic_now() - start;
			unclocked = 0;
			idle = 0;
		}
	}
	if (o->tx_drain)
		o->tx_drain(start, limit);
	unsigned long ticks = nic_now() - start;
	console_puts("tx: sent ");
	console_put_dec(sent);
	console_puts(" frames of ");
	console_put_dec(size);
	console_puts(" bytes in ");
	console_put_dec(ticks / (MTIME_HZ / 1000000));
	console_puts(" us;");
	int r = o->tx_report(sent);
	console_puts("\n");
	return r;
}

/* ---- rx ---- */

static unsigned long rx_got, rx_bytes;

static void rx_count(const unsigned char *f, unsigned int n)
{
	(void)f;
	rx_got++;
	rx_bytes += n;
}

/*
 * rx N [MS] [irq]: N frames, for at most MS ms after the first (the first
 * within TIMEOUT_TICKS). With the interrupt on, an empty poll sleeps in wfi
 * until the NIC's interrupt or the deadline (mtimecmp).
 */
static int receive(const struct nic_ops *o, const char *p)
{
	unsigned long count = args_number(&p), ms = args_number(&p);
	unsigned long limit = ms ? ms * (MTIME_HZ / 1000) : TIMEOUT_TICKS;
	while (*p == ' ')
		p++;
	int irq = o->rx_always_irq || args_starts(p, "irq");
	unsigned long start = nic_now(), first = 0, next_clock = 0, idle = 0, sleeps = 0;
	if (irq)
		o->rx_irq(1, start + TIMEOUT_TICKS);
	while (rx_got < count) {
		unsigned long before = rx_got;
		o->rx_poll(rx_count);
		if (rx_got != before) {
			if (before == 0) {
				first = nic_now();
				if (o->rx_started)
					o->rx_started(first + limit);
			}
			idle = 0;
			if (o->rx_clock_every == 0 || rx_got < next_clock)
				continue;
			next_clock = rx_got + o->rx_clock_every;
		} else if (!irq && ++idle < o->rx_idle_polls) {
			continue;
		}
		idle = 0;
		unsigned long deadline = rx_got ? first + limit : start + TIMEOUT_TICKS;
		if (nic_now() > deadline)
			break;
		if (irq && rx_got == before)
			sleeps += o->rx_wait(deadline);
	}
	unsigned long t = nic_now(), got = rx_got;
	if (irq)
		o->rx_irq(0, 0);
	console_puts("rx: got ");
	console_put_dec(got);
	console_puts(" frames, ");
	console_put_dec(rx_bytes);
	console_puts(" bytes in ");
	console_put_dec(got ? (t - first) / (MTIME_HZ / 1000000) : 0);
	console_puts(" us;");
	o->rx_report(got);
	if (irq) {
		console_puts("; slept in wfi ");
		console_put_dec(sleeps);
		console_puts(" times");
	}
	console_puts("\n");
	/* With a time limit, whatever arrived in it is the result. */
	return got == count || (ms && got) ? 0 : 1;
}

int nic_command(const struct nic_ops *ops, const char *args)
{
	if (args_starts(args, "peer"))
		return peer(ops);
	if (args_starts(args, "tx"))
		return transmit(ops, args + 2);
	if (args_starts(args, "rx"))
		return receive(ops, args + 2);
	return NIC_NO_COMMAND;
}
