/*
 * diskperf: sequential and random reads and writes through virtio-blk, in
 * requests of REQ_SECTORS (4 KiB). It writes a known pattern first, reads
 * it back sequentially and at random places and checks every byte, then
 * rewrites random places and checks them. The argument is the number of
 * requests per phase (default 64). Without a disk it says so and passes.
 */
#include "user.h"

#define REQ_SECTORS 8
#define REQ_BYTES   (REQ_SECTORS * 512)

static u64 lcg = 12345;

static u64 next_random(u64 n)
{
	lcg = lcg * 6364136223846793005UL + 1442695040888963407UL;
	return (lcg >> 33) % n;
}

static void pattern(unsigned char *buf, u64 block, int round)
{
	for (int i = 0; i < REQ_BYTES; i++)
		buf[i] = (unsigned char)(block * 7 + i + round * 13);
}

static int check(const unsigned char *buf, u64 block, int round)
{
	for (int i = 0; i < REQ_BYTES; i++)
		if (buf[i] != (unsigned char)(block * 7 + i + round * 13))
			return -1;
	return 0;
}

/* One phase: n requests; blocks in order or at random; writes or reads-and-checks. */
static int phase(const char *name, unsigned char *buf, long n, int random, int write, int round)
{
	struct timing t;
	int bad = 0;

	timing_start(&t);
	for (long i = 0; i < n; i++) {
		u64 b = random ? next_random((u64)n) : (u64)i;
		if (write)
			pattern(buf, b, round);
		if (blkrw(b * REQ_SECTORS, buf, REQ_SECTORS, write) < 0)
			return -1;
		if (!write && check(buf, b, round) < 0)
			bad++;
	}
	result("diskperf", name, (u64)n, &t);
	return bad ? -1 : 0;
}

int diskperf_main(const char *arg)
{
	long sectors = info(INFO_BLKSECTORS), n = arg_or(arg, 64);
	unsigned char *buf = sbrk(REQ_BYTES);

	if (sectors <= 0) {
		printf("diskperf: no virtio-blk, skipped\n");
		printf("pass diskperf\n");
		return 0;
	}
	if (n * REQ_SECTORS > sectors)
		n = sectors / REQ_SECTORS;
	pin_here();
	printf("diskperf: %ld sectors, %ld requests of %d bytes\n", sectors, n, REQ_BYTES);
	int r = phase("seq_write", buf, n, 0, 1, 0);
	r |= phase("seq_read", buf, n, 0, 0, 0);
	r |= phase("rand_read", buf, n, 1, 0, 0);
	/* Random writes of round 1 over all blocks, then a sequential check of them. */
	for (long b = 0; b < n && r == 0; b++) {
		pattern(buf, (u64)b, 1);
		r |= blkrw((u64)b * REQ_SECTORS, buf, REQ_SECTORS, 1);
	}
	r |= phase("rand_write", buf, n, 1, 1, 1);
	r |= phase("verify", buf, n, 0, 0, 1);
	printf(r ? "fail diskperf\n" : "pass diskperf\n");
	return r ? 1 : 0;
}
