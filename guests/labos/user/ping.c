/*
 * ping: frames back and forth with another VM on the same network, by MAC
 * (argument in netlib.h: the NIC, the peer's MAC, N pings; default 10).
 * Both VMs run ping; each sends N requests, one at a time, to the other,
 * answers the other's requests, and times the round trips.
 *
 * The frames are EtherType 0x88b5 with a payload of "LPNG", a type and a
 * sequence number. Without the peer's MAC a VM broadcasts HELLO until it
 * hears from another MAC: a HELLO or a request tells it who the peer is.
 * Once a VM has all its replies it sends DONE, and keeps answering until
 * the peer's DONE arrives: then neither needs the other any more. A
 * request, or a DONE, not answered within RESEND_TICKS goes out again.
 */
#include "netlib.h"

#define RESEND_TICKS  10	/* 100 ms */
#define GIVE_UP_TICKS 6000	/* a minute without a word from the peer */

enum { HELLO = 1, REQUEST, REPLY, DONE };

struct ping {
	int nic;
	unsigned char me[6], peer[6];
	int have_peer;
	long n, replies, answered;
	int waiting_reply, done_sent, peer_done;
	unsigned char frame[ETH_MIN];
};

static void send_msg(struct ping *p, const unsigned char *to, int type, long seq)
{
	unsigned char *m = p->frame + ETH_HDR;

	eth_header(p->frame, to, p->me);
	m[0] = 'L', m[1] = 'P', m[2] = 'N', m[3] = 'G';
	m[4] = (unsigned char)type;
	for (int i = 0; i < 4; i++)
		m[5 + i] = (unsigned char)(seq >> (8 * i));
	netsend(p->nic, p->frame, ETH_MIN);
}

/* What is due now: a HELLO while no peer is known, else the next request, else DONE. */
static void send_due(struct ping *p)
{
	static const unsigned char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (!p->have_peer)
		send_msg(p, bcast, HELLO, 0);
	else if (p->replies < p->n && !p->waiting_reply)
		send_msg(p, p->peer, REQUEST, p->replies), p->waiting_reply = 1;
	else if (p->replies == p->n && !p->done_sent)
		send_msg(p, p->peer, DONE, 0), p->done_sent = 1;
}

static int same_mac(const unsigned char *a, const unsigned char *b)
{
	for (int i = 0; i < 6; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* One frame in: learn the peer, answer a request, count a reply. */
static void take(struct ping *p, const unsigned char *f, long len)
{
	const unsigned char *m = f + ETH_HDR, *from = f + 6;

	if (len < ETH_HDR + 9 || f[12] != ETHERTYPE_LAB >> 8 || f[13] != (ETHERTYPE_LAB & 0xff) ||
	    m[0] != 'L' || m[1] != 'P' || m[2] != 'N' || m[3] != 'G' || same_mac(from, p->me))
		return;	/* netperf's frames, our own broadcasts, strangers */
	if (!p->have_peer && (m[4] == HELLO || m[4] == REQUEST)) {
		for (int i = 0; i < 6; i++)
			p->peer[i] = from[i];
		p->have_peer = 1;
	}
	if (!p->have_peer || !same_mac(from, p->peer))
		return;
	long seq = m[5] | m[6] << 8 | m[7] << 16 | (long)m[8] << 24;
	if (m[4] == REQUEST) {
		send_msg(p, p->peer, REPLY, seq);
		p->answered++;
	} else if (m[4] == REPLY && p->waiting_reply && seq == p->replies) {
		p->replies++;
		p->waiting_reply = 0;
	} else if (m[4] == DONE) {
		p->peer_done = 1;
	}
}

int ping_main(const char *arg)
{
	static struct ping p;
	struct netarg a;
	struct timing t;
	unsigned char f[ETH_MAX];
	char peer[18];

	if (net_args("ping", arg, &a) < 0) {
		printf("fail ping\n");
		return 1;
	}
	p.n = a.nnum > 0 ? a.num[0] : 10;
	if ((p.nic = nic_open("ping", &a, p.me)) < 0) {
		printf("pass ping\n");
		return 0;
	}
	for (int i = 0; i < 6; i++)
		p.peer[i] = a.peer[i];
	p.have_peer = a.have_peer;
	pin_here();
	long quiet = 0;
	int timed = 0;
	while (!(p.replies == p.n && p.peer_done) && quiet < GIVE_UP_TICKS) {
		if (p.have_peer && !timed) {
			timing_start(&t);	/* from the first request: not the wait for the peer */
			timed = 1;
		}
		send_due(&p);
		long len = netrecv(p.nic, f, sizeof(f), RESEND_TICKS);
		if (len > 0) {
			take(&p, f, len);
			quiet = 0;
			continue;
		}
		quiet += RESEND_TICKS;	/* nothing: send again what is still unanswered */
		p.waiting_reply = 0;
		if (!p.peer_done)
			p.done_sent = 0;
	}
	send_due(&p);	/* our DONE, if the peer's came before we had sent it */
	if (p.replies < p.n || !p.peer_done) {
		printf("ping: %ld of %ld replies, no answer for a minute\n", p.replies, p.n);
		printf("fail ping\n");
		return 1;
	}
	result("ping", "rtt", (u64)p.n, &t);
	mac_str(p.peer, peer);
	printf("ping: %ld replies from %s\n", p.n, peer);
	printf("pass ping\n");
	/*
	 * Linger before the machine powers off: our last DONE may still sit in
	 * the NIC's transmit queue, and a device model that sends asynchronously
	 * (QEMU's) loses it with the machine. A peer without our DONE sends its
	 * own again every RESEND_TICKS; answer each with ours until it is quiet.
	 */
	for (long idle = 0; idle < 3 * RESEND_TICKS;) {
		if (netrecv(p.nic, f, sizeof(f), RESEND_TICKS) > 0) {
			p.done_sent = 0;
			send_due(&p);
		} else {
			idle += RESEND_TICKS;
		}
	}
	return 0;
}
