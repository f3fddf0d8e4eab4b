/*
 * nic-args.c: the command line and MAC printing the bare-metal NIC test
 * programs share (nic-args.h). The tree is walked by fdt.c's bounded walker.
 */
#include "nic-args.h"
#include "console.h"
#include "fdt.h"

/* What the visitor returns to stop the walk once it has copied bootargs. */
#define FOUND 1

struct bootargs_scan {
	char *buf;
	unsigned int len;
	int in_chosen;
};

static int find_bootargs(const struct fdt_event *ev, void *ctx)
{
	struct bootargs_scan *s = ctx;
	if (ev->kind == FDT_EVENT_BEGIN_NODE) {
		s->in_chosen = ev->depth == 2 && fdt_name_is(ev->name, "chosen");
		return 0;
	}
	if (ev->kind != FDT_EVENT_PROP || !s->in_chosen || !fdt_name_is(ev->name, "bootargs"))
		return 0;
	for (unsigned int i = 0; i < ev->len && i + 1 < s->len && ev->value[i]; i++)
		s->buf[i] = (char)ev->value[i];
	return FOUND;
}

void bootargs_copy(const void *fdt, char *buf, unsigned int len)
{
	struct bootargs_scan s = { buf, len, 0 };
	for (unsigned int i = 0; i < len; i++)
		buf[i] = 0;
	fdt_walk(fdt, find_bootargs, &s);
}

int args_starts(const char *s, const char *word)
{
	while (*word)
		if (*s++ != *word++)
			return 0;
	return *s == 0 || *s == ' ';
}

unsigned long args_number(const char **p)
{
	unsigned long v = 0;
	while (**p == ' ')
		(*p)++;
	for (int digits = 0; **p >= '0' && **p <= '9' && digits < 9; digits++)
		v = v * 10 + (unsigned long)(*(*p)++ - '0');
	return v;
}

void console_put_mac(const unsigned char *m)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 6; i++) {
		console_putc(hex[m[i] >> 4]);
		console_putc(hex[m[i] & 15]);
		if (i < 5)
			console_putc(':');
	}
}
