/*
 * sched.c: the per-hart scheduler, round robin.
 *
 * Every hart runs scheduler() on its boot stack once it has set up: it scans
 * the process table for a RUNNABLE process (one pinned elsewhere is
 * skipped), switches to its address space and to its kernel thread with
 * swtch, and gets control back when the process gives up the hart (yield on
 * a timer tick, sleep, exit). A process's lock is held across the switch in
 * both directions, so no other hart can pick it up half-switched.
 *
 * Switching address spaces: each address space has its own ASID (proc.c),
 * so loading its satp needs no flush; an address space without one (ASIDs
 * ran out, or satp keeps none) takes a full sfence.vma instead. p->ran_on
 * records the harts whose TLBs may hold its translations, for smp.c's
 * shootdowns.
 */
#include "kernel.h"

struct cpu cpus[NHART];

static void switch_to(struct cpu *c, struct proc *p)
{
	p->state = RUNNING;
	c->proc = p;
	p->ran_on |= 1UL << hartid();
	csr_write(CSR_SATP, satp_for(p->pagetable, p->asid));
	if (p->asid == 0)
		__asm__ volatile ("sfence.vma zero, zero" ::: "memory");
	swtch(&c->context, &p->context);
	/* Back from the process: leave its address space (it may be freed now). */
	csr_write(CSR_SATP, kernel_satp());
	c->proc = 0;
}

void scheduler(void)
{
	struct cpu *c = mycpu();
	int me = hartid(), next = 0;

	c->proc = 0;
	for (;;) {
		/* Let devices and the timer in between scans (an idle hart waits in wfi). */
		csr_set(CSR_SSTATUS, MSTATUS_SIE);
		int found = 0;
		for (int i = 0; i < NPROC; i++) {
			struct proc *p = &proc[(next + i) % NPROC];
			acquire(&p->lock);
			if (p->state == RUNNABLE && (p->pin < 0 || p->pin == me)) {
				switch_to(c, p);
				found = 1;
				next = (int)(p - proc) + 1;	/* round robin: start after it next time */
			}
			release(&p->lock);
			if (found)
				break;
		}
		if (!found)
			__asm__ volatile ("wfi");
	}
}

/*
 * Back to the scheduler. The caller holds p->lock (and no other lock) and
 * has already changed p->state. intena belongs to this kernel thread, not to
 * the hart, so it is saved across the switch (xv6).
 */
void sched(void)
{
	struct proc *p = myproc();
	struct cpu *c = mycpu();

	if (!holding(&p->lock))
		panic("sched: p->lock not held");
	if (c->noff != 1)
		panic("sched: other locks held");
	if (p->state == RUNNING)
		panic("sched: still RUNNING");
	if (csr_read(CSR_SSTATUS) & MSTATUS_SIE)
		panic("sched: interrupts on");
	int intena = c->intena;
	swtch(&p->context, &c->context);
	mycpu()->intena = intena;	/* maybe another hart now */
}

void yield(void)
{
	struct proc *p = myproc();

	acquire(&p->lock);
	p->state = RUNNABLE;
	sched();
	release(&p->lock);
}

/* Releases lk and sleeps on chan atomically (p->lock is taken first), then takes lk again. */
void sleep(void *chan, struct spinlock *lk)
{
	struct proc *p = myproc();

	acquire(&p->lock);
	release(lk);
	p->chan = chan;
	p->state = SLEEPING;
	sched();
	p->chan = 0;
	release(&p->lock);
	acquire(lk);
}

/* Makes every process sleeping on chan RUNNABLE. Callers hold the lock the sleepers passed. */
void wakeup(void *chan)
{
	struct proc *me = myproc();

	for (struct proc *p = proc; p < &proc[NPROC]; p++) {
		if (p == me)
			continue;
		acquire(&p->lock);
		if (p->state == SLEEPING && p->chan == chan)
			p->state = RUNNABLE;
		release(&p->lock);
	}
}

/*
 * Returns to the current process in U-mode through its trap frame. With
 * interrupts off: from the moment sepc and sscratch are the program's, a
 * trap would overwrite them.
 */
void usertrapret(void)
{
	struct proc *p = myproc();

	csr_clear(CSR_SSTATUS, MSTATUS_SIE);
	u64 s = csr_read(CSR_SSTATUS);
	p->tf->sstatus = (s & ~(MSTATUS_SPP | MSTATUS_SIE)) | MSTATUS_SPIE;
	userret(p->tf);
}
