/*
 * nonvirt-demo: an M-mode guest that shows Popek and Goldberg's condition
 * broken (--isa-variant nonvirt, src/machine/isa-variant.ts) and mended.
 *
 * It runs four checks. Each uses the register forms of mstatus access that
 * the variant runs in U-mode without trapping (nonvirt.h), and prints what
 * it read beside what it expected:
 *
 *   privilege    after an ecall from M-mode, mstatus.MPP reads M
 *   irq-state    after csrsi/csrci of MIE, csrr mstatus shows the change
 *   irq-disable  a timer interrupt stays out of a section entered with
 *                csrr/csrc (save and disable) and comes once csrw restores
 *   smc          code written at run time reads mstatus right, is rewritten
 *                and runs its new version, and reads back as written
 *
 * Natively (the guest is in real M-mode: the variant changes nothing) all
 * pass. Under plain --virt trap on the variant the guest runs in real U-mode
 * and reads the real hart's mstatus (MPP = U, MIE = 0) and loses its
 * csrc/csrw: privilege, irq-state and smc report the wrong values and
 * irq-disable catches the interrupt inside its critical section. Built with
 * -DPARAVIRT (hypercalls) or run with --nonvirt-fix scan, all pass again.
 * The exit code is the number of failed checks.
 */
#include "riscv.h"
#include "console.h"
#include "nonvirt.h"

extern void nonvirt_vector(void);
extern const unsigned char smc_v1[], smc_v1_end[], smc_v2[], smc_v2_end[];

/* The self-modifying check's code page: a page of its own (nonvirt.ld). */
static unsigned char smc_page[4096] __attribute__((aligned(4096), section(".smc")));

static volatile unsigned long ecall_mpp = ~0UL;
static volatile unsigned long ticks;
static volatile unsigned long ticks_inside;
static volatile int in_critical;

static volatile unsigned long *const mtime = (volatile unsigned long *)CLINT_MTIME;
static volatile unsigned long *const mtimecmp = (volatile unsigned long *)CLINT_MTIMECMP(0);

#define MS (MTIME_HZ / 1000)

