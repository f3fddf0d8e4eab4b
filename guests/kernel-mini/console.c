/*
 * console.c: kernel-mini's console is the SBI's: the debug console
 * extension (DBCN) when the firmware has it, else the legacy
 * console_putchar (Debian's OpenSBI 1.1 has no DBCN; popek's --bios hv has
 * both).
 */
#include "kernel.h"

#define SBI_DBCN_WRITE_MAX_TRIES 1000	/* a console that keeps accepting nothing is broken */

static int have_dbcn;

void console_init(void)
{
	have_dbcn = sbi_probe(SBI_EXT_DBCN) != 0;
}

/* Writes len bytes at s (a physical address: paging is off). DBCN may write part: retry the rest. */
void kwrite(const char *s, unsigned long len)
{
	if (!have_dbcn) {
		for (unsigned long i = 0; i < len; i++)
			sbi_call(SBI_EXT_LEGACY_PUTCHAR, 0, s[i], 0, 0);
		return;
	}
	for (int tries = 0; len > 0 && tries < SBI_DBCN_WRITE_MAX_TRIES; tries++) {
		struct sbiret r = sbi_call(SBI_EXT_DBCN, SBI_DBCN_WRITE, (long)len, (long)s, 0);
		if (r.error != 0 || (unsigned long)r.value > len)
			return;
		s += r.value;
		len -= (unsigned long)r.value;
	}
}

void kputs(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	kwrite(s, n);
}

void kput_dec(unsigned long v)
{
	char buf[20];
	int n = sizeof(buf);

	do {
		buf[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	kwrite(buf + n, sizeof(buf) - (unsigned long)n);
}

/* Reports a failed step and powers off with reason "system failure". */
void fail(const char *what)
{
	kputs("kernel-mini: FAIL ");
	kputs(what);
	kputs("\n");
	sbi_shutdown(SBI_SRST_SYSTEM_FAILURE);
}
