/* netlib.c: the argument, the NIC and the Ethernet header that netperf and ping share (netlib.h). */
#include "netlib.h"

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "52:54:00:12:34:0b" (one or two hex digits a byte) into mac; 0, or -1. */
static int parse_mac(const char *w, unsigned char mac[6])
{
	for (int i = 0; i < 6; i++) {
		int v = 0, digits = 0;
		for (; hexval(*w) >= 0 && digits < 2; w++, digits++)
			v = v * 16 + hexval(*w);
		if (digits == 0 || (i < 5 && *w++ != ':'))
			return -1;
		mac[i] = (unsigned char)v;
	}
	return *w == 0 ? 0 : -1;
}

static int word(const char *w, struct netarg *a)
{
	if (strcmp(w, "rx") == 0 || strcmp(w, "tx") == 0) {
		a->rx = w[0] == 'r';
	} else if (strcmp(w, "virtio-net") == 0 || strcmp(w, "ne2000") == 0 ||
		   strcmp(w, "assigned") == 0) {
		for (int i = 0; (a->kind[i] = w[i]) != 0; i++)
			;
	} else if (is_digit(w[0]) && a->nnum < 2 && atol(w) > 0 && parse_mac(w, a->peer) < 0) {
		a->num[a->nnum++] = atol(w);
	} else if (parse_mac(w, a->peer) == 0) {
		a->have_peer = 1;
	} else {
		return -1;
	}
	return 0;
}

int net_args(const char *prog, const char *arg, struct netarg *a)
{
	char w[24];
	int n = 0;

	*a = (struct netarg){ 0 };
	for (const char *p = arg ? arg : "";; p++) {
		if (*p != ',' && *p != 0) {
			if (n < (int)sizeof(w) - 1)
				w[n++] = *p;
			continue;
		}
		w[n] = 0;
		if (n > 0 && word(w, a) < 0) {
			printf("%s: what is \"%s\"? (see guests/labos/README.md)\n", prog, w);
			return -1;
		}
		n = 0;
		if (*p == 0)
			return 0;
	}
}

int nic_open(const char *prog, const struct netarg *a, unsigned char mac[6])
{
	u64 st[3];
	int nic = netfind(a->kind);

	if (nic < 0 || netinfo(nic, mac, st) < 0) {
		printf("%s: no %s NIC, skipped\n", prog, a->kind[0] ? a->kind : "network");
		return -1;
	}
	return nic;
}

void mac_str(const unsigned char mac[6], char out[18])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 6; i++) {
		out[3 * i] = hex[mac[i] >> 4];
		out[3 * i + 1] = hex[mac[i] & 15];
		out[3 * i + 2] = i < 5 ? ':' : 0;
	}
}

void eth_header(unsigned char *f, const unsigned char dst[6], const unsigned char src[6])
{
	for (int i = 0; i < 6; i++) {
		f[i] = dst[i];
		f[6 + i] = src[i];
	}
	f[12] = ETHERTYPE_LAB >> 8;
	f[13] = ETHERTYPE_LAB & 0xff;
}
