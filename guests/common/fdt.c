/*
 * fdt.c: count /cpus/cpu@N in a flattened device tree (DT spec v0.4 ch. 5).
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

static int equals(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Length of a NUL-terminated name inside [p, end), or -1 if unterminated. */
static long bounded_strlen(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *q = p;

	while (q < end && *q)
		q++;
	return q < end ? q - p : -1;
}

int fdt_count_cpus(const void *fdt)
{
	const unsigned char *blob = fdt;

	if (blob == 0 || be32(blob + 4 * H_MAGIC) != FDT_MAGIC)
		return -1;
	unsigned int total = be32(blob + 4 * H_TOTALSIZE);
	unsigned int off = be32(blob + 4 * H_OFF_STRUCT);
	unsigned int size = be32(blob + 4 * H_SIZE_STRUCT);
	if (total > MAX_TOTALSIZE || off > total || size > total - off)
		return -1;

	const unsigned char *p = blob + off, *end = p + size;
	int depth = 0, in_cpus = 0, cpus = 0;

	for (int tokens = 0; tokens < MAX_TOKENS && p + 4 <= end; tokens++) {
		unsigned int token = be32(p);
		p += 4;
		switch (token) {
		case FDT_BEGIN_NODE: {
			long len = bounded_strlen(p, end);
			if (len < 0 || ++depth > MAX_DEPTH)
				return -1;
			const char *name = (const char *)p;
			if (depth == 2 && equals(name, "cpus"))
				in_cpus = 1;
			else if (depth == 3 && in_cpus && starts_with(name, "cpu@"))
				cpus++;
			p += (len + 1 + 3) & ~3L;
			break;
		}
		case FDT_END_NODE:
			if (depth == 2)
				in_cpus = 0;
			if (--depth < 0)
				return -1;
			break;
		case FDT_PROP: {
			if (p + 8 > end)
				return -1;
			unsigned int len = be32(p);
			if (len > (unsigned long)(end - p) - 8)
				return -1;
			p += 8 + ((len + 3) & ~3u);
			break;
		}
		case FDT_NOP:
			break;
		case FDT_END:
			return cpus;
		default:
			return -1;
		}
	}
	return -1;
}
