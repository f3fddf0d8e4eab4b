/*
 * spinlock.c: mutual exclusion between harts, on the A extension's AMOs.
 *
 * acquire swaps 1 into the lock word with amoswap.w.aq until it reads back
 * 0; release stores 0 with amoswap.w.rl. The .aq/.rl orderings keep the
 * critical section's loads and stores inside it (RVWMO, unpriv spec ch. 17),
 * so no separate fence is needed.
 *
 * A hart holding a spinlock must not take an interrupt whose handler wants
 * the same lock, so acquire turns interrupts off first (push_off) and
 * release restores them when the last lock is gone (pop_off), as in xv6.
 */
#include "kernel.h"

void initlock(struct spinlock *lk, const char *name)
{
	lk->locked = 0;
	lk->hart = -1;
	lk->name = name;
}

void acquire(struct spinlock *lk)
{
	u32 one = 1, old;

	push_off();
	if (holding(lk))
		panic(lk->name);	/* acquire: already held by this hart */
	do {
		__asm__ volatile ("amoswap.w.aq %0, %2, %1"
				  : "=r"(old), "+A"(lk->locked) : "r"(one) : "memory");
	} while (old != 0);
	lk->hart = hartid();
}

void release(struct spinlock *lk)
{
	u32 old;

	if (!holding(lk))
		panic("release: lock not held");
	lk->hart = -1;
	__asm__ volatile ("amoswap.w.rl %0, zero, %1"
			  : "=r"(old), "+A"(lk->locked) :: "memory");
	pop_off();
}

/* Does this hart hold lk? Interrupts must be off (else the answer may go stale). */
int holding(struct spinlock *lk)
{
	return lk->locked && lk->hart == hartid();
}

/*
 * Like intr_off, but counted: it takes as many pop_off to turn them back on.
 * One csrrc turns interrupts off and tells whether they were on: one CSR
 * access instead of a read and a clear, and under a hypervisor each CSR
 * access is a VM exit, on every acquire.
 */
void push_off(void)
{
	u64 old;

	__asm__ volatile ("csrrc %0, sstatus, %1" : "=r"(old) : "r"(MSTATUS_SIE) : "memory");
	struct cpu *c = mycpu();
	if (c->noff == 0)
		c->intena = (old & MSTATUS_SIE) != 0;
	c->noff++;
}

/* (xv6 also reads sstatus here to check that interrupts are still off: an exit per release under a hypervisor, so labos leaves it out.) */
void pop_off(void)
{
	struct cpu *c = mycpu();

	if (c->noff < 1)
		panic("pop_off: not pushed");
	c->noff--;
	if (c->noff == 0 && c->intena)
		csr_set(CSR_SSTATUS, MSTATUS_SIE);
}
