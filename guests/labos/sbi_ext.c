/*
 * sbi_ext.c: the SBI calls only labos makes (the others are common/sbi.c):
 * IPI send_ipi and the RFENCE remote fences (SBI spec v2.0 ch. 7 and 8).
 * Harts are named by a mask with base 0: bit h is hart h.
 */
#include "kernel.h"

#define SBI_EXT_RFENCE              0x52464E43	/* "RFNC" */
#define SBI_RFENCE_SFENCE_VMA       1
#define SBI_RFENCE_SFENCE_VMA_ASID  2

/* sbi_call (sbi.h) passes three arguments; a remote fence needs five. */
static long sbi_call5(long eid, long fid, long a0, long a1, long a2, long a3, long a4)
{
	register long r0 __asm__("a0") = a0;
	register long r1 __asm__("a1") = a1;
	register long r2 __asm__("a2") = a2;
	register long r3 __asm__("a3") = a3;
	register long r4 __asm__("a4") = a4;
	register long r6 __asm__("a6") = fid;
	register long r7 __asm__("a7") = eid;

	__asm__ volatile ("ecall" : "+r"(r0), "+r"(r1)
			  : "r"(r2), "r"(r3), "r"(r4), "r"(r6), "r"(r7) : "memory");
	return r0;
}

void sbi_ipi(u64 hart_mask)
{
	if (sbi_call(SBI_EXT_IPI, SBI_IPI_SEND_IPI, (long)hart_mask, 0, 0).error != 0)
		panic("sbi_ipi: the firmware refused");
}

void sbi_rfence_vma(u64 hart_mask, u64 va, u64 size)
{
	if (sbi_call5(SBI_EXT_RFENCE, SBI_RFENCE_SFENCE_VMA, (long)hart_mask, 0,
		      (long)va, (long)size, 0) != 0)
		panic("sbi_rfence_vma: the firmware refused");
}

void sbi_rfence_vma_asid(u64 hart_mask, u64 va, u64 size, u64 asid)
{
	if (sbi_call5(SBI_EXT_RFENCE, SBI_RFENCE_SFENCE_VMA_ASID, (long)hart_mask, 0,
		      (long)va, (long)size, (long)asid) != 0)
		panic("sbi_rfence_vma_asid: the firmware refused");
}
