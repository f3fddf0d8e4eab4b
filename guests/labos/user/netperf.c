/*
 * netperf: raw Ethernet frames through a NIC (netlib.h has the argument:
 * the NIC, tx or rx, frames N, bytes S; default tx, 200 frames of 1000).
 *
 *   tx  sends N broadcast frames of S bytes, EtherType 0x88b5, as fast as
 *       the driver takes them (a sink on the other end counts them)
 *   rx  receives N frames (from a source, or another VM's tx), timed from
 *       the first to the last
 *
 * Without a NIC it says so and passes.
 */
#include "netlib.h"

#define RX_IDLE_TICKS 3000	/* 30 s without a frame: the sender is not there */

static int send_frames(int nic, const unsigned char mac[6], long n, long size)
{
	static const unsigned char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	unsigned char frame[ETH_MAX];
	struct timing t;
	u64 st[3];

	eth_header(frame, bcast, mac);
	for (long i = ETH_HDR; i < size; i++)
		frame[i] = (unsigned char)i;
	timing_start(&t);
	for (long i = 0; i < n; i++)
		if (netsend(nic, frame, size) < 0)
			return -1;
	result("netperf", "send", (u64)n, &t);
	netinfo(nic, frame, st);
	printf("netperf: sent %ld frames, %ld bytes, received %ld frames\n", n, n * size, (long)st[0]);
	return 0;
}

static int receive_frames(int nic, long n)
{
	unsigned char frame[ETH_MAX];
	struct timing t;
	long got = 0, bytes = 0;
	u64 st0[3], st[3];

	netinfo(nic, frame, st0);
	while (got < n) {
		long len = netrecv(nic, frame, sizeof(frame), RX_IDLE_TICKS);
		if (len <= 0)
			break;
		if (got == 0)
			timing_start(&t);	/* from the first frame: not the wait for the sender */
		got++;
		bytes += len;
	}
	netinfo(nic, frame, st);
	if (got > 1)
		result("netperf", "recv", (u64)(got - 1), &t);
	printf("netperf: received %ld frames, %ld bytes, dropped %ld\n", got, bytes,
	       (long)(st[1] - st0[1]));
	return got == n ? 0 : -1;
}

int netperf_main(const char *arg)
{
	struct netarg a;
	unsigned char mac[6];

	if (net_args("netperf", arg, &a) < 0) {
		printf("fail netperf\n");
		return 1;
	}
	long n = a.nnum > 0 ? a.num[0] : 200, size = a.nnum > 1 ? a.num[1] : 1000;
	if (size < ETH_MIN || size > ETH_MAX)
		size = 1000;
	int nic = nic_open("netperf", &a, mac);
	if (nic < 0) {
		printf("pass netperf\n");
		return 0;
	}
	pin_here();
	if ((a.rx ? receive_frames(nic, n) : send_frames(nic, mac, n, size)) < 0) {
		printf("fail netperf\n");
		return 1;
	}
	printf("pass netperf\n");
	return 0;
}
