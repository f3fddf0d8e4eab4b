/*
 * sbi.c: the SBI calls the S-mode guests make more than once (SBI spec
 * v2.0), as functions over sbi_call (sbi.h).
 */
#include "sbi.h"

/* Base probe_extension: nonzero if the firmware implements `eid`. */
long sbi_probe(long eid)
{
	struct sbiret r = sbi_call(SBI_EXT_BASE, SBI_BASE_PROBE_EXT, eid, 0, 0);

	return r.error == 0 ? r.value : 0;
}

/* TIME set_timer: the next S timer interrupt at time >= stime; clears STIP. */
void sbi_set_timer(unsigned long stime)
{
	sbi_call(SBI_EXT_TIME, SBI_TIME_SET_TIMER, (long)stime, 0, 0);
}

/* HSM hart_start: `hart` begins at `start` in S-mode, a0 = hartid, a1 = opaque. */
struct sbiret sbi_hart_start(unsigned long hart, unsigned long start, unsigned long opaque)
{
	return sbi_call(SBI_EXT_HSM, SBI_HSM_HART_START, (long)hart, (long)start, (long)opaque);
}

/* HSM hart_get_status: value = an SBI_HSM_* state. */
struct sbiret sbi_hart_get_status(unsigned long hart)
{
	return sbi_call(SBI_EXT_HSM, SBI_HSM_HART_GET_STATUS, (long)hart, 0, 0);
}

/* HSM hart_stop: returns only if the firmware refused; then park. */
void sbi_hart_stop(void)
{
	sbi_call(SBI_EXT_HSM, SBI_HSM_HART_STOP, 0, 0, 0);
	for (;;)
		__asm__ volatile ("wfi");
}

/* SRST system_reset, type shutdown: SBI_SRST_NO_REASON or SBI_SRST_SYSTEM_FAILURE. */
void sbi_shutdown(unsigned long reason)
{
	sbi_call(SBI_EXT_SRST, SBI_SRST_RESET, SBI_SRST_SHUTDOWN, (long)reason, 0);
	for (;;)
		__asm__ volatile ("wfi");
}
