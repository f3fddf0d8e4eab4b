/*
 * forkbench: many short-lived processes, the MMU-heavy workload: each fork
 * copies an address space (and makes a new ASID), each exit frees it.
 * The argument is how many (default 100); each child touches a page of
 * its own heap first and exits with i % 100, which the parent checks.
 */
#include "user.h"

int forkbench_main(const char *arg)
{
	long n = arg_or(arg, 100), bad = 0;
	struct timing t;

	pin_here();	/* the children too: forks on one hart, the way the MMU sees them */
	timing_start(&t);
	for (long i = 0; i < n; i++) {
		int pid = fork(), status;
		if (pid < 0) {
			printf("forkbench: fork failed at %ld\n", i);
			return 1;
		}
		if (pid == 0) {
			char *p = sbrk(4096);
			p[0] = 1;
			exit((int)(i % 100));
		}
		if (wait(&status) != pid || status != i % 100)
			bad++;
	}
	result("forkbench", "fork_exit_wait", (u64)n, &t);
	printf("forkbench: %ld processes, %ld bad statuses\n", n, bad);
	printf(bad ? "fail forkbench\n" : "pass forkbench\n");
	return bad ? 1 : 0;
}
