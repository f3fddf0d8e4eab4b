/*
 * ne2000-test: a bare-metal M-mode guest that drives the NE2000 on lab slot
 * 0 and talks to the virtual network. What it does is the first word of
 * /chosen/bootargs (popek run --append):
 *
 *   gateway      find QEMU's user gateway: ARP for 10.0.2.2, a DHCP lease
 *                (DISCOVER, OFFER, REQUEST, ACK), an ICMP echo to 10.0.2.2
 *   peer         exchange PEER_FRAMES lab frames with another guest on the
 *                same switch (each side reports how many it has received)
 *   tx N SIZE [MS]  send N frames of SIZE bytes (to a sink), for at most MS milliseconds
 *   rx N [MS] [irq] receive N frames (from a source), for at most MS ms after the first;
 *                   with irq, sleep in wfi until the card's PLIC interrupt instead of polling ISR
 *
 * It prints the driver's MMIO accesses per frame: each is a VM exit under
 * --virt trap. Exit 0 on success, 1 when the network did not answer in time.
 */
#include "console.h"
#include "fdt.h"
#include "nic-args.h"
#include "ne2000.h"
#include "riscv.h"

#define PEER_FRAMES    20
#define ETH_HDR        14
#define ETHERTYPE_IP   0x0800
#define ETHERTYPE_ARP  0x0806
#define ETHERTYPE_LAB  0x88b5
/* How long to wait for an answer, in mtime ticks (10 MHz). */
#define TIMEOUT_TICKS  (60UL * MTIME_HZ)
#define RESEND_TICKS   (MTIME_HZ / 200)
#define GATEWAY_IP     0x0a000202UL

/* PLIC (QEMU virt layout), context 0 = hart 0 in M-mode; the NE2000 in lab slot 0 is source 11. */
#define PLIC_BASE          0x0c000000UL
#define PLIC_PRIORITY(s)   (PLIC_BASE + 4 * (s))
#define PLIC_ENABLE0       (PLIC_BASE + 0x2000)
#define PLIC_THRESHOLD0    (PLIC_BASE + 0x200000)
#define PLIC_CLAIM0        (PLIC_BASE + 0x200004)
#define NE_IRQ             11
#define NE_ISR_PRX         0x01

static unsigned char tx[NE_MAX_FRAME];
static unsigned char rx[NE_MAX_FRAME];
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

static void put_ip(unsigned long ip)
{
	for (int i = 3; i >= 0; i--) {
		console_put_dec((ip >> (8 * i)) & 0xff);
		if (i)
			console_putc('.');
	}
}

