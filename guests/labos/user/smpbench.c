/*
 * smpbench: one process per hart, each pinned to its hart, adding to one
 * counter in the shared page with amoadd (the cache line every hart
 * fights for); then IPI round trips from this hart to each other hart;
 * then TLB shootdowns: this process visits every hart (so every TLB may
 * hold its translations) and changes one PTE, which the kernel must flush
 * on all of them (SBI RFENCE).
 * The argument is the additions per process (default 20000).
 */
#include "user.h"

#define N_IPI 50
#define N_SHOOT 50

/* The shared page: [0] the counter, [1] processes ready, [2] the start flag. */
static int worker(volatile u64 *sh, int hart, long adds)
{
	pin(hart);
	__atomic_fetch_add(&sh[1], 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&sh[2], __ATOMIC_ACQUIRE) == 0)
		;
	for (long i = 0; i < adds; i++)
		__atomic_fetch_add(&sh[0], 1, __ATOMIC_RELAXED);
	return 0;
}

static int counter(int harts, long adds)
{
	volatile u64 *sh = shared();
	struct timing t;
	int status, bad = 0;

	pin_here();	/* the workers pin themselves; this keeps rdinstret on one hart */
	sh[0] = sh[1] = sh[2] = 0;
	for (int h = 0; h < harts; h++) {
		int pid = fork();
		if (pid == 0)
			exit(worker(sh, h, adds));
	}
	while (sh[1] < (u64)harts)
		yield();
	timing_start(&t);
	__atomic_store_n(&sh[2], 1, __ATOMIC_RELEASE);
	for (int h = 0; h < harts; h++)
		if (wait(&status) < 0 || status != 0)
			bad++;
	result("smpbench", "amo_counter", (u64)harts * adds, &t);
	printf("smpbench: harts %d counter %lu expected %lu\n", harts, sh[0], (u64)harts * adds);
	return bad || sh[0] != (u64)harts * adds ? -1 : 0;
}

static int ipis(int harts)
{
	if (harts == 1) {
		printf("smpbench: ipi skipped, 1 hart\n");
		return 0;
	}
	pin(0);
	for (int h = 1; h < harts; h++) {
		u64 sum = 0;
		for (int i = 0; i < N_IPI; i++) {
			long d = ipi(h);
			if (d < 0)
				return -1;
			sum += (u64)d;
		}
		printf("result smpbench.ipi hart=%d n=%d ns_per_op=%lu\n", h, N_IPI, ticks_to_ns(sum / N_IPI));
	}
	pin(-1);
	printf("smpbench: ipi to %d harts ok\n", harts - 1);
	return 0;
}

static int shootdowns(int harts)
{
	struct timing t;
	char *page = sbrk(4096);

	page[0] = 1;
	for (int h = harts - 1; h >= 0; h--)
		pin(h);	/* ends on hart 0, having run on all */
	timing_start(&t);
	for (int i = 0; i < N_SHOOT; i++)
		if (protect(page, 0) < 0 || protect(page, 1) < 0)
			return -1;
	result("smpbench", "shootdown", 2 * N_SHOOT, &t);
	page[0] = 2;
	pin(-1);
	return page[0] == 2 ? 0 : -1;
}

int smpbench_main(const char *arg)
{
	int harts = (int)info(INFO_HARTS);

	if (counter(harts, arg_or(arg, 20000)) < 0 || ipis(harts) < 0 || shootdowns(harts) < 0) {
		printf("fail smpbench\n");
		return 1;
	}
	printf("pass smpbench\n");
	return 0;
}
