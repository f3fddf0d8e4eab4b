/* ulib.c: the little library the programs share: printf, strings, timing. */
#include <stdarg.h>
#include "user.h"

#define LINE 256

unsigned long strlen(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

long atol(const char *s)
{
	long v = 0;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return v;
}

/* The argument as a number, or dflt when it is empty or zero. */
long arg_or(const char *arg, long dflt)
{
	long v = arg ? atol(arg) : 0;

	return v > 0 ? v : dflt;
}

struct out { char buf[LINE]; int n; };

static void put(struct out *o, char c)
{
	if (o->n < LINE)
		o->buf[o->n++] = c;
}

static void put_num(struct out *o, u64 v, int base)
{
	char d[24];
	int n = 0;

	do {
		d[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n > 0)
		put(o, d[--n]);
}

/*
 * printf: %d %u %x %s %c, with l for 64 bits; no widths. The whole text
 * goes out in one write, so lines from different processes never mix.
 */
void printf(const char *fmt, ...)
{
	struct out o;
	va_list ap;

	o.n = 0;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		int lng = *++fmt == 'l';
		if (lng)
			fmt++;
		if (*fmt == 'd') {
			long v = lng ? va_arg(ap, long) : va_arg(ap, int);
			if (v < 0)
				put(&o, '-'), v = -v;
			put_num(&o, (u64)v, 10);
		} else if (*fmt == 'u' || *fmt == 'x') {
			u64 v = lng ? va_arg(ap, u64) : va_arg(ap, unsigned int);
			put_num(&o, v, *fmt == 'u' ? 10 : 16);
		} else if (*fmt == 's') {
			for (const char *s = va_arg(ap, const char *); s && *s; s++)
				put(&o, *s);
		} else if (*fmt == 'c') {
			put(&o, (char)va_arg(ap, int));
		} else if (*fmt == 0) {
			break;
		} else {
			put(&o, *fmt);
		}
	}
	va_end(ap);
	write(o.buf, o.n);
}

/* rdtime ticks to nanoseconds, without overflowing for long runs. */
u64 ticks_to_ns(u64 ticks)
{
	static u64 tb;

	if (tb == 0)
		tb = (u64)info(INFO_TIMEBASE);
	return ticks / tb * 1000000000UL + ticks % tb * 1000000000UL / tb;
}

void pin_here(void)
{
	pin((int)info(INFO_HART));
}

void timing_start(struct timing *t)
{
	t->t0 = rdtime();
	t->i0 = rdinstret();
}

void result(const char *prog, const char *test, u64 ops, struct timing *t)
{
	u64 dt = rdtime() - t->t0, di = rdinstret() - t->i0;
	u64 ns = ticks_to_ns(dt);

	if (ops == 0)
		ops = 1;
	printf("result %s.%s n=%lu ns=%lu ns_per_op=%lu instret_per_op=%lu\n",
	       prog, test, ops, ns, ns / ops, di / ops);
}
