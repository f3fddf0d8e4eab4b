/*
 * user.c: the U-mode programs. They touch nothing but their own stack and
 * this image's read-only data, and reach the kernel only through ecall.
 */
#include "kernel.h"

/* Busy work between two SYS_TICKS calls, so that most time is spent in U-mode. */
#define SPIN_BETWEEN_POLLS 20000
#define FIB_ARG            40
#define FIB_EXPECTED       102334155UL

static long syscall(long n, long a0, long a1)
{
	register long r_a0 __asm__("a0") = a0;
	register long r_a1 __asm__("a1") = a1;
	register long r_a7 __asm__("a7") = n;

	__asm__ volatile ("ecall" : "+r"(r_a0) : "r"(r_a1), "r"(r_a7) : "memory");
	return r_a0;
}

static void sys_exit(long status) __attribute__((noreturn));
static void sys_exit(long status)
{
	syscall(SYS_EXIT, status, 0);
	for (;;)
		;	/* not reached: SYS_EXIT does not return */
}

/* Returns what SYS_WRITE returns: the bytes written, or -1. */
static long print(const char *s)
{
	long n = 0;

	while (s[n])
		n++;
	return syscall(SYS_WRITE, (long)s, n);
}

/* Step 2: a process that says hello, asks its pid and a computed value. */
void user_hello(unsigned long arg)
{
	static const char hello[] = "kernel-mini: hello from U-mode through the write syscall\n";
	(void)arg;

	if (print(hello) != sizeof(hello) - 1)
		sys_exit(EXIT_BAD_RESULT);
	if (syscall(SYS_GETPID, 0, 0) != 1)
		sys_exit(EXIT_BAD_RESULT);
	if ((unsigned long)syscall(SYS_FIB, FIB_ARG, 0) != FIB_EXPECTED)
		sys_exit(EXIT_BAD_RESULT);
	if (syscall(SYS_WRITE, 0, 1) != -1)	/* a buffer outside the process: refused */
		sys_exit(EXIT_BAD_RESULT);
	sys_exit(EXIT_OK);
}

/* Step 3: spins until the kernel has counted its ticks. */
void user_spin(unsigned long arg)
{
	long ticks;
	(void)arg;

	while ((ticks = syscall(SYS_TICKS, 0, 0)) >= 0 && ticks < TICKS_WANTED) {
		for (volatile int i = 0; i < SPIN_BETWEEN_POLLS; i++)
			;
	}
	sys_exit(ticks < 0 ? EXIT_TIMER_TIMEOUT : EXIT_OK);
}

/* Step 4: a privileged instruction in U-mode (priv spec 2.1: an illegal instruction). */
void user_illegal(unsigned long arg)
{
	(void)arg;
	__asm__ volatile (".globl user_illegal_insn\n"
			  "user_illegal_insn: csrr t0, sstatus" ::: "t0", "memory");
	sys_exit(EXIT_OK);	/* not reached: the kernel kills the process */
}

/*
 * Step 6, in its own address space (vm.c maps this image's code at
 * USER_TEXT): forks twice, then each of the three processes changes its own
 * copy of the data page and of a stack variable, lets the others run, and
 * exits with what it sees: VM_BASE + 1 + its index, if no other process's
 * change reached it.
 */
void user_forker(unsigned long arg)
{
	volatile unsigned long *data = (volatile unsigned long *)USER_DATA;
	volatile unsigned long local = 7;
	unsigned long me = 0;
	(void)arg;

	data[0] = VM_BASE;
	for (unsigned long i = 1; i < VM_PROCS && me == 0; i++) {
		long pid = syscall(SYS_FORK, 0, 0);
		if (pid < 0)
			sys_exit(EXIT_BAD_RESULT);
		if (pid == 0)
			me = i;
	}
	data[0] += me + 1;
	local += me * 10;
	for (int turn = 0; turn < VM_PROCS; turn++)
		syscall(SYS_YIELD, 0, 0);
	if (local != 7 + me * 10)
		sys_exit(EXIT_BAD_RESULT);
	sys_exit((long)data[0]);
}
