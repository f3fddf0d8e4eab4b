/*
 * sbi-hello: an S-mode kernel that talks only through the SBI (SBI spec
 * v2.0). Prints one line with the debug console extension (DBCN) if the
 * firmware has it, else with the legacy console_putchar, then asks the
 * firmware to shut the machine down (SRST).
 */
#include "sbi.h"

static const char message[] = "hello from S-mode via SBI\n";

static void print_message(void)
{
	if (sbi_probe(SBI_EXT_DBCN) != 0) {
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
	sbi_shutdown(SBI_SRST_NO_REASON);
}
