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

/*
 * Idle harts. A hart that finds nothing to run waits in wfi, and would
 * notice new work only at its next tick (10 ms). So whoever makes a process
 * RUNNABLE calls kick_idle, which IPIs the harts marked in idle_harts.
 * work_gen closes the race with a hart about to sleep: it is bumped before
 * idle_harts is read, and the idler sets its bit before it reads work_gen,
 * so (the AMOs being ordered) either the idler sees the new generation and
 * scans again, or the waker sees the bit and sends the IPI.
 */
static volatile u64 idle_harts;
static volatile u64 work_gen;

void kick_idle(void)
{
	__atomic_fetch_add(&work_gen, 1, __ATOMIC_SEQ_CST);
	u64 idle = __atomic_load_n(&idle_harts, __ATOMIC_SEQ_CST) & ~(1UL << hartid());
	if (idle)
		sbi_ipi(idle);
}

/*
 * Waits for an interrupt, unless work appeared since the scan that started
 * at generation gen. SIE is off meanwhile: wfi still wakes on a pending
 * interrupt, and the scheduler loop takes it when it turns SIE on again.
 */
static void idle(u64 gen)
{
	u64 me = 1UL << hartid();

	csr_clear(CSR_SSTATUS, MSTATUS_SIE);
	__atomic_fetch_or(&idle_harts, me, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&work_gen, __ATOMIC_SEQ_CST) == gen)
		__asm__ volatile ("wfi");
	__atomic_fetch_and(&idle_harts, ~me, __ATOMIC_SEQ_CST);
}

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
		u64 gen = __atomic_load_n(&work_gen, __ATOMIC_SEQ_CST);
		int found = 0;
		for (int i = 0; i < NPROC; i++) {
			struct proc *p = &proc[(next + i) % NPROC];
			/* Peek first: most slots are not RUNNABLE, and a lock costs two CSR accesses. */
			if (*(volatile enum procstate *)&p->state != RUNNABLE)
				continue;
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
			idle(gen);
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
	if (p->pin >= 0 && p->pin != hartid())
		kick_idle();	/* its hart may be idle: sys_pin moves it there */
	sched();
	release(&p->lock);
}

/*
 * Releases lk and sleeps on chan atomically (p->lock is taken first), then
 * takes lk again. chan and SLEEPING are set before lk goes, so a waker that
 * holds lk sees them even when it peeks without p->lock (wakeup).
 */
void sleep(void *chan, struct spinlock *lk)
{
	struct proc *p = myproc();

	acquire(&p->lock);
	p->chan = chan;
	p->state = SLEEPING;
	release(lk);
	sched();
	p->chan = 0;
	release(&p->lock);
	acquire(lk);
}

/* Makes every process sleeping on chan RUNNABLE. Callers hold the lock the sleepers passed. */
void wakeup(void *chan)
{
	struct proc *me = myproc();
	int woke = 0;

	for (struct proc *p = proc; p < &proc[NPROC]; p++) {
		/* Peek first, as the scheduler does; sleep() makes the peek safe for sleepers on chan. */
		if (p == me || *(volatile enum procstate *)&p->state != SLEEPING || p->chan != chan)
			continue;
		acquire(&p->lock);
		if (p->state == SLEEPING && p->chan == chan) {
			p->state = RUNNABLE;
			woke = 1;
		}
		release(&p->lock);
	}
	if (woke)
		kick_idle();
}

/*
 * Returns to the current process in U-mode through its trap frame, whose
 * sstatus says "to U, interrupts on there" (saved by the trap, or set by
 * exec). userret turns interrupts off as its first step: from the moment
 * sepc and sscratch are the program's, a trap would overwrite them.
 */
void usertrapret(void)
{
	userret(myproc()->tf);
}

/* The sstatus a program runs with: the kernel's, with SPP = U and SPIE set (sret turns SIE on). */
u64 user_sstatus(void)
{
	return (csr_read(CSR_SSTATUS) & ~(MSTATUS_SPP | MSTATUS_SIE)) | MSTATUS_SPIE;
}
