/* fdt.h: just enough of a flattened device tree reader (DT spec v0.4 ch. 5). */
#ifndef GUESTS_FDT_H
#define GUESTS_FDT_H

/* What fdt_walk reports, in structure-block order. */
enum fdt_event_kind { FDT_EVENT_BEGIN_NODE, FDT_EVENT_END_NODE, FDT_EVENT_PROP };

struct fdt_event {
	enum fdt_event_kind kind;
	/*
	 * BEGIN_NODE: the new node's depth (the root is 1); END_NODE: the
	 * depth of the node that ends; PROP: the depth of its node.
	 */
	int depth;
	/*
	 * BEGIN_NODE: the node's name (unit address included); PROP: the
	 * property's name, or 0 when the strings block does not hold it;
	 * END_NODE: 0. Always NUL-terminated inside the blob.
	 */
	const char *name;
	const unsigned char *value;	/* PROP: len bytes, inside the blob */
	unsigned int len;
};

/* Called for each event; a positive return value stops the walk. */
typedef int (*fdt_visit_fn)(const struct fdt_event *event, void *ctx);

/*
 * Walks the structure block of the blob at fdt, calling visit(event, ctx).
 * Returns 0 at FDT_END, the positive value visit stopped with, or -1 if the
 * blob is not a sane FDT (or is too large or deep to walk in bounds).
 */
int fdt_walk(const void *fdt, fdt_visit_fn visit, void *ctx);

/* Does an event's name (which may be 0) equal s? */
int fdt_name_is(const char *name, const char *s);

/* Number of /cpus/cpu@N nodes, or -1 if the blob is not a sane FDT. */
int fdt_count_cpus(const void *fdt);

#endif
