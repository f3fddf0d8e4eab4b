/*
 * cpubench: a fixed compute load for measuring a hart's speed.
 *
 * PASSES rounds of (CRC32 over a 64 KiB buffer, table-driven, reflected
 * polynomial 0xEDB88320) plus a 64-bit multiply-accumulate over the same
 * buffer. The buffer is filled from a fixed xorshift seed, so the checksum is
 * the same on every run and every correct machine. The loop retires about
 * 300 million instructions; minstret is read around it.
 */
#include "riscv.h"
#include "console.h"

#define BUF_BYTES   (64 * 1024)
#define BUF_WORDS   (BUF_BYTES / 8)
#define PASSES      390
#define CRC32_POLY  0xEDB88320u
#define XORSHIFT_SEED 0x2545F4914F6CDD1DUL
#define MAC_FACTOR  0x9E3779B97F4A7C15UL   /* 2^64 / golden ratio, odd */

static unsigned long buf[BUF_WORDS];
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

static void fill_buffer(void)
{
	unsigned long x = XORSHIFT_SEED;

	for (int i = 0; i < BUF_WORDS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = x;
	}
}

static unsigned int crc32_update(unsigned int crc, const unsigned char *p, int n)
{
	for (int i = 0; i < n; i++)
		crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return crc;
}

static unsigned long mac_update(unsigned long acc, unsigned long salt)
{
	for (int i = 0; i < BUF_WORDS; i++)
		acc += (buf[i] ^ salt) * MAC_FACTOR;
	return acc;
}

int main(unsigned long hartid, const void *fdt)
{
	unsigned int crc = 0xffffffffu;
	unsigned long acc = 0;

	(void)hartid;
	(void)fdt;
	build_crc_table();
	fill_buffer();

	unsigned long start = csr_read(CSR_MINSTRET);
	for (unsigned long pass = 0; pass < PASSES; pass++) {
		crc = crc32_update(crc, (const unsigned char *)buf, BUF_BYTES);
		acc = mac_update(acc, pass);
	}
	unsigned long end = csr_read(CSR_MINSTRET);

	unsigned long checksum = acc ^ ((unsigned long)~crc << 32) ^ ~crc;
	console_puts("cpubench: checksum ");
	console_put_hex(checksum, 16);
	console_puts("\ncpubench: instret ");
	console_put_dec(end - start);
	console_putc('\n');
	return 0;
}
