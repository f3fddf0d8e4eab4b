/*
 * nanobench: the costs of single kernel operations, each timed with rdtime
 * and rdinstret around a loop of many:
 *
 *   null_syscall   getpid: into the kernel and out again
 *   csr_path       a system call that reads and writes S CSRs
 *   page_fault     first touch of a heap page: the kernel maps a fresh page
 *   pte_flush      one PTE changed (read-only, then writable) and flushed
 *   ctx_switch     two processes on one hart yielding to each other
 *   tlb_walk       a load from each of WALK_PAGES pages whose translations
 *                  were just flushed (one tlbflush system call per pass)
 *   timer_irq      how late timer interrupts are taken (latency, not cost)
 *
 * The argument scales the loops: N system calls of each kind (default
 * 2000), N/8 page faults, N/4 PTE changes and N/4 yields of each process
 * (a hypervisor that takes an exit per operation needs a smaller N).
 */
#include "user.h"

static long n_syscall = 2000, n_fault = 250, n_flip = 500, n_yield = 500;

#define SPIN_TICKS  10
#define WALK_PAGES  120	/* mmubench's tlbwalk: more than a small TLB holds */
#define PAGE        4096

static void null_syscall(void)
{
	struct timing t;

	timing_start(&t);
	for (int i = 0; i < n_syscall; i++)
		getpid();
	result("nanobench", "null_syscall", n_syscall, &t);
}

static void csr_path(void)
{
	struct timing t;

	timing_start(&t);
	for (int i = 0; i < n_syscall; i++)
		csrpath();
	result("nanobench", "csr_path", n_syscall, &t);
}

static int page_fault(void)
{
	struct timing t;
	char *heap = sbrk(n_fault * PAGE);

	if (heap == (char *)-1)
		return -1;
	timing_start(&t);
	for (int i = 0; i < n_fault; i++)
		heap[i * PAGE] = (char)i;
	result("nanobench", "page_fault", n_fault, &t);
	for (int i = 0; i < n_fault; i++)
		if (heap[i * PAGE] != (char)i)
			return -1;
	return sbrk(-n_fault * PAGE) == (char *)-1 ? -1 : 0;
}

static int pte_flush(void)
{
	struct timing t;
	char *page = sbrk(PAGE);

	page[0] = 1;	/* fault it in first */
	timing_start(&t);
	for (int i = 0; i < n_flip; i++)
		if (protect(page, 0) < 0 || protect(page, 1) < 0)
			return -1;
	result("nanobench", "pte_flush", 2 * n_flip, &t);
	page[0] = 2;	/* writable again, through a fresh translation */
	return page[0] == 2 ? 0 : -1;
}

static int tlb_walk(void)
{
	struct timing t;
	char *heap = sbrk(WALK_PAGES * PAGE);
	long passes = n_flip / 10 > 0 ? n_flip / 10 : 1, sum = 0;

	if (heap == (char *)-1)
		return -1;
	for (int i = 0; i < WALK_PAGES; i++)
		heap[i * PAGE] = 1;	/* fault them in first: only the walks are timed */
	timing_start(&t);
	for (long p = 0; p < passes; p++) {
		tlbflush();
		for (int i = 0; i < WALK_PAGES; i++)
			sum += *(volatile char *)&heap[i * PAGE];
	}
	result("nanobench", "tlb_walk", (u64)(passes * WALK_PAGES), &t);
	if (sum != passes * WALK_PAGES)
		return -1;
	return sbrk(-WALK_PAGES * PAGE) == (char *)-1 ? -1 : 0;
}

static int ctx_switch(void)
{
	struct timing t;
	int status;

	/* Both on this hart (the child inherits the pin): every yield is a switch. */
	timing_start(&t);
	int pid = fork();
	if (pid < 0)
		return -1;
	for (int i = 0; i < n_yield; i++)
		yield();
	if (pid == 0)
		exit(0);
	if (wait(&status) != pid || status != 0)
		return -1;
	result("nanobench", "ctx_switch", 2 * n_yield, &t);
	return 0;
}

static int timer_irq(void)
{
	u64 before[3], after[3];

	timerstat(before);
	long until = uptime() + SPIN_TICKS;
	while (uptime() < until)
		;
	timerstat(after);
	u64 n = after[0] - before[0];
	if (n == 0)
		return -1;
	printf("result nanobench.timer_irq n=%lu latency_ns=%lu max_ns=%lu\n",
	       n, ticks_to_ns((after[1] - before[1]) / n), ticks_to_ns(after[2]));
	return 0;
}

int nanobench_main(const char *arg)
{
	n_syscall = arg_or(arg, 2000);
	n_fault = n_syscall / 8 > 0 ? n_syscall / 8 : 1;
	n_flip = n_yield = n_syscall / 4 > 0 ? n_syscall / 4 : 1;
	pin_here();
	null_syscall();
	csr_path();
	if (page_fault() < 0 || pte_flush() < 0 || tlb_walk() < 0 || ctx_switch() < 0 || timer_irq() < 0) {
		printf("fail nanobench\n");
		return 1;
	}
	printf("pass nanobench\n");
	return 0;
}
