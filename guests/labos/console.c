/*
 * console.c: the console on the 16550 UART (its address and interrupt come
 * from the device tree), and kprintf.
 *
 * Output is polled: the kernel writes little, and a polled write works
 * everywhere, even in a panic with interrupts off. A lock keeps the lines of
 * different harts whole.
 *
 * Input is interrupt-driven: the UART raises its PLIC line when a byte
 * arrives (IER.ERBFI), console_intr moves the bytes into a ring and wakes up
 * readers, and console_read sleeps until a line is there.
 */
#include <stdarg.h>
#include "kernel.h"

/* 16550 registers, one byte apart (PC16550D data sheet, table 2). */
#define RBR 0	/* receive buffer (read) */
#define THR 0	/* transmit holding (write) */
#define IER 1	/* interrupt enable */
#define FCR 2	/* FIFO control (write) */
#define MCR 4	/* modem control */
#define LSR 5	/* line status */
#define IER_RX      0x01	/* interrupt when a received byte is ready */
#define FCR_FIFO_ON 0x01	/* enable the FIFOs (not clearing them: keep what was typed early) */
#define MCR_OUT2    0x08	/* on a PC, gates the UART's interrupt line */
#define LSR_DR      0x01	/* a received byte is ready */
#define LSR_THRE    0x20	/* THR empty */

#define INPUT_BYTES 128

static struct spinlock out_lock, in_lock;
static struct {
	char buf[INPUT_BYTES];
	u32 r, w;		/* read and write counts (indices mod INPUT_BYTES) */
	u32 lines;		/* newlines in the ring */
} input;

static volatile u8 *uart(int reg)
{
	return (volatile u8 *)(board.uart_base + reg);
}

void console_init(void)
{
	initlock(&out_lock, "console out");
	initlock(&in_lock, "console in");
	*uart(FCR) = FCR_FIFO_ON;
	*uart(MCR) = MCR_OUT2;
	*uart(IER) = IER_RX;
}

/* The polled write of one byte; callers hold out_lock (or are panicking). */
static void uart_putc(int c)
{
	if (board.uart_base == 0) {	/* a panic before dtb_parse found the UART */
		sbi_call(SBI_EXT_LEGACY_PUTCHAR, 0, c, 0, 0);
		return;
	}
	while ((*uart(LSR) & LSR_THRE) == 0)
		;
	*uart(THR) = (u8)c;
}

void console_putc(int c)
{
	acquire(&out_lock);
	uart_putc(c);
	release(&out_lock);
}

void console_write(const char *s, u64 n)
{
	acquire(&out_lock);
	for (u64 i = 0; i < n; i++)
		uart_putc(s[i]);
	release(&out_lock);
}

/* The UART's interrupt: drain the receive FIFO into the ring (bytes beyond a full ring are lost). */
void console_intr(void *unused)
{
	(void)unused;
	acquire(&in_lock);
	while (*uart(LSR) & LSR_DR) {
		char c = (char)*uart(RBR);
		if (c == '\r')
			c = '\n';
		if (input.w - input.r < INPUT_BYTES) {
			input.buf[input.w++ % INPUT_BYTES] = c;
			if (c == '\n')
				input.lines++;
		}
	}
	if (input.lines > 0)
		wakeup(&input);
	release(&in_lock);
}

/* Blocks until a whole line is in the ring, then copies up to n bytes of it. */
int console_read(char *dst, int n)
{
	int got = 0;

	acquire(&in_lock);
	while (input.lines == 0)
		sleep(&input, &in_lock);
	while (got < n && input.r != input.w) {
		char c = input.buf[input.r++ % INPUT_BYTES];
		dst[got++] = c;
		if (c == '\n') {
			input.lines--;
			break;
		}
	}
	release(&in_lock);
	return got;
}

/* kprintf: %d %u %x %s %c %p, with l for 64 bits (%ld %lu %lx); no widths. */
static void put_num(u64 v, int base, int neg)
{
	char buf[24];
	int n = 0;

	if (neg)
		uart_putc('-');
	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n > 0)
		uart_putc(buf[--n]);
}

static void vprint(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			uart_putc(*fmt);
			continue;
		}
		int lng = 0;
		if (*++fmt == 'l')
			lng = 1, fmt++;
		switch (*fmt) {
		case 'd': {
			long v = lng ? va_arg(ap, long) : va_arg(ap, int);
			put_num(v < 0 ? -(u64)v : (u64)v, 10, v < 0);
			break;
		}
		case 'u':
			put_num(lng ? va_arg(ap, u64) : va_arg(ap, u32), 10, 0);
			break;
		case 'x':
			put_num(lng ? va_arg(ap, u64) : va_arg(ap, u32), 16, 0);
			break;
		case 'p':
			uart_putc('0'), uart_putc('x');
			put_num(va_arg(ap, u64), 16, 0);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			while (s && *s)
				uart_putc(*s++);
			break;
		}
		case 'c':
			uart_putc(va_arg(ap, int));
			break;
		case '%':
			uart_putc('%');
			break;
		default:
			uart_putc('%');
			uart_putc(*fmt);
			break;
		}
		if (*fmt == 0)
			break;
	}
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	acquire(&out_lock);
	vprint(fmt, ap);
	release(&out_lock);
	va_end(ap);
}

/*
 * Prints without the lock (this hart or another may hold it forever) and
 * powers off with a failure. The three numbers (scause, sepc, stval of a
 * kernel trap, say) are printed when `regs` is set.
 */
static void __attribute__((noreturn)) panic_print(const char *s, int regs, u64 a, u64 b, u64 c)
{
	csr_clear(CSR_SSTATUS, MSTATUS_SIE);
	for (const char *pre = "labos: panic on hart "; *pre; pre++)
		uart_putc(*pre);
	put_num(hartid(), 10, 0);
	uart_putc(':'), uart_putc(' ');
	while (*s)
		uart_putc(*s++);
	if (regs) {
		u64 v[3] = { a, b, c };
		for (int i = 0; i < 3; i++)
			uart_putc(' '), uart_putc('0'), uart_putc('x'), put_num(v[i], 16, 0);
	}
	uart_putc('\n');
	poweroff(1);
}

void panic(const char *s)
{
	panic_print(s, 0, 0, 0, 0);
}

void panic_regs(const char *s, u64 a, u64 b, u64 c)
{
	panic_print(s, 1, a, b, c);
}
