/*
 * bootargs.c: find `iters=SCALE` in /chosen/bootargs of the flattened device
 * tree (DT spec v0.4 ch. 5) that fw_jump passes in a1.
 *
 * The tree is walked by common/fdt.c's bounded fdt_walk; anything malformed
 * means "no scale" (1/1). SCALE is a decimal number with at most MAX_DIGITS
 * digits and an optional fraction (2, 0.5, 0.001) or a fraction of integers
 * (1/20).
 */
#include "exitbench.h"
#include "fdt.h"

#define MAX_DIGITS       9
/* What the visitor returns to stop the walk once it has found bootargs. */
#define FOUND            1

static const struct scale UNSCALED = { 1, 1 };

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

struct bootargs_search {
	int in_chosen;
	struct scale scale;
};

/* Properties of /chosen come before its subnodes (DT spec 5.4.1). */
static int find_bootargs(const struct fdt_event *ev, void *ctx)
{
	struct bootargs_search *b = ctx;

	switch (ev->kind) {
	case FDT_EVENT_BEGIN_NODE:
		b->in_chosen = ev->depth == 2 && fdt_name_is(ev->name, "chosen");
		return 0;
	case FDT_EVENT_END_NODE:
		b->in_chosen = 0;
		return 0;
	case FDT_EVENT_PROP:
		if (!b->in_chosen || !fdt_name_is(ev->name, "bootargs"))
			return 0;
		b->scale = scale_from_bootargs((const char *)ev->value,
					       (const char *)ev->value + ev->len);
		return FOUND;
	}
	return 0;
}

struct scale bootargs_iters_scale(const void *fdt)
{
	struct bootargs_search b = { 0, UNSCALED };

	return fdt_walk(fdt, find_bootargs, &b) == FOUND ? b.scale : UNSCALED;
}
