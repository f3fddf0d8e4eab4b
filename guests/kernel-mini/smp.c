/*
 * smp.c: the secondary harts. The boot hart counts the harts in the device
 * tree (/cpus/cpu@*, common/fdt.c) and starts every other one through SBI
 * HSM hart_start; each secondary adds one to a shared counter with amoadd
 * and stops itself with hart_stop, printing nothing (so the output does not
 * depend on timing). The boot hart waits for the count, then for every
 * secondary to be STOPPED, and checks hart_get_status's answers.
 *
 * Assumes hart ids 0..N-1 (QEMU virt and popek number them so).
 */
#include "kernel.h"
#include "fdt.h"

/* How long the boot hart waits for the secondaries (10 s of the 10 MHz timebase). */
#define SMP_WAIT                   (10UL * MTIME_HZ)

static volatile unsigned int checked_in;

void secondary_main(unsigned long hart)
{
	unsigned int one = 1, old;

	(void)hart;
	__asm__ volatile ("amoadd.w.aqrl %0, %2, %1"
			  : "=r"(old), "+A"(checked_in) : "r"(one) : "memory");
	sbi_hart_stop();
}

/* Waits until every secondary has checked in and stopped; false on timeout. */
static int wait_for_secondaries(unsigned long boot_hart, unsigned long harts)
{
	unsigned long until = rdtime() + SMP_WAIT;

	while (checked_in != harts - 1)
		if (rdtime() > until)
			return 0;
	for (unsigned long h = 0; h < harts; h++) {
		if (h == boot_hart)
			continue;
		while (sbi_hart_get_status(h).value != SBI_HSM_STOPPED)
			if (rdtime() > until)
				return 0;
	}
	return 1;
}

void smp_step(unsigned long boot_hart, const void *fdt)
{
	int n = fdt_count_cpus(fdt);

	if (n < 1)
		fail("smp: no /cpus/cpu@ nodes in the device tree");
	if (n > MAX_HARTS || boot_hart >= (unsigned long)n)
		fail("smp: hart ids beyond what this kernel has stacks for");
	unsigned long harts = (unsigned long)n;
	for (unsigned long h = 0; h < harts; h++) {
		if (h == boot_hart)
			continue;
		if (sbi_hart_start(h, (unsigned long)secondary_entry, h).error != 0)
			fail("smp: hart_start refused a stopped hart");
	}
	if (!wait_for_secondaries(boot_hart, harts))
		fail("smp: the secondary harts did not check in and stop");
	if (harts == 1) {
		kputs("kernel-mini: smp 1 hart, no secondary hart to start\n");
	} else {
		kputs("kernel-mini: smp ");
		kput_dec(harts);
		kputs(" harts started\n");
	}

	struct sbiret self = sbi_hart_get_status(boot_hart);
	if (self.error != 0 || self.value != SBI_HSM_STARTED)
		fail("smp: hart_get_status of the boot hart is not STARTED");
	if (sbi_hart_get_status(harts).error != SBI_ERR_INVALID_PARAM)
		fail("smp: hart_get_status of a missing hart is not INVALID_PARAM");
	if (sbi_hart_start(boot_hart, (unsigned long)secondary_entry, 0).error != SBI_ERR_ALREADY_AVAILABLE)
		fail("smp: hart_start of a running hart is not ALREADY_AVAILABLE");
	kputs("kernel-mini: smp counter and hart states ok\n");
}
