/*
 * smp: every hart announces itself with amoadd/amoor; hart 0 learns from the
 * device tree how many harts the board has, waits for all of them, wakes
 * each secondary with an IPI (its CLINT msip), and then every hart adds
 * INCREMENTS to one shared counter with an lr/sc loop, so the reservations
 * contend. Hart 0 checks the total.
 *
 * Hart 0 waits in wfi, woken by an IPI from each secondary (or by its timer
 * at the deadline), not in a spin loop: an emulator that runs harts in turn
 * on one thread would otherwise spend whole time slices spinning.
 */
#include "selftest.h"
#include "console.h"
#include "fdt.h"

#define INCREMENTS 1000

static volatile unsigned int harts_arrived;
static volatile unsigned long hart_mask;
static volatile unsigned int harts_done;
static volatile unsigned long shared_counter;

static void announce(unsigned long hartid)
{
	__asm__ volatile ("amoadd.w zero, %1, (%0)"
			  :: "r"(&harts_arrived), "r"(1) : "memory");
	__asm__ volatile ("amoor.d zero, %1, (%0)"
			  :: "r"(&hart_mask), "r"(1UL << hartid) : "memory");
}

/* shared_counter += 1, INCREMENTS times, each by an lr.d/sc.d retry loop. */
static void contend(void)
{
	for (int i = 0; i < INCREMENTS; i++) {
		unsigned long tmp, fail;

		__asm__ volatile ("1:\tlr.d %0, (%2)\n\t"
				  "addi %0, %0, 1\n\t"
				  "sc.d %1, %0, (%2)\n\t"
				  "bnez %1, 1b"
				  : "=&r"(tmp), "=&r"(fail) : "r"(&shared_counter) : "memory");
	}
}

/* Tell hart 0 a counter moved: order the AMO before the MMIO write. */
static void notify_hart0(void)
{
	__asm__ volatile ("fence iorw, iorw" ::: "memory");
	mmio_write32(CLINT_MSIP(0), 1);
}

/* Secondary harts: announce, sleep until the IPI, contend, report, park. */
void smp_secondary(unsigned long hartid)
{
	announce(hartid);
	notify_hart0();
	csr_write(CSR_MIE, MIP_MSIP);
	while (!(csr_read(CSR_MIP) & MIP_MSIP))
		__asm__ volatile ("wfi");
	mmio_write32(CLINT_MSIP(hartid), 0);
	contend();
	__asm__ volatile ("amoadd.w zero, %1, (%0)" :: "r"(&harts_done), "r"(1) : "memory");
	notify_hart0();
}

/*
 * Hart 0: sleep until *counter == target or the deadline. mstatus.MIE is 0,
 * so a pending MSIP/MTIP only ends the wfi (priv spec 3.3.3), no trap.
 * Clearing msip before re-checking the counter cannot lose a wake-up: a
 * secondary bumps its counter before it writes msip.
 */
static int wait_for(volatile unsigned int *counter, unsigned int target)
{
	unsigned long deadline = mtime_now() + WAIT_TICKS;
	int reached;

	csr_write(CSR_MIE, MIP_MSIP | MIP_MTIP);
	mmio_write64(CLINT_MTIMECMP(0), deadline);
	for (;;) {
		reached = *counter == target;
		if (reached || mtime_now() >= deadline)
			break;
		__asm__ volatile ("wfi");
		mmio_write32(CLINT_MSIP(0), 0);
	}
	mmio_write64(CLINT_MTIMECMP(0), ~0UL);
	mmio_write32(CLINT_MSIP(0), 0);
	csr_write(CSR_MIE, 0);
	return reached;
}

void test_smp(const void *fdt)
{
	group_begin(G_SMP);
	csr_clear(CSR_MSTATUS, MSTATUS_MIE);
	int n = fdt_count_cpus(fdt);
	if (n < 1 || n > MAX_HARTS)
		fail("cannot count /cpus/cpu@ nodes in the device tree");
	announce(0);
	if (!wait_for(&harts_arrived, (unsigned int)n))
		CHECK_EQ("harts arrived (amoadd) vs cpus in the device tree", n, harts_arrived);

	for (unsigned long h = 1; h < MAX_HARTS; h++)
		if (hart_mask & (1UL << h))
			mmio_write32(CLINT_MSIP(h), 1);
	contend();
	if (!wait_for(&harts_done, (unsigned int)n - 1))
		CHECK_EQ("secondaries done after the IPI", n - 1, harts_done);
	CHECK_EQ("lr/sc counter from all harts", (unsigned long)n * INCREMENTS, shared_counter);

	console_puts("selftest: smp ");
	console_put_dec((unsigned long)n);
	console_puts(" harts ok\n");
}
