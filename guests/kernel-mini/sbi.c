/*
 * sbi.c: the SBI calls kernel-mini makes (SBI spec v2.0). Calling
 * convention (ch. 3): a7 = EID, a6 = FID, a0..a5 arguments; the firmware
 * returns a0 = error, a1 = value.
 */
#include "kernel.h"

#define SBI_EXT_TIME            0x54494D45
#define SBI_TIME_SET_TIMER      0
#define SBI_EXT_HSM             0x48534D
#define SBI_HSM_HART_START      0
#define SBI_HSM_HART_STOP       1
#define SBI_HSM_HART_GET_STATUS 2
#define SBI_SRST_SYSTEM_FAILURE 1

struct sbiret sbi_call(long eid, long fid, long a0, long a1, long a2)
{
	register long r_a0 __asm__("a0") = a0;
	register long r_a1 __asm__("a1") = a1;
	register long r_a2 __asm__("a2") = a2;
	register long r_a6 __asm__("a6") = fid;
	register long r_a7 __asm__("a7") = eid;

	__asm__ volatile ("ecall"
			  : "+r"(r_a0), "+r"(r_a1)
			  : "r"(r_a2), "r"(r_a6), "r"(r_a7)
			  : "memory");
	return (struct sbiret){ r_a0, r_a1 };
}

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

struct sbiret sbi_hart_start(unsigned long hart, unsigned long start, unsigned long opaque)
{
	return sbi_call(SBI_EXT_HSM, SBI_HSM_HART_START, (long)hart, (long)start, (long)opaque);
}

struct sbiret sbi_hart_get_status(unsigned long hart)
{
	return sbi_call(SBI_EXT_HSM, SBI_HSM_HART_GET_STATUS, (long)hart, 0, 0);
}

/* HSM hart_stop: returns only if the firmware refused. */
void sbi_hart_stop(void)
{
	sbi_call(SBI_EXT_HSM, SBI_HSM_HART_STOP, 0, 0, 0);
	for (;;)
		__asm__ volatile ("wfi");
}

/* SRST system_reset, type shutdown: reason 0 (none) or 1 (system failure). */
void sbi_shutdown(unsigned long reason)
{
	sbi_call(SBI_EXT_SRST, SBI_SRST_RESET, SBI_SRST_SHUTDOWN, (long)reason, 0);
	for (;;)
		__asm__ volatile ("wfi");
}
