/* console.c: a tiny console on UART0 (16550) plus the finisher exit. */
#include "riscv.h"
#include "console.h"

static volatile unsigned char *const uart = (volatile unsigned char *)UART0_BASE;

/* Wait for THR empty (LSR bit 5), then write the byte. */
void console_putc(char c)
{
	while ((uart[UART_LSR] & UART_LSR_THRE) == 0)
		;
	uart[UART_THR] = (unsigned char)c;
}

void console_puts(const char *s)
{
	while (*s)
		console_putc(*s++);
}

void console_put_hex(unsigned long v, int digits)
{
	static const char hex[] = "0123456789abcdef";

	console_puts("0x");
	for (int i = digits - 1; i >= 0; i--)
		console_putc(hex[(v >> (4 * i)) & 0xf]);
}

void console_put_dec(unsigned long v)
{
	char buf[20];
	int n = 0;

	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		console_putc(buf[--n]);
}

void console_put_sdec(long v)
{
	if (v < 0) {
		console_putc('-');
		console_put_dec(-(unsigned long)v);
	} else {
		console_put_dec((unsigned long)v);
	}
}

/* sifive_test: 0x5555 powers off with status 0, (code << 16) | 0x3333 with code. */
void finisher_exit(int code)
{
	unsigned int v = code == 0 ? FINISHER_PASS
				   : ((unsigned int)code << 16) | FINISHER_FAIL;

	mmio_write32(FINISHER_BASE, v);
	for (;;)
		__asm__ volatile ("wfi");
}

void panic_trap(unsigned long cause, unsigned long epc, unsigned long tval)
{
	console_puts("panic: unexpected trap mcause=");
	console_put_hex(cause, 16);
	console_puts(" mepc=");
	console_put_hex(epc, 16);
	console_puts(" mtval=");
	console_put_hex(tval, 16);
	console_putc('\n');
	finisher_exit(EXIT_UNEXPECTED_TRAP);
}
