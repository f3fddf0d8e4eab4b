/* hello: the smallest guest. Prints one line, exits 0; other harts park. */
#include "console.h"

int main(unsigned long hartid, const void *fdt)
{
	(void)hartid;
	(void)fdt;
	console_puts("hello from popek\n");
	return 0;
}
