/*
 * cpubench: the compute loop of guests/cpubench (CRC32 and a 64-bit
 * multiply-accumulate over a 64 KiB buffer from a fixed xorshift seed), in
 * a process, on a heap buffer. The checksum depends only on the number of
 * passes (the argument; default 8, about 6 M instructions), so every
 * correct machine prints the same one.
 */
#include "user.h"

#define BUF_BYTES   (64 * 1024)
#define BUF_WORDS   (BUF_BYTES / 8)
#define CRC32_POLY  0xEDB88320u
#define XORSHIFT_SEED 0x2545F4914F6CDD1DUL
#define MAC_FACTOR  0x9E3779B97F4A7C15UL

static unsigned int crc_table[256];

static void build_crc_table(void)
{
	for (unsigned int i = 0; i < 256; i++) {
		unsigned int c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32_POLY : c >> 1;
		crc_table[i] = c;
	}
}

static void fill(u64 *buf)
{
	u64 x = XORSHIFT_SEED;

	for (int i = 0; i < BUF_WORDS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = x;
	}
}

int cpubench_main(const char *arg)
{
	long passes = arg_or(arg, 8);
	u64 *buf = sbrk(BUF_BYTES);
	unsigned int crc = 0xffffffffu;
	u64 acc = 0;
	struct timing t;

	if (buf == (u64 *)-1)
		return 1;
	pin_here();
	build_crc_table();
	fill(buf);
	timing_start(&t);
	for (long pass = 0; pass < passes; pass++) {
		const unsigned char *p = (const unsigned char *)buf;
		for (int i = 0; i < BUF_BYTES; i++)
			crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
		for (int i = 0; i < BUF_WORDS; i++)
			acc += (buf[i] ^ (u64)pass) * MAC_FACTOR;
	}
	result("cpubench", "loop", (u64)passes, &t);
	u64 checksum = acc ^ ((u64)~crc << 32) ^ ~crc;
	printf("cpubench: passes %ld checksum %lx\n", passes, checksum);
	printf("pass cpubench\n");
	return 0;
}
