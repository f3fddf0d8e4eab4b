/*
 * selftest: checks the instruction set and the privileged architecture
 * group by group, printing "selftest: <group> ok" for each and
 * "selftest: PASS" at the end (exit 0). The first failure prints
 * "selftest: <group> FAIL <what>" and exits with the group's number.
 */
#include "console.h"
#include "selftest.h"

int main(unsigned long hartid, const void *fdt)
{
	(void)hartid;
	harness_init();
	test_rv64i();
	test_loadstore();
	test_rv64m();
	test_rv64a();
	test_rv64c();
	test_csr();
	test_traps();
	test_privilege();
	test_interrupts();
	test_sv39();
	test_smp(fdt);
	console_puts("selftest: PASS\n");
	return 0;
}

/* Replaces start.S's weak default: secondaries take part in the smp group. */
void secondary_main(unsigned long hartid, const void *fdt)
{
	(void)fdt;
	smp_secondary(hartid);
}
