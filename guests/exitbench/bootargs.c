/*
 * bootargs.c: find `iters=SCALE` in /chosen/bootargs of the flattened device
 * tree (DT spec v0.4 ch. 5) that fw_jump passes in a1.
 *
 * The walk is bounded like common/fdt.c's: it stays inside the structure and
 * strings blocks, stops after MAX_TOKENS tokens or beyond MAX_DEPTH, and
 * anything malformed means "no scale" (1/1). SCALE is a decimal number with
 * at most MAX_DIGITS digits and an optional fraction (2, 0.5, 0.001) or a
 * fraction of integers (1/20).
 */
#include "exitbench.h"

#define FDT_MAGIC        0xd00dfeedu
#define FDT_BEGIN_NODE   1
#define FDT_END_NODE     2
#define FDT_PROP         3
#define FDT_NOP          4
#define FDT_END          9
#define MAX_TOKENS       100000
#define MAX_DEPTH        16
#define MAX_TOTALSIZE    (16u << 20)
#define MAX_DIGITS       9

/* Header fields, big-endian 32-bit words (DT spec 5.2). */
enum header_word { H_MAGIC, H_TOTALSIZE, H_OFF_STRUCT, H_OFF_STRINGS,
		   H_OFF_RSVMAP, H_VERSION, H_LAST_COMP, H_BOOT_CPU,
		   H_SIZE_STRINGS, H_SIZE_STRUCT };

static const struct scale UNSCALED = { 1, 1 };

static unsigned int be32(const unsigned char *p)
{
	return (unsigned int)p[0] << 24 | (unsigned int)p[1] << 16 |
	       (unsigned int)p[2] << 8 | p[3];
}

/* Does the NUL-terminated string at p, inside [p, end), equal s? */
static int name_is(const unsigned char *p, const unsigned char *end, const char *s)
{
	while (p < end && *s && *p == (unsigned char)*s)
		p++, s++;
	return p < end && *p == 0 && *s == 0;
}

/* Length of a NUL-terminated name inside [p, end), or -1 if unterminated. */
static long bounded_strlen(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *q = p;

	while (q < end && *q)
		q++;
	return q < end ? q - p : -1;
}

/*
 * Parses SCALE at p (bounded by end): a decimal (2, 0.05) or a fraction of
 * integers (1/20). UNSCALED if it is neither, or zero.
 */
static struct scale parse_scale(const char *p, const char *end)
{
	struct scale s = { 0, 1 };
	unsigned long divisor = 0;
	int digits = 0, divisor_digits = 0, fraction = 0, ratio = 0;

	for (; p < end && *p && *p != ' '; p++) {
		if (*p == '.' && !fraction && !ratio) {
			fraction = 1;
			continue;
		}
		if (*p == '/' && !fraction && !ratio && digits > 0) {
			ratio = 1;
			continue;
		}
		if (*p < '0' || *p > '9')
			return UNSCALED;
		unsigned long d = (unsigned long)(*p - '0');
		if (ratio) {
			if (++divisor_digits > MAX_DIGITS)
				return UNSCALED;
			divisor = divisor * 10 + d;
			continue;
		}
		if (++digits > MAX_DIGITS)
			return UNSCALED;
		s.num = s.num * 10 + d;
		if (fraction)
			s.den *= 10;
	}
	if (ratio)
		s.den = divisor;
	return digits == 0 || s.num == 0 || s.den == 0 ? UNSCALED : s;
}

/* Finds `iters=` at the start of a word in the bootargs string [p, end). */
static struct scale scale_from_bootargs(const char *p, const char *end)
{
	static const char key[] = "iters=";

	for (const char *word = p; word < end && *word; word++) {
		if (word != p && word[-1] != ' ')
			continue;
		const char *k = key, *q = word;
		while (*k && q < end && *q == *k)
			k++, q++;
		if (*k == 0)
			return parse_scale(q, end);
	}
	return UNSCALED;
}

struct scale bootargs_iters_scale(const void *fdt)
{
	const unsigned char *blob = fdt;

	if (blob == 0 || be32(blob + 4 * H_MAGIC) != FDT_MAGIC)
		return UNSCALED;
	unsigned int total = be32(blob + 4 * H_TOTALSIZE);
	unsigned int off = be32(blob + 4 * H_OFF_STRUCT);
	unsigned int size = be32(blob + 4 * H_SIZE_STRUCT);
	unsigned int soff = be32(blob + 4 * H_OFF_STRINGS);
	unsigned int ssize = be32(blob + 4 * H_SIZE_STRINGS);
	if (total > MAX_TOTALSIZE || off > total || size > total - off ||
	    soff > total || ssize > total - soff)
		return UNSCALED;

	const unsigned char *p = blob + off, *end = p + size;
	const unsigned char *strings = blob + soff, *strings_end = strings + ssize;
	int depth = 0, in_chosen = 0;

	for (int tokens = 0; tokens < MAX_TOKENS && p + 4 <= end; tokens++) {
		unsigned int token = be32(p);
		p += 4;
		switch (token) {
		case FDT_BEGIN_NODE: {
			long len = bounded_strlen(p, end);
			if (len < 0 || ++depth > MAX_DEPTH)
				return UNSCALED;
			in_chosen = depth == 2 && name_is(p, end, "chosen");
			p += (len + 1 + 3) & ~3L;
			break;
		}
		case FDT_END_NODE:
			in_chosen = 0;
			if (--depth < 0)
				return UNSCALED;
			break;
		case FDT_PROP: {
			if (p + 8 > end)
				return UNSCALED;
			unsigned int len = be32(p), name = be32(p + 4);
			if (len > (unsigned long)(end - p) - 8)
				return UNSCALED;
			if (in_chosen && name < ssize &&
			    name_is(strings + name, strings_end, "bootargs"))
				return scale_from_bootargs((const char *)p + 8,
							   (const char *)p + 8 + len);
			p += 8 + ((len + 3) & ~3u);
			break;
		}
		case FDT_NOP:
			break;
		case FDT_END:
			return UNSCALED;
		default:
			return UNSCALED;
		}
	}
	return UNSCALED;
}
