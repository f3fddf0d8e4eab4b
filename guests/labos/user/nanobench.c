/*
 * nanobench: the costs of single kernel operations, each timed with rdtime
 * and rdinstret around a loop of many:
 *
 *   null_syscall   getpid: into the kernel and out again
 *   csr_path       a system call that reads and writes S CSRs
 *   page_fault     first touch of a heap page: the kernel maps a fresh page
 *   pte_flush      one PTE changed (read-only, then writable) and flushed
 *   ctx_switch     two processes on one hart yielding to each other
 *   timer_irq      how late timer interrupts are taken (latency, not cost)
 */
#include "user.h"

#define N_SYSCALL   2000
#define N_FAULT     256
#define N_FLIP      500
#define N_YIELD     500
#define SPIN_TICKS  10
#define PAGE        4096

static void null_syscall(void)
{
	struct timing t;

	timing_start(&t);
	for (int i = 0; i < N_SYSCALL; i++)
		getpid();
	result("nanobench", "null_syscall", N_SYSCALL, &t);
}

static void csr_path(void)
{
	struct timing t;

	timing_start(&t);
	for (int i = 0; i < N_SYSCALL; i++)
		csrpath();
	result("nanobench", "csr_path", N_SYSCALL, &t);
}

static int page_fault(void)
{
	struct timing t;
	char *heap = sbrk(N_FAULT * PAGE);

	if (heap == (char *)-1)
		return -1;
	timing_start(&t);
	for (int i = 0; i < N_FAULT; i++)
		heap[i * PAGE] = (char)i;
	result("nanobench", "page_fault", N_FAULT, &t);
	for (int i = 0; i < N_FAULT; i++)
		if (heap[i * PAGE] != (char)i)
			return -1;
	return sbrk(-N_FAULT * PAGE) == (char *)-1 ? -1 : 0;
}

static int pte_flush(void)
{
	struct timing t;
	char *page = sbrk(PAGE);

	page[0] = 1;	/* fault it in first */
	timing_start(&t);
	for (int i = 0; i < N_FLIP; i++)
		if (protect(page, 0) < 0 || protect(page, 1) < 0)
			return -1;
	result("nanobench", "pte_flush", 2 * N_FLIP, &t);
	page[0] = 2;	/* writable again, through a fresh translation */
	return page[0] == 2 ? 0 : -1;
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
	for (int i = 0; i < N_YIELD; i++)
		yield();
	if (pid == 0)
		exit(0);
	if (wait(&status) != pid || status != 0)
		return -1;
	result("nanobench", "ctx_switch", 2 * N_YIELD, &t);
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
	(void)arg;
	pin_here();
	null_syscall();
	csr_path();
	if (page_fault() < 0 || pte_flush() < 0 || ctx_switch() < 0 || timer_irq() < 0) {
		printf("fail nanobench\n");
		return 1;
	}
	printf("pass nanobench\n");
	return 0;
}
