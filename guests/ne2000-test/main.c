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
#include "nic-loop.h"
#include "ne2000.h"
#include "riscv.h"

#define ETHERTYPE_IP   0x0800
#define ETHERTYPE_ARP  0x0806
#define GATEWAY_IP     0x0a000202UL

/* The NE2000 in lab slot 0 is PLIC source 11. */
#define NE_IRQ             11
#define NE_ISR_PRX         0x01

static unsigned char tx[NE_MAX_FRAME];
static unsigned char rx[NE_MAX_FRAME];
static const unsigned char BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static char args[128];

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
	unsigned long start = nic_now(), sent = 0;
	for (;;) {
		if (sent == 0 || nic_now() - sent > RESEND_TICKS * 100) {
			ne_send(tx, len);
			sent = nic_now();
		}
		unsigned int n = ne_recv(rx, sizeof(rx));
		if (n && match(rx, n))
			return 1;
		if (nic_now() - start > TIMEOUT_TICKS)
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

/* ---- peer, tx, rx (common/nic-loop.c) ---- */

/* ne2000-test's driver for nic-loop.c: one frame per call, synchronously. */
static unsigned long tx_before;

static void tx_prepare(unsigned int size)
{
	unsigned char *payload = eth(BCAST, ETHERTYPE_LAB);
	for (unsigned long i = 0; i < size - ETH_HDR; i++)
		payload[i] = (unsigned char)i;
	tx_before = ne_mmio_accesses;
}

static long tx_one(unsigned long most, unsigned int size)
{
	(void)most;
	return ne_send(tx, size) == 0 ? 1 : -1;
}

static int tx_report(unsigned long sent)
{
	console_puts(" mmio per frame: ");
	console_put_dec(sent ? (ne_mmio_accesses - tx_before) / sent : 0);
	return 0;
}

/* Frames received and the driver's accesses for them. */
static unsigned long rx_frames, rx_accesses;

static unsigned int rx_one(void (*take)(const unsigned char *, unsigned int))
{
	unsigned long before = ne_mmio_accesses;
	unsigned int n = ne_recv(rx, sizeof(rx));
	if (n == 0)
		return 0;
	rx_frames++;
	rx_accesses += ne_mmio_accesses - before;
	take(rx, n);
	return 1;
}

/*
 * Interrupt-driven receive: the card's PRX goes to PLIC source 11, the PLIC
 * to mip.MEIP. mstatus.MIE stays 0, so wfi just returns once MEIP (or the
 * timer, our deadline) is pending, and no trap handler is needed; the claim
 * and complete keep the PLIC in step.
 */
static void rx_irq(int on, unsigned long deadline)
{
	(void)deadline;
	if (!on) {
		csr_write(CSR_MIE, 0);
		return;
	}
	nic_plic_enable(NE_IRQ);
	csr_write(CSR_MIE, (1UL << IRQ_M_EXT) | (1UL << IRQ_M_TIMER));
	ne_irq_mask(NE_ISR_PRX);
}

static int rx_wait(unsigned long deadline)
{
	*(volatile unsigned long *)CLINT_MTIMECMP(0) = deadline;
	__asm__ volatile("wfi");
	unsigned int src = nic_plic_claim();
	if (src)
		nic_plic_complete(src);
	return 1;
}

static void put_mmio_per_frame(void)
{
	console_put_dec(rx_frames ? rx_accesses / rx_frames : 0);
}

static void rx_report(unsigned long got)
{
	(void)got;
	console_puts(" mmio per frame: ");
	put_mmio_per_frame();
}

static void peer_send(const unsigned char *frame, unsigned int len)
{
	ne_send(frame, len);
}

static void peer_report(void)
{
	console_puts("; mmio per frame received: ");
	put_mmio_per_frame();
}

/* Every access exits under trap, the clock's too: one look per frame or empty poll adds little. */
static const struct nic_ops ne_ops = {
	.peer_tag = "NE2K",
	.mac = ne_mac,
	.max_frame = NE_MAX_FRAME,
	/* Without MS, all N frames however long they take (each transmit has its own timeout). */
	.tx_limit = ~0UL,
	.tx_clock_every = 1,
	.tx_prepare = tx_prepare,
	.tx_batch = tx_one,
	.tx_report = tx_report,
	.rx_clock_every = 1,
	.rx_idle_polls = 1,
	.rx_poll = rx_one,
	.rx_irq = rx_irq,
	.rx_wait = rx_wait,
	.rx_report = rx_report,
	.peer_send = peer_send,
	.peer_report = peer_report,
};

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
	int r = nic_command(&ne_ops, args);
	if (r != NIC_NO_COMMAND)
		return r;
	console_puts("ne2000-test: say gateway, peer, tx N SIZE or rx N in --append\n");
	return 1;
}