static unsigned int checksum(const unsigned char *p, unsigned int len)
{
	unsigned long sum = 0;
	for (unsigned int i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (unsigned long)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* Ethernet header in tx; returns where the payload goes. */
static unsigned char *eth(const unsigned char *dst, unsigned int type)
{
	for (int i = 0; i < 6; i++) {
		tx[i] = dst[i];
		tx[6 + i] = ne_mac[i];
	}
	put16(tx + 12, type);
	return tx + ETH_HDR;
}

/* IPv4 header (20 bytes) for a payload of len bytes; returns where the payload goes. */
static unsigned char *ipv4(const unsigned char *dst_mac, unsigned long src, unsigned long dst, int proto, unsigned int len)
{
	unsigned char *ip = eth(dst_mac, ETHERTYPE_IP);
	for (int i = 0; i < 20; i++)
		ip[i] = 0;
	ip[0] = 0x45;
	put16(ip + 2, 20 + len);
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, checksum(ip, 20));
	return ip + 20;
}

/* Sends what `build` put in tx, until `match` accepts a received frame or the time runs out. */
static int exchange(unsigned int len, int (*match)(const unsigned char *, unsigned int))
{
	unsigned long start = now(), sent = 0;
	for (;;) {
		if (sent == 0 || now() - sent > RESEND_TICKS * 100) {
			ne_send(tx, len);
			sent = now();
		}
		unsigned int n = ne_recv(rx, sizeof(rx));
		if (n && match(rx, n))
			return 1;
		if (now() - start > TIMEOUT_TICKS)
			return 0;
	}
}

/* ---- gateway ---- */

static unsigned char gw_mac[6];
static unsigned long my_ip;
static unsigned long xid = 0x706f7065; /* "pope" */
static unsigned long offered, router, dns;

static int arp_reply(const unsigned char *f, unsigned int n)
{
	if (n < ETH_HDR + 28 || get16(f + 12) != ETHERTYPE_ARP || get16(f + 20) != 2 || get32(f + 28) != GATEWAY_IP)
		return 0;
	for (int i = 0; i < 6; i++)
		gw_mac[i] = f[22 + i];
	return 1;
}

static unsigned int arp_request(void)
{
	unsigned char *a = eth(BCAST, ETHERTYPE_ARP);
	put16(a, 1);
	put16(a + 2, ETHERTYPE_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);
	for (int i = 0; i < 6; i++) {
		a[8 + i] = ne_mac[i];
		a[18 + i] = 0;
	}
	put32(a + 14, my_ip);
	put32(a + 24, GATEWAY_IP);
	return ETH_HDR + 28;
}

/* A DHCP message of `type`, optionally requesting `want`. */
static unsigned int dhcp_message(int type, unsigned long want)
{
	unsigned int len = 240 + 3 + (want ? 6 : 0) + 1;
	unsigned char *m = ipv4(BCAST, 0, 0xffffffffUL, 17, 8 + len) + 8;
	unsigned char *udp = m - 8;
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, 8 + len);
	put16(udp + 6, 0);
	for (unsigned int i = 0; i < len; i++)
		m[i] = 0;
	m[0] = 1;
	m[1] = 1;
	m[2] = 6;
	put32(m + 4, xid);
	for (int i = 0; i < 6; i++)
		m[28 + i] = ne_mac[i];
	put32(m + 236, 0x63825363UL);
	unsigned char *o = m + 240;
	*o++ = 53; *o++ = 1; *o++ = type;
	if (want) {
		*o++ = 50; *o++ = 4;
		put32(o, want);
		o += 4;
	}
	*o = 255;
	return ETH_HDR + 20 + 8 + len;
}

static int dhcp_type;

/* A DHCP reply for us: its type in dhcp_type, the offer and options read. */
static int dhcp_reply(const unsigned char *f, unsigned int n)
{
	const unsigned char *ip = f + ETH_HDR, *m = ip + 28;
	if (n < ETH_HDR + 28 + 240 || get16(f + 12) != ETHERTYPE_IP || ip[9] != 17 || get16(ip + 22) != 68 || get32(m + 4) != xid)
		return 0;
	offered = get32(m + 16);
	for (const unsigned char *o = m + 240; o + 2 <= f + n && *o != 255; o += o[0] ? 2 + o[1] : 1) {
		if (o[0] == 0)
			continue;
		if (o + 2 + o[1] > f + n)
			break;
		if (o[0] == 53)
			dhcp_type = o[2];
		if (o[0] == 3 && o[1] >= 4)
			router = get32(o + 2);
		if (o[0] == 6 && o[1] >= 4)
			dns = get32(o + 2);
	}
	return 1;
}

static int echo_reply(const unsigned char *f, unsigned int n)
{
	const unsigned char *ip = f + ETH_HDR;
	return n >= ETH_HDR + 28 && get16(f + 12) == ETHERTYPE_IP && ip[9] == 1 && ip[20] == 0 && get32(ip + 12) == GATEWAY_IP && get16(ip + 24) == 0x4242;
}

