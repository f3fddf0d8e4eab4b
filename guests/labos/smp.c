/*
 * smp.c: more than one hart.
 *
 * Start: the boot hart asks the firmware to start every other hart of the
 * device tree with SBI HSM hart_start; each enters at secondary_entry
 * (start.S), sets itself up like the boot hart did and joins the scheduler.
 *
 * IPIs: SBI IPI send_ipi raises the supervisor software interrupt on the
 * target harts; ipi_intr clears it and counts it (smpbench times the trip).
 *
 * TLB shootdowns: after a PTE of a process changes, every hart that ran
 * the process may still cache the old translation under its ASID
 * (p->ran_on, sched.c). This hart flushes its own with sfence.vma; the
 * others are asked through SBI RFENCE remote_sfence_vma_asid, which
 * returns once they have flushed.
 */
#include "kernel.h"

extern char secondary_entry[];
static volatile u64 ipis[NHART];
static u8 shared[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static volatile u64 shootdowns;

void *shared_page(void)
{
	return shared;
}

void secondary_main(u64 hart)
{
	kvm_inithart();
	trapinit_hart();
	plic_inithart();
	timer_init_hart();
	cpus[hart].started = 1;
	scheduler();
}

void smp_start(u64 boot)
{
	for (int h = 0; h < board.harts; h++) {
		if ((u64)h == boot)
			continue;
		if (sbi_hart_start(h, (u64)secondary_entry, 0).error != 0)
			panic("smp_start: hart_start refused");
	}
	/* They need milliseconds; the minute is for an emulator on a busy host (rdtime is wall time). */
	u64 until = rdtime() + board.timebase * 60;
	for (int h = 0; h < board.harts; h++)
		while ((u64)h != boot && !cpus[h].started)
			if (rdtime() > until)
				panic("smp_start: a hart did not come up");
	kprintf("labos: %d harts running\n", board.harts);
}

void ipi_intr(void)
{
	csr_clear(CSR_SIP, MIP_SSIP);
	__atomic_fetch_add(&ipis[hartid()], 1, __ATOMIC_SEQ_CST);
}

/* Sends one IPI to `target` and waits until it has taken it: rdtime ticks, or -1. */
long ipi_roundtrip(int target)
{
	if (target < 0 || target >= board.harts || target == hartid() || !cpus[target].started)
		return -1;
	/* The target takes it within microseconds; 10 s only guards against a hart that never will. */
	u64 before = ipis[target], t0 = rdtime(), until = t0 + 10 * board.timebase;
	sbi_ipi(1UL << target);
	while (ipis[target] == before)
		if (rdtime() > until)
			return -1;
	return (long)(rdtime() - t0);
}

void tlb_shootdown(struct proc *p, u64 va, u64 len)
{
	if (len == 0)
		return;
	push_off();	/* stay on this hart while deciding who "the others" are */
	u64 me = 1UL << hartid(), others = p->ran_on & ~me;
	for (u64 a = va; a < va + len; a += PAGE_SIZE)
		__asm__ volatile ("sfence.vma %0, %1" :: "r"(a), "r"(p->asid) : "memory");
	pop_off();
	if (others == 0)
		return;
	shootdowns++;
	if (p->asid)
		sbi_rfence_vma_asid(others, va, len, p->asid);
	else
		sbi_rfence_vma(others, va, len);
}
