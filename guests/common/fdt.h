/* fdt.h: just enough of a flattened device tree reader (DT spec v0.4 ch. 5). */
#ifndef GUESTS_FDT_H
#define GUESTS_FDT_H

/* Number of /cpus/cpu@N nodes, or -1 if the blob is not a sane FDT. */
int fdt_count_cpus(const void *fdt);

#endif