static int gateway(void)
{
	if (!exchange(arp_request(), arp_reply)) {
		console_puts("gateway: no ARP reply from 10.0.2.2\n");
		return 1;
	}
	console_puts("gateway: 10.0.2.2 is at ");
	console_put_mac(gw_mac);
	console_puts("\n");
	if (!exchange(dhcp_message(1, 0), dhcp_reply) || dhcp_type != 2) {
		console_puts("dhcp: no offer\n");
		return 1;
	}
	console_puts("dhcp: offer ");
	put_ip(offered);
	console_puts("\n");
	if (!exchange(dhcp_message(3, offered), dhcp_reply) || dhcp_type != 5) {
		console_puts("dhcp: no ack\n");
		return 1;
	}
	my_ip = offered;
	console_puts("dhcp: lease ");
	put_ip(my_ip);
	console_puts(" router ");
	put_ip(router);
	console_puts(" dns ");
	put_ip(dns);
	console_puts("\n");
	unsigned char *icmp = ipv4(gw_mac, my_ip, GATEWAY_IP, 1, 16);
	for (int i = 0; i < 16; i++)
		icmp[i] = i;
	icmp[0] = 8;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, 0x4242);
	put16(icmp + 6, 1);
	put16(icmp + 2, checksum(icmp, 16));
	if (!exchange(ETH_HDR + 20 + 16, echo_reply)) {
		console_puts("ping: no reply\n");
		return 1;
	}
	console_puts("ping: reply from 10.0.2.2\n");
	return 0;
}

/* ---- peer ---- */

static unsigned long peer_got, peer_reports;
static unsigned char peer_mac[6];

static void peer_send(void)
{
	unsigned char *p = eth(BCAST, ETHERTYPE_LAB);
	p[0] = 'N'; p[1] = 'E'; p[2] = '2'; p[3] = 'K';
	put32(p + 4, peer_got);
	ne_send(tx, ETH_HDR + 8);
}

