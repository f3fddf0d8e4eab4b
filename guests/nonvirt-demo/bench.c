/*
 * nonvirt-bench: what each way of running the variant's sensitive
 * instructions costs (popek bench exits, bench/exits-nonvirt.ts). An M-mode
 * guest that times, with rdtime, the two operations nonvirt-demo checks:
 *
 *   status-read       mstatus_read()                          (pushf)
 *   irq-save-restore  flags = read; clear MIE; write flags    (local_irq_save/restore)
 *
 * through nonvirt.h, so the plain build uses csrr/csrc/csrw and the
 * paravirtual build (-DPARAVIRT) POPK hypercalls. It prints exitbench's
 * line format (guests/exitbench/README.md), so one parser reads both:
 *
 *   exitbench: <name> iters=<n> ticks=<rdtime ticks> instret=<rdinstret delta>
 */
#include "riscv.h"
#include "console.h"
#include "nonvirt.h"

#define ITERS 20000

static unsigned long rdtime(void)
{
	unsigned long t;
	asm volatile("rdtime %0" : "=r"(t));
	return t;
}

static unsigned long rdinstret(void)
{
	unsigned long n;
	asm volatile("rdinstret %0" : "=r"(n));
	return n;
}

static void line(const char *name, unsigned long iters, unsigned long ticks, unsigned long instret)
{
	console_puts("exitbench: ");
	console_puts(name);
	console_puts(" iters=");
	console_put_dec(iters);
	console_puts(" ticks=");
	console_put_dec(ticks);
	console_puts(" instret=");
	console_put_dec(instret);
	console_putc('\n');
}

static volatile unsigned long sink;

static void status_read(unsigned long iters)
{
	for (unsigned long i = 0; i < iters; i++)
		sink = mstatus_read();
}

static void irq_save_restore(unsigned long iters)
{
	for (unsigned long i = 0; i < iters; i++) {
		unsigned long flags = mstatus_read();
		mstatus_clear(MSTATUS_MIE);
		mstatus_write(flags);
	}
}

/* Warms a bench up again at a tenth of its iterations, then times it. */
static void run(const char *name, void (*bench)(unsigned long))
{
	bench(ITERS / 10);
	unsigned long t0 = rdtime(), i0 = rdinstret();
	bench(ITERS);
	unsigned long i1 = rdinstret(), t1 = rdtime();
	line(name, ITERS, t1 - t0, i1 - i0);
}

int main(void)
{
	/* A fresh vCPU thread (and V8 under it) is cold: one untimed pass of each first, as exitbench does. */
	status_read(ITERS);
	irq_save_restore(ITERS);
	run("status-read", status_read);
	run("irq-save-restore", irq_save_restore);
	console_puts("exitbench: done\n");
	return 0;
}
