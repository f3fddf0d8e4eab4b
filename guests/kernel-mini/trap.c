/*
 * trap.c: what kernel-mini does with a trap (trapvec.S saved the registers).
 *
 *   from U, ecall (scause 8)        a system call: a7 = number, a0.. args
 *   from U, any other exception     the process is killed
 *   supervisor timer interrupt (5)  a tick; re-armed until TICKS_WANTED
 *   anything else                   a bug: FAIL
 */
#include "kernel.h"

/* Timer ticks are TICK_INTERVAL (10 ms of the 10 MHz timebase) apart. */
#define TICK_INTERVAL      (MTIME_HZ / 100)
#define SIE_STIE           MIP_STIP	/* sie bits are numbered like sip's */
#define SCAUSE_S_TIMER     (CAUSE_INTERRUPT | IRQ_S_TIMER)
#define SYS_WRITE_MAX      256
#define FIB_MAX            92		/* fib(92) is the last that fits in 63 bits */

volatile unsigned long timer_ticks;
/* SYS_TICKS answers -1 after this time: the timer step gives up. */
static unsigned long timer_deadline;
/* The last exception that killed a process: scause and sepc. */
unsigned long killed_cause, killed_epc;

extern char _start[], _end[];

unsigned long rdtime(void)
{
	unsigned long v;

	__asm__ volatile ("rdtime %0" : "=r"(v) :: "memory");
	return v;
}

void timer_start(unsigned long limit)
{
	timer_ticks = 0;
	timer_deadline = rdtime() + limit;
	sbi_set_timer(rdtime() + TICK_INTERVAL);
	csr_set(CSR_SIE, SIE_STIE);
}

static void timer_interrupt(void)
{
	if (++timer_ticks < TICKS_WANTED) {
		sbi_set_timer(rdtime() + TICK_INTERVAL);
		return;
	}
	csr_clear(CSR_SIE, SIE_STIE);
	sbi_set_timer(~0UL);	/* "infinitely far into the future"; also clears STIP */
}

/* The caller's buffer must lie inside this image (the only memory a process has). */
static long sys_write(unsigned long buf, unsigned long len)
{
	unsigned long lo = (unsigned long)_start, hi = (unsigned long)_end;

	if (len > SYS_WRITE_MAX || buf < lo || buf > hi || len > hi - buf)
		return -1;
	kwrite((const char *)buf, len);
	return (long)len;
}

static long sys_fib(unsigned long n)
{
	unsigned long a = 0, b = 1;

	if (n > FIB_MAX)
		return -1;
	for (unsigned long i = 0; i < n; i++) {
		unsigned long t = a + b;
		a = b;
		b = t;
	}
	return (long)a;
}

static long syscall(struct trapframe *tf)
{
	unsigned long a0 = tf->x[REG_A0], a1 = tf->x[REG_A1];

	switch (tf->x[REG_A7]) {
	case SYS_WRITE:
		return sys_write(a0, a1);
	case SYS_GETPID:
		return 1;
	case SYS_FIB:
		return sys_fib(a0);
	case SYS_TICKS:
		return rdtime() > timer_deadline ? -1 : (long)timer_ticks;
	case SYS_EXIT:
		if (vm_active)
			return vm_exit(tf, (long)a0);
		user_return((long)a0);
	case SYS_FORK:
		return vm_active ? vm_fork(tf) : -1;
	case SYS_YIELD:
		return vm_active ? vm_yield(tf) : -1;
	default:
		return -1;
	}
}

static void unexpected(struct trapframe *tf, unsigned long scause)
{
	kputs("kernel-mini: unexpected trap scause ");
	kput_dec(scause & ~CAUSE_INTERRUPT);
	kputs(scause & CAUSE_INTERRUPT ? " (interrupt)" : "");
	kputs(tf->sstatus & MSTATUS_SPP ? " from S\n" : " from U\n");
	fail("unexpected trap");
}

void kernel_trap(struct trapframe *tf)
{
	unsigned long scause = csr_read(CSR_SCAUSE);
	int from_user = (tf->sstatus & MSTATUS_SPP) == 0;

	if (scause == SCAUSE_S_TIMER) {
		timer_interrupt();
	} else if (from_user && scause == CAUSE_ECALL_U) {
		tf->sepc += 4;	/* ecall is never compressed */
		tf->x[REG_A0] = (unsigned long)syscall(tf);
	} else if (from_user && (scause & CAUSE_INTERRUPT) == 0) {
		killed_cause = scause;
		killed_epc = tf->sepc;
		user_return(KILLED);
	} else {
		unexpected(tf, scause);
	}
}