static void peer_take(const unsigned char *f, unsigned int n)
{
	const unsigned char *p = f + ETH_HDR;
	if (n < ETH_HDR + 8 || get16(f + 12) != ETHERTYPE_LAB || p[0] != 'N' || p[3] != 'K')
		return;
	int self = 1;
	for (int i = 0; i < 6; i++)
		if (f[6 + i] != ne_mac[i])
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
	unsigned long frames = 0, accesses = 0;
	while (peer_got < PEER_FRAMES || peer_reports < PEER_FRAMES) {
		if (sent == 0 || now() - sent > RESEND_TICKS) {
			peer_send();
			sent = now();
		}
		unsigned long before = ne_mmio_accesses;
		unsigned int n = ne_recv(rx, sizeof(rx));
		if (n) {
			peer_take(rx, n);
			frames++;
			accesses += ne_mmio_accesses - before;
		}
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
	console_puts(" of ours; mmio per frame received: ");
	console_put_dec(frames ? accesses / frames : 0);
	console_puts("\n");
	return 0;
}

/* ---- tx / rx ---- */

static int transmit(const char *p)
{
	unsigned long count = args_number(&p), size = args_number(&p), ms = args_number(&p);
	/* Without MS, all N frames however long they take (each transmit has its own timeout). */
	unsigned long limit = ms ? ms * (MTIME_HZ / 1000) : ~0UL;
	if (size < ETH_HDR || size > NE_MAX_FRAME)
		size = 64;
	unsigned char *payload = eth(BCAST, ETHERTYPE_LAB);
	for (unsigned long i = 0; i < size - ETH_HDR; i++)
		payload[i] = (unsigned char)i;
	unsigned long before = ne_mmio_accesses, start = now();
	unsigned long sent = 0;
	for (; sent < count && now() - start < limit; sent++)
		if (ne_send(tx, size) != 0) {
			console_puts("tx: transmit error\n");
			return 1;
		}
	unsigned long ticks = now() - start;
	console_puts("tx: sent ");
	console_put_dec(sent);
	console_puts(" frames of ");
	console_put_dec(size);
	console_puts(" bytes in ");
	console_put_dec(ticks / (MTIME_HZ / 1000000));
	console_puts(" us; mmio per frame: ");
	console_put_dec(sent ? (ne_mmio_accesses - before) / sent : 0);
	console_puts("\n");
	return 0;
}

static volatile unsigned int *reg32(unsigned long addr)
{
	return (volatile unsigned int *)addr;
}

/*
 * Interrupt-driven receive: the card's PRX goes to PLIC source 11, the PLIC
 * to mip.MEIP. mstatus.MIE stays 0, so wfi just returns once MEIP (or the
 * timer, our deadline) is pending, and no trap handler is needed; the claim
 * and complete keep the PLIC in step.
 */
static void irq_setup(void)
{
	*reg32(PLIC_PRIORITY(NE_IRQ)) = 1;
	*reg32(PLIC_ENABLE0) = 1U << NE_IRQ;
	*reg32(PLIC_THRESHOLD0) = 0;
	csr_write(CSR_MIE, (1UL << IRQ_M_EXT) | (1UL << IRQ_M_TIMER));
	ne_irq_mask(NE_ISR_PRX);
}

/* Times the receiver slept in wfi. */
static unsigned long sleeps;

static void irq_wait(unsigned long deadline)
{
	sleeps++;
	*(volatile unsigned long *)CLINT_MTIMECMP(0) = deadline;
	__asm__ volatile("wfi");
	unsigned int src = *reg32(PLIC_CLAIM0);
	if (src)
		*reg32(PLIC_CLAIM0) = src;
}

static int receive(const char *p)
{
	unsigned long count = args_number(&p), ms = args_number(&p), got = 0, bytes = 0, accesses = 0;
	unsigned long limit = ms ? ms * (MTIME_HZ / 1000) : TIMEOUT_TICKS;
	unsigned long start = now(), first = 0;
	while (*p == ' ')
		p++;
	int irq = args_starts(p, "irq");
	if (irq)
		irq_setup();
	while (got < count) {
		unsigned long before = ne_mmio_accesses;
		unsigned int n = ne_recv(rx, sizeof(rx));
		if (n) {
			if (got == 0)
				first = now();
			got++;
			bytes += n;
			accesses += ne_mmio_accesses - before;
		}
		unsigned long deadline = got ? first + limit : start + TIMEOUT_TICKS;
		if (now() > deadline)
			break;
		if (irq && !n)
			irq_wait(deadline);
	}
	if (irq)
		csr_write(CSR_MIE, 0);
	console_puts("rx: got ");
	console_put_dec(got);
	console_puts(" frames, ");
	console_put_dec(bytes);
	console_puts(" bytes in ");
	console_put_dec(got ? (now() - first) / (MTIME_HZ / 1000000) : 0);
	console_puts(" us; mmio per frame: ");
	console_put_dec(got ? accesses / got : 0);
	if (irq) {
		console_puts("; slept in wfi ");
		console_put_dec(sleeps);
		console_puts(" times");
	}
	console_puts("\n");
	/* With a time limit, whatever arrived in it is the result. */
	return got == count || (ms && got) ? 0 : 1;
}

/* ---- main ---- */

int main(unsigned long hartid, const void *fdt)
{
	(void)hartid;
	bootargs_copy(fdt, args, sizeof(args));
	if (ne_init() != 0) {
		console_puts("ne2000: no card at slot 0\n");
		return 1;
	}
	console_puts("ne2000: mac ");
	console_put_mac(ne_mac);
	console_puts(", init took ");
	console_put_dec(ne_mmio_accesses);
	console_puts(" mmio accesses\n");
	if (args_starts(args, "gateway"))
		return gateway();
	if (args_starts(args, "peer"))
		return peer();
	if (args_starts(args, "tx"))
		return transmit(args + 2);
	if (args_starts(args, "rx"))
		return receive(args + 2);
	console_puts("ne2000-test: say gateway, peer, tx N SIZE or rx N in --append\n");
	return 1;
}
