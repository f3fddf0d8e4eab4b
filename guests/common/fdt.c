/*
 * fdt.c: a bounded walk of a flattened device tree (DT spec v0.4 ch. 5), and
 * what the guests use it for: counting /cpus/cpu@N.
 *
 * The blob comes from the board, but a guest still bounds every loop: the
 * walk stops at the end of the structure block, after MAX_TOKENS tokens, or
 * at a depth beyond MAX_DEPTH, and refuses offsets that leave the blob.
 */
#include "fdt.h"

#define FDT_MAGIC        0xd00dfeedu
#define FDT_BEGIN_NODE   1
#define FDT_END_NODE     2
#define FDT_PROP         3
#define FDT_NOP          4
#define FDT_END          9
#define MAX_TOKENS       100000
#define MAX_DEPTH        16
#define MAX_TOTALSIZE    (16u << 20)

/* Header fields, big-endian 32-bit words (DT spec 5.2). */
enum header_word { H_MAGIC, H_TOTALSIZE, H_OFF_STRUCT, H_OFF_STRINGS,
		   H_OFF_RSVMAP, H_VERSION, H_LAST_COMP, H_BOOT_CPU,
		   H_SIZE_STRINGS, H_SIZE_STRUCT };

static unsigned int be32(const unsigned char *p)
{
	return (unsigned int)p[0] << 24 | (unsigned int)p[1] << 16 |
	       (unsigned int)p[2] << 8 | p[3];
}

static int starts_with(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return 0;
	return 1;
}

int fdt_name_is(const char *name, const char *s)
{
	if (name == 0)
		return 0;
	while (*name && *name == *s)
		name++, s++;
	return *name == *s;
}

/* Length of a NUL-terminated name inside [p, end), or -1 if unterminated. */
static long bounded_strlen(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *q = p;

	while (q < end && *q)
		q++;
	return q < end ? q - p : -1;
}

/* The property name at `off` in the strings block [strings, end), or 0 if it is not in it. */
static const char *prop_name(const unsigned char *strings, const unsigned char *end,
			     unsigned int off)
{
	if (strings == 0 || off >= (unsigned long)(end - strings) ||
	    bounded_strlen(strings + off, end) < 0)
		return 0;
	return (const char *)strings + off;
}

int fdt_walk(const void *fdt, fdt_visit_fn visit, void *ctx)
{
	const unsigned char *blob = fdt;

	if (blob == 0 || be32(blob + 4 * H_MAGIC) != FDT_MAGIC)
		return -1;
	unsigned int total = be32(blob + 4 * H_TOTALSIZE);
	unsigned int off = be32(blob + 4 * H_OFF_STRUCT);
	unsigned int size = be32(blob + 4 * H_SIZE_STRUCT);
	if (total > MAX_TOTALSIZE || off > total || size > total - off)
		return -1;
	/* A strings block that leaves the blob only costs the property names. */
	unsigned int soff = be32(blob + 4 * H_OFF_STRINGS);
	unsigned int ssize = be32(blob + 4 * H_SIZE_STRINGS);
	const unsigned char *strings = 0, *strings_end = 0;
	if (soff <= total && ssize <= total - soff)
		strings = blob + soff, strings_end = strings + ssize;

	const unsigned char *p = blob + off, *end = p + size;
	int depth = 0;

	for (int tokens = 0; tokens < MAX_TOKENS && p + 4 <= end; tokens++) {
		struct fdt_event ev = { 0 };
		unsigned int token = be32(p);
		p += 4;
		switch (token) {
		case FDT_BEGIN_NODE: {
			long len = bounded_strlen(p, end);
			if (len < 0 || ++depth > MAX_DEPTH)
				return -1;
			ev.kind = FDT_EVENT_BEGIN_NODE;
			ev.name = (const char *)p;
			p += (len + 1 + 3) & ~3L;
			break;
		}
		case FDT_END_NODE:
			if (depth == 0)
				return -1;
			ev.kind = FDT_EVENT_END_NODE;
			break;
		case FDT_PROP: {
			if (p + 8 > end)
				return -1;
			unsigned int len = be32(p);
			if (len > (unsigned long)(end - p) - 8)
				return -1;
			ev.kind = FDT_EVENT_PROP;
			ev.name = prop_name(strings, strings_end, be32(p + 4));
			ev.value = p + 8;
			ev.len = len;
			p += 8 + ((len + 3) & ~3u);
			break;
		}
		case FDT_NOP:
			continue;
		case FDT_END:
			return 0;
		default:
			return -1;
		}
		ev.depth = depth;
		int stop = visit(&ev, ctx);
		if (token == FDT_END_NODE)
			depth--;
		if (stop > 0)
			return stop;
	}
	return -1;
}

struct cpu_count {
	int in_cpus;
	int cpus;
};

static int count_cpu_node(const struct fdt_event *ev, void *ctx)
{
	struct cpu_count *c = ctx;

	if (ev->kind == FDT_EVENT_BEGIN_NODE) {
		if (ev->depth == 2 && fdt_name_is(ev->name, "cpus"))
			c->in_cpus = 1;
		else if (ev->depth == 3 && c->in_cpus && starts_with(ev->name, "cpu@"))
			c->cpus++;
	} else if (ev->kind == FDT_EVENT_END_NODE && ev->depth == 2) {
		c->in_cpus = 0;
	}
	return 0;
}

int fdt_count_cpus(const void *fdt)
{
	struct cpu_count c = { 0, 0 };

	return fdt_walk(fdt, count_cpu_node, &c) < 0 ? -1 : c.cpus;
}
