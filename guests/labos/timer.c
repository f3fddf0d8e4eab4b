/*
 * timer.c: the scheduler's tick, HZ times a second on every hart.
 *
 * With Sstc (the ISA string in the device tree names it) the kernel writes
 * its own stimecmp; without, it asks the firmware through SBI TIME, which
 * costs a trip to M-mode per tick (and under a hypervisor, an exit). Both
 * raise the S timer interrupt when time >= the compare value, and both clear
 * it when the compare value moves into the future.
 *
 * The interrupt also measures its own latency: now minus the time it was
 * due (nanobench's timer-interrupt latency).
 */
#include "kernel.h"

volatile u64 ticks;	/* the boot hart's ticks since boot (sleep counts in these) */
static u64 due[NHART];	/* when each hart's next tick is due */
static struct spinlock tick_lock;
static struct timer_stats stats;

u64 rdtime(void)
{
	u64 v;
	__asm__ volatile ("rdtime %0" : "=r"(v));
	return v;
}

u64 rdinstret(void)
{
	u64 v;
	__asm__ volatile ("rdinstret %0" : "=r"(v));
	return v;
}

static void set_timer(u64 when)
{
	if (board.sstc)
		csr_write(CSR_STIMECMP, when);
	else
		sbi_set_timer(when);
}

void timer_init(void)
{
	initlock(&tick_lock, "ticks");
}

void timer_init_hart(void)
{
	due[hartid()] = rdtime() + board.timebase / HZ;
	set_timer(due[hartid()]);
}

void timer_intr(void)
{
	int h = hartid();
	u64 now = rdtime(), late = now - due[h];

	due[h] = now + board.timebase / HZ;
	set_timer(due[h]);
	acquire(&tick_lock);
	stats.n++;
	stats.sum += late;
	if (late > stats.max)
		stats.max = late;
	if (h == boot_hart) {
		ticks++;
		wakeup((void *)&ticks);
	}
	release(&tick_lock);
	if (h == boot_hart) {
		anic_tick();	/* assigned NICs whose interrupt the firmware keeps (anic.c) */
		net_tick();	/* network readers waiting with a timeout */
	}
}

void timer_stats(struct timer_stats *out)
{
	acquire(&tick_lock);
	*out = stats;
	release(&tick_lock);
}

/* Sleeps for n ticks (at least n-1 tick periods). */
void timer_sleep(u64 n)
{
	acquire(&tick_lock);
	u64 start = ticks;
	while (ticks - start < n && !myproc()->killed)
		sleep((void *)&ticks, &tick_lock);
	release(&tick_lock);
}
