/*
 * trap.c: what labos does with a trap (trapvec.S saved the registers).
 *
 *   interrupts            timer: a tick, and a program loses the hart (round
 *                         robin); external: the PLIC names the device;
 *                         software: an IPI (smp.c); 16: the assigned
 *                         NIC's posted interrupt (anic.c)
 *   from U, ecall         a system call (syscall.c)
 *   from U, page fault    a heap page never touched gets a fresh page;
 *                         anything else kills the process
 *   from S, exception     a kernel bug: panic
 */
#include "kernel.h"

#define SCAUSE_CODE(c)   ((c) & ~CAUSE_INTERRUPT)

extern char trapvec[];

void trapinit_hart(void)
{
	csr_write(CSR_SSCRATCH, 0);	/* trapvec.S: 0 while the kernel runs */
	csr_write(CSR_STVEC, (u64)trapvec);
	/* Programs may read time, cycle and instret (the benchmarks time themselves). */
	csr_write(CSR_SCOUNTEREN, COUNTEREN_CY | COUNTEREN_TM | COUNTEREN_IR);
	/* The kernel reads and writes program memory directly (after uvm_check). */
	csr_set(CSR_SSTATUS, MSTATUS_SUM);
	csr_set(CSR_SIE, MIP_SSIP | MIP_STIP | (1UL << IRQ_S_EXT));
}

/* A page of the heap the program grew with sbrk but never touched: give it one. */
int fault_in(struct proc *p, u64 va)
{
	va = PGROUNDDOWN(va);
	if (va < USER_BASE + p->heap_start || va >= USER_BASE + p->sz)
		return -1;
	pte_t *pte = uvm_walk(p->pagetable, va, 0);
	if (pte && (*pte & PTE_V))
		return -1;	/* mapped already: a protection fault */
	void *page = kalloc();
	if (!page)
		return -1;
	if (uvm_map(p->pagetable, va, (u64)page, PTE_R | PTE_W | PTE_U) < 0) {
		kfree(page);
		return -1;
	}
	return 0;
}

/* Returns 1 for a timer tick, 0 for any other interrupt it handled. */
static int devintr(u64 scause)
{
	switch (SCAUSE_CODE(scause)) {
	case IRQ_S_TIMER:
		timer_intr();
		return 1;
	case IRQ_S_EXT:
		plic_intr();
		return 0;
	case IRQ_S_SOFT:
		ipi_intr();
		return 0;
	case IRQ_POSTED:
		anic_intr();
		return 0;
	default:
		panic_regs("devintr: unexpected interrupt (scause, sepc, stval)",
			   scause, csr_read(CSR_SEPC), csr_read(CSR_STVAL));
	}
}

static void user_exception(struct proc *p, u64 scause)
{
	if (scause == CAUSE_ECALL_U) {
		p->tf->sepc += 4;	/* ecall is never compressed */
		csr_set(CSR_SSTATUS, MSTATUS_SIE);	/* a long call must not hold off interrupts */
		syscall(p);
		return;
	}
	u64 stval = csr_read(CSR_STVAL);
	if ((scause == CAUSE_LOAD_PAGE_FAULT || scause == CAUSE_STORE_PAGE_FAULT) &&
	    fault_in(p, stval) == 0)
		return;
	kprintf("labos: pid %d (%s) killed: scause %lu sepc %p stval %p\n",
		p->pid, p->name, scause, p->tf->sepc, stval);
	p->killed = 1;
}

void kernel_trap(struct trapframe *tf)
{
	u64 scause = csr_read(CSR_SCAUSE);

	if ((tf->sstatus & MSTATUS_SPP) == 0) {
		struct proc *p = myproc();
		int tick = 0;
		if (scause & CAUSE_INTERRUPT)
			tick = devintr(scause);
		else
			user_exception(p, scause);
		if (p->killed)
			exit(-1);
		if (tick)
			yield();	/* round robin: the tick ends the time slice */
		usertrapret();	/* exec may have rewritten the whole frame */
	}
	if (scause & CAUSE_INTERRUPT) {
		devintr(scause);
		return;
	}
	panic_regs("kernel_trap: exception in S-mode (scause, sepc, stval)",
		   scause, tf->sepc, csr_read(CSR_STVAL));
}
