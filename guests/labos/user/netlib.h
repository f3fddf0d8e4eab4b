/*
 * netlib.h: what netperf and ping share. Their argument is a comma-separated
 * list of words, in any order:
 *
 *   virtio-net | ne2000   the NIC (default: the first the kernel found)
 *   tx | rx               netperf's direction (default tx)
 *   52:54:00:12:34:0b     a peer's MAC (ping; otherwise it finds one)
 *   N                     the first number: frames (or pings); the second: bytes
 */
#ifndef LABOS_NETLIB_H
#define LABOS_NETLIB_H

#include "user.h"

#define ETH_HDR        14
#define ETH_MIN        60
#define ETH_MAX        1514
#define ETHERTYPE_LAB  0x88b5	/* IEEE's "local experimental" */

struct netarg {
	char kind[16];
	int rx;
	long num[2];
	int nnum;
	unsigned char peer[6];
	int have_peer;
};

/* Parses the argument; 0, or -1 after saying which word it did not understand. */
int net_args(const char *prog, const char *arg, struct netarg *a);
/* The NIC the argument names, its MAC in mac; -1 (and the "skipped" line) when there is none. */
int nic_open(const char *prog, const struct netarg *a, unsigned char mac[6]);
/* Writes "xx:xx:xx:xx:xx:xx" and a NUL into out[18]. */
void mac_str(const unsigned char mac[6], char out[18]);
/* An Ethernet header: to dst, from src, the lab's EtherType. */
void eth_header(unsigned char *f, const unsigned char dst[6], const unsigned char src[6]);

#endif
