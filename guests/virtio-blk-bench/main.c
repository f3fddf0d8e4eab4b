/*
 * virtio-blk-bench: the guest side of `popek bench io`'s block rows. With
 * common/virtio_blk.c (one request in flight, polled, no interrupts asked
 * for: the notify is a request's only exit under trap), it reads and then
 * writes the disk in 4 KiB and 64 KiB requests, sequentially and at random
 * request-aligned offsets, and times each run with mtime (10 MHz). For each
 * run it prints one line the host parses:
 *   vblk-bench op=read size=4096 pattern=seq requests=N ticks=T
 * A run covers the whole disk sequentially, or as many random requests.
 */
#include "console.h"
#include "virtio_blk.h"

#define MTIME (*(volatile unsigned long *)0x0200bff8UL)
#define MAX_SIZE 65536

static unsigned char buf[MAX_SIZE] __attribute__((aligned(4096)));
static unsigned long rng = 0x9e3779b97f4a7c15UL;

static unsigned long next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void run(unsigned int type, unsigned int size, int random, unsigned long capacity)
{
	unsigned long per = size / VBLK_SECTOR;
	unsigned long slots = capacity / per;
	unsigned long t0 = MTIME;
	for (unsigned long i = 0; i < slots; i++) {
		unsigned long slot = random ? next_random() % slots : i;
		if (vblk_request(type, slot * per, buf, size) != 0)
			vblk_fail("request");
	}
	unsigned long ticks = MTIME - t0;
	console_puts("vblk-bench op=");
	console_puts(type == VBLK_T_IN ? "read" : "write");
	console_puts(" size=");
	console_put_dec(size);
	console_puts(random ? " pattern=random" : " pattern=seq");
	console_puts(" requests=");
	console_put_dec(slots);
	console_puts(" ticks=");
	console_put_dec(ticks);
	console_puts("\n");
}

int main(unsigned long hartid, const void *fdt)
{
	(void)hartid;
	(void)fdt;
	vblk_init();
	vblk_interrupts(0);
	unsigned long capacity = vblk_capacity();
	static const unsigned int types[2] = { VBLK_T_IN, VBLK_T_OUT };
	static const unsigned int sizes[2] = { 4096, MAX_SIZE };
	for (int t = 0; t < 2; t++)
		for (int s = 0; s < 2; s++)
			for (int r = 0; r < 2; r++)
				run(types[t], sizes[s], r, capacity);
	if (vblk_request(VBLK_T_FLUSH, 0, 0, 0) != 0)
		vblk_fail("flush");
	console_puts("vblk-bench done\n");
	return 0;
}
