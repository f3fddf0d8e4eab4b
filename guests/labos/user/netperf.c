/*
 * netperf: sends N raw Ethernet frames of S bytes through virtio-net
 * (argument `N` or `N,S`; default 200 frames of 1000 bytes), broadcast,
 * EtherType 0x88b5 (IEEE's "local experimental"), and prints frames, bytes
 * and guest time. Without a NIC it says so and passes.
 */
#include "user.h"

#define ETH_MAX 1514

int netperf_main(const char *arg)
{
	long n = arg_or(arg, 200), size = 1000;
	unsigned char mac[6], frame[ETH_MAX];
	struct timing t;

	for (const char *p = arg; p && *p; p++)
		if (*p == ',')
			size = arg_or(p + 1, 1000);
	if (size < 60 || size > ETH_MAX)
		size = 1000;
	long rx0 = netinfo(mac);
	if (rx0 < 0) {
		printf("netperf: no virtio-net, skipped\n");
		printf("pass netperf\n");
		return 0;
	}
	pin_here();
	for (int i = 0; i < 6; i++) {
		frame[i] = 0xff;
		frame[6 + i] = mac[i];
	}
	frame[12] = 0x88, frame[13] = 0xb5;
	for (long i = 14; i < size; i++)
		frame[i] = (unsigned char)i;
	timing_start(&t);
	for (long i = 0; i < n; i++)
		if (netsend(frame, size) < 0) {
			printf("fail netperf\n");
			return 1;
		}
	result("netperf", "send", (u64)n, &t);
	printf("netperf: sent %ld frames, %ld bytes, received %ld frames\n",
	       n, n * size, netinfo(mac) - rx0);
	printf("pass netperf\n");
	return 0;
}
