/*
 * sbi-hello: an S-mode kernel that talks only through the SBI (SBI spec
 * v2.0). Prints one line with the debug console extension (DBCN) if the
 * firmware has it, else with the legacy console_putchar, then asks the
 * firmware to shut the machine down (SRST).
 */
#include "riscv.h"

struct sbiret {
	long error;
	long value;
};

/* SBI calling convention (SBI spec ch. 3): a7 = EID, a6 = FID, a0..a5 args. */
static struct sbiret sbi_call(long eid, long fid, long a0, long a1, long a2)
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

static int sbi_probe_extension(long eid)
{
	struct sbiret r = sbi_call(SBI_EXT_BASE, SBI_BASE_PROBE_EXT, eid, 0, 0);

	return r.error == 0 && r.value != 0;
}

static const char message[] = "hello from S-mode via SBI\n";

static void print_message(void)
{
	if (sbi_probe_extension(SBI_EXT_DBCN)) {
		/* console_write(num_bytes, base_lo, base_hi): paging is off, VA = PA. */
		sbi_call(SBI_EXT_DBCN, SBI_DBCN_WRITE, sizeof(message) - 1,
			 (long)message, 0);
		return;
	}
	for (const char *p = message; *p; p++)
		sbi_call(SBI_EXT_LEGACY_PUTCHAR, 0, *p, 0, 0);
}

int main(void)
{
	print_message();
	sbi_call(SBI_EXT_SRST, SBI_SRST_RESET, SBI_SRST_SHUTDOWN,
		 SBI_SRST_NO_REASON, 0);
	for (;;)
		__asm__ volatile ("wfi");
}