/* Called by nonvirt_vector with mcause. */
void nonvirt_trap(unsigned long cause)
{
	if (cause == CAUSE_ECALL_M) {
		ecall_mpp = (mstatus_read() & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
		unsigned long epc;
		asm volatile("csrr %0, mepc" : "=r"(epc));
		asm volatile("csrw mepc, %0" : : "r"(epc + 4));
		return;
	}
	if (cause == (CAUSE_INTERRUPT | IRQ_M_TIMER)) {
		*mtimecmp = ~0UL;
		ticks++;
		if (in_critical)
			ticks_inside++;
		return;
	}
	panic_trap(cause, 0, 0);
}

static const char *const priv_names[] = { "U", "S", "?", "M" };

/* Prints one check's line; returns 1 if it failed. */
static int report(const char *name, int ok, const char *what, unsigned long read, unsigned long expected)
{
	console_puts("nonvirt-demo: ");
	console_puts(name);
	console_puts(ok ? ": ok (" : ": FAIL (");
	console_puts(what);
	console_puts(": read ");
	console_put_dec(read);
	console_puts(", expected ");
	console_put_dec(expected);
	console_puts(")\n");
	return !ok;
}

static int check_privilege(void)
{
	register unsigned long a7 asm("a7") = 0; /* not POPK: an ecall of the guest's own */
	asm volatile("ecall" : : "r"(a7) : "memory");
	unsigned long mpp = ecall_mpp;
	int ok = mpp == 3;
	if (!ok) {
		console_puts("nonvirt-demo: privilege: mstatus.MPP says the ecall came from ");
		console_puts(priv_names[mpp & 3]);
		console_puts("-mode\n");
	}
	return report("privilege", ok, "mstatus.MPP after an ecall from M", mpp, 3);
}

static int check_irq_state(void)
{
	asm volatile("csrsi mstatus, %0" : : "i"(MSTATUS_MIE) : "memory");
	unsigned long on = (mstatus_read() & MSTATUS_MIE) != 0;
	asm volatile("csrci mstatus, %0" : : "i"(MSTATUS_MIE) : "memory");
	unsigned long off = (mstatus_read() & MSTATUS_MIE) != 0;
	int failed = report("irq-state", on == 1, "mstatus.MIE after csrsi", on, 1);
	return report("irq-state", off == 0, "mstatus.MIE after csrci", off, 0) || failed;
}

/* Busy-waits until mtime reaches `until`. */
static void wait_until(unsigned long until)
{
	while (*mtime < until)
		;
}

static int check_irq_disable(void)
{
	*mtimecmp = ~0UL; /* mtimecmp resets to 0: nothing may be due before the section */
	asm volatile("csrw mie, %0" : : "r"(MIP_MTIP) : "memory");
	asm volatile("csrsi mstatus, %0" : : "i"(MSTATUS_MIE) : "memory");
	/* local_irq_save: read the status, clear MIE with the register form. */
	unsigned long flags = mstatus_read();
	mstatus_clear(MSTATUS_MIE);
	in_critical = 1;
	unsigned long start = *mtime;
	*mtimecmp = start + MS; /* due in 1 ms, inside the 20 ms section */
	wait_until(start + 20 * MS);
	in_critical = 0;
	/* local_irq_restore */
	mstatus_write(flags);
	/* The interrupt is due now: give it up to 2 s to arrive. */
	unsigned long deadline = *mtime + 2000 * MS;
	while (ticks == 0 && *mtime < deadline)
		;
	asm volatile("csrci mstatus, %0" : : "i"(MSTATUS_MIE) : "memory");
	asm volatile("csrw mie, zero" : : : "memory");
	int failed = report("irq-disable", ticks_inside == 0, "timer interrupts taken inside the critical section", ticks_inside, 0);
	if (ticks_inside != 0)
		console_puts("nonvirt-demo: irq-disable: the interrupt-disable (csrc mstatus) was lost: the section raced its handler\n");
	return report("irq-disable", ticks == 1, "timer interrupts taken in all", ticks, 1) || failed;
}

static void copy_code(const unsigned char *from, const unsigned char *to)
{
	for (unsigned long i = 0; from + i < to; i++)
		((volatile unsigned char *)smc_page)[i] = from[i];
	asm volatile("fence.i" : : : "memory");
}

static int check_smc(void)
{
	unsigned long (*code)(void) = (unsigned long (*)(void))(void *)smc_page;
	asm volatile("csrsi mstatus, %0" : : "i"(MSTATUS_MIE) : "memory"); /* mie = 0: nothing can interrupt */
	copy_code(smc_v1, smc_v1_end);
	unsigned long v1 = (code() & MSTATUS_MIE) != 0;
	int failed = report("smc", v1 == 1, "mstatus.MIE read by generated code", v1, 1);
	copy_code(smc_v2, smc_v2_end);
	unsigned long v2 = code();
	failed |= report("smc", v2 == 1, "the same, rewritten (v2 returns MIE alone)", v2, 1);
	unsigned long same = 0;
	for (unsigned long i = 0; smc_v2 + i < smc_v2_end; i++)
		same += ((volatile unsigned char *)smc_page)[i] == smc_v2[i];
	unsigned long size = (unsigned long)(smc_v2_end - smc_v2);
	failed |= report("smc", same == size, "bytes of the code page that read back as written", same, size);
	asm volatile("csrci mstatus, %0" : : "i"(MSTATUS_MIE) : "memory");
	return failed;
}

int main(void)
{
	asm volatile("csrw mtvec, %0" : : "r"(nonvirt_vector));
#ifdef PARAVIRT
	console_puts("nonvirt-demo: paravirtual build (mstatus through POPK hypercalls)\n");
#else
	console_puts("nonvirt-demo: mstatus through csrr/csrw/csrc\n");
#endif
	int failed = check_privilege();
	failed += check_irq_state();
	failed += check_irq_disable();
	failed += check_smc();
	if (failed == 0) {
		console_puts("nonvirt-demo: PASS\n");
		return 0;
	}
	console_puts("nonvirt-demo: FAIL (");
	console_put_dec(failed);
	console_puts(" of 4 checks)\n");
	return failed;
}
