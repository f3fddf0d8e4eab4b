/*
 * virtio-blk-bench: the guest side of `popek bench io`'s block rows. With
 * common/virtio_blk.c (polled, no interrupts asked for: the notify is a
 * batch's only exit under trap), it reads and then writes the disk in
 * 4 KiB and 64 KiB requests, sequentially and at random request-aligned
 * offsets, keeping `depth` requests in flight (bootargs "depth N", default
 * 1, at most VBLK_MAX_DEPTH): once a quarter of them are back, it refills
 * those and tells the device with one notify. Each run is timed with
 * mtime (10 MHz), `passes` times over (bootargs "passes P" after the
 * depth, default 1) after one untimed warm-up run of the same kind (on
 * popek the first 64 KiB reads after the 4 KiB runs were several times
 * slower than the later ones, whichever pattern came first; the cause is
 * not pinned down), each printed as one line the host parses:
 *   vblk-bench op=read size=4096 pattern=seq depth=D requests=N ticks=T
 * A run covers the whole disk sequentially (again from the start until it
 * has made MIN_REQUESTS), or as many random requests.
 */
#include "console.h"
#include "nic-args.h"
#include "virtio_blk.h"

#define MTIME (*(volatile unsigned long *)0x0200bff8UL)
#define MAX_SIZE 65536
/* Requests a run makes at least (a small disk is gone over again): a run of a few milliseconds would time the scheduler. */
#define MIN_REQUESTS 1024

/* One buffer per request in flight, so that no two requests share memory. */
static unsigned char buf[VBLK_MAX_DEPTH][MAX_SIZE] __attribute__((aligned(4096)));
/* The buffer each tag's request uses, and the buffers free. */
static int buf_of_tag[VBLK_MAX_DEPTH];
static int free_bufs[VBLK_MAX_DEPTH];
static int nfree_bufs;
static unsigned long rng = 0x9e3779b97f4a7c15UL;

static unsigned long next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Every finished request back: checks its status, frees its buffer; how many. */
static unsigned long reap_all(void)
{
	unsigned long n = 0;
	int t, st;
	while ((t = vblk_reap(&st)) >= 0) {
		if (st != 0)
			vblk_fail("request");
		free_bufs[nfree_bufs++] = buf_of_tag[t];
		n++;
	}
	return n;
}

/* One run of a kind; printed (timed) unless it is the warm-up. */
static void run(unsigned int type, unsigned int size, int random, unsigned long capacity, unsigned int depth, int timed)
{
	unsigned long per = size / VBLK_SECTOR;
	unsigned long slots = capacity / per;
	unsigned long requests = slots < MIN_REQUESTS ? MIN_REQUESTS : slots;
	unsigned long issued = 0, finished = 0;
	unsigned long batch = depth >= 4 ? depth / 4 : 1;
	nfree_bufs = 0;
	for (unsigned int i = 0; i < depth; i++)
		free_bufs[nfree_bufs++] = i;
	unsigned long t0 = MTIME;
	while (finished < requests) {
		while (issued < requests && nfree_bufs > 0) {
			unsigned long slot = random ? next_random() % slots : issued % slots;
			int b = free_bufs[--nfree_bufs];
			int t = vblk_submit(type, slot * per, buf[b], size);
			if (t < 0)
				vblk_fail("no free tag");
			buf_of_tag[t] = b;
			issued++;
		}
		vblk_kick();
		/* Refill in batches of a quarter of the depth: under trap each kick is an exit. */
		unsigned long out = issued - finished;
		unsigned long want = out < batch ? out : batch;
		unsigned long got = 0;
		while (got < want)
			got += reap_all();
		finished += got;
	}
	unsigned long ticks = MTIME - t0;
	if (!timed)
		return;
	console_puts("vblk-bench op=");
	console_puts(type == VBLK_T_IN ? "read" : "write");
	console_puts(" size=");
	console_put_dec(size);
	console_puts(random ? " pattern=random" : " pattern=seq");
	console_puts(" depth=");
	console_put_dec(depth);
	console_puts(" requests=");
	console_put_dec(requests);
	console_puts(" ticks=");
	console_put_dec(ticks);
	console_puts("\n");
}

/* bootargs "depth N passes P": requests in flight (1 .. VBLK_MAX_DEPTH, default 1), and runs of each kind (1 .. 9, default 1). */
static void parse_args(const void *fdt, unsigned int *depth, unsigned int *passes)
{
	static char args[64];
	bootargs_copy(fdt, args, sizeof args);
	*depth = 1;
	*passes = 1;
	const char *p = args;
	while (*p == ' ')
		p++;
	if (args_starts(p, "depth")) {
		p += 5;
		*depth = args_number(&p);
		while (*p == ' ')
			p++;
	}
	if (args_starts(p, "passes")) {
		p += 6;
		*passes = args_number(&p);
	}
	if (*depth < 1 || *depth > VBLK_MAX_DEPTH)
		vblk_fail("depth must be 1 .. 32");
	if (*passes < 1 || *passes > 9)
		vblk_fail("passes must be 1 .. 9");
}

int main(unsigned long hartid, const void *fdt)
{
	(void)hartid;
	unsigned int depth, passes;
	parse_args(fdt, &depth, &passes);
	vblk_init();
	vblk_interrupts(0);
	unsigned long capacity = vblk_capacity();
	static const unsigned int types[2] = { VBLK_T_IN, VBLK_T_OUT };
	static const unsigned int sizes[2] = { 4096, MAX_SIZE };
	for (int t = 0; t < 2; t++)
		for (int s = 0; s < 2; s++)
			for (int r = 0; r < 2; r++)
				for (unsigned int i = 0; i <= passes; i++)
					run(types[t], sizes[s], r, capacity, depth, i > 0);
	if (vblk_request(VBLK_T_FLUSH, 0, 0, 0) != 0)
		vblk_fail("flush");
	console_puts("vblk-bench done\n");
	return 0;
}
