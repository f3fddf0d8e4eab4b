/* console.h: polling output on the 16550 UART, and leaving the machine. */
#ifndef GUESTS_CONSOLE_H
#define GUESTS_CONSOLE_H

void console_putc(char c);
void console_puts(const char *s);
/* "0x" then exactly `digits` hex digits (1..16). */
void console_put_hex(unsigned long v, int digits);
void console_put_dec(unsigned long v);
void console_put_sdec(long v);

/* Power off through the sifive_test finisher: 0 = pass, else fail(code). */
void finisher_exit(int code) __attribute__((noreturn));

/* Called by the default trap vector: prints the trap and exits 126. */
void panic_trap(unsigned long cause, unsigned long epc, unsigned long tval)
	__attribute__((noreturn));

#define EXIT_UNEXPECTED_TRAP 126

#endif
