/*
 * mmubench.h: what mmubench's M-mode setup (main.c) and its S-mode kernel
 * (kernel.S) share: the address-space layout and the kernel data page.
 *
 * One L0 table (l0a) maps the bench window at BENCH_VA (slot = page index):
 *
 *   0 .. PGF_PAGES-1                 pgfault: unmapped, each first touch maps a fresh frame
 *   WALK_FIRST .. +WALK_PAGES-1      tlbwalk: mapped, walked with an empty TLB
 *   PTEMOD_SLOT                      ptemod: its PTE flips between two frames
 *   CTXSW_SLOT                       ctxsw: a different frame in each of the two address spaces
 *
 * Sv39 flavour: root[2] also maps the kernel's gigapage (identity, global).
 * swtlb flavour (--mmu swtlb): the kernel's pages and the tables are wired
 * in the TLB by M-mode; the S refill handler walks the same tables.
 */
#ifndef MMUBENCH_H
#define MMUBENCH_H

#define BENCH_VA      0x40000000
#define PGF_PAGES     384
#define WALK_FIRST    384
#define WALK_PAGES    120
#define PTEMOD_SLOT   510
#define CTXSW_SLOT    511
/* Physical frames behind the window: pgfault's pool, then tlbwalk's and the rest. */
#define PGF_POOL      0x80400000
#define WALK_POOL     0x80600000
#define SPARE_POOL    0x80700000

/* Kernel data page offsets (sscratch points at it; the S stack grows down from its end). */
#define KD_SAVE       0      /* 8 saved registers */
#define KD_MODE       64     /* 0: Sv39, 1: swtlb */
#define KD_L0A        72     /* address of l0a */
#define KD_FAULTS     80     /* pgfault faults or refills handled */
#define KD_RESULTS    128    /* per bench: iters, ticks, instret (3 words) */
#define KD_SIZE       4096

#define BENCH_PGFAULT 0
#define BENCH_PTEMOD  1
#define BENCH_CTXSW   2
#define BENCH_TLBWALK 3
#define BENCHES       4

/* The S kernel's ecall to M: a0 = status, then a1.. details. */
#define DONE_OK       0
#define DONE_PANIC    1

#define MODE_SV39     0
#define MODE_SWTLB    1

#endif
