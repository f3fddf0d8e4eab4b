/*
 * swtlb.h: the --mmu swtlb encoding (popek README, "Software-managed TLB"):
 * custom S-mode CSRs 0x5C0-0x5C4 and refill causes 24-26 (the priv spec's
 * custom cause range). Shared by the kernel's C and assembly.
 */
#ifndef GUESTS_SWTLB_H
#define GUESTS_SWTLB_H

#define CSR_STLBVPN      0x5c0   /* VPN (VA 38:12) in 26:0, ASID in 47:32; preset on a refill */
#define CSR_STLBPTE      0x5c1   /* PPN and flags, Sv39 leaf-PTE format */
#define CSR_STLBINDEX    0x5c2   /* write: put the entry in slot (value % 64) */
#define CSR_STLBRANDOM   0x5c3   /* write: put the entry in a slot >= 16 the hardware picks */
#define CSR_STLBFLUSH    0x5c4   /* write 0: flush all; a VA: flush that page */

#define CAUSE_TLB_REFILL_FETCH 24
#define CAUSE_TLB_REFILL_LOAD  25
#define CAUSE_TLB_REFILL_STORE 26

#define SWTLB_ENTRIES    64
#define SWTLB_WIRED      16

/* Page-table entry bits (priv spec 4.3.1), unless common/riscv.h named them already. */
#ifndef PTE_V
#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_U 0x10
#define PTE_G 0x20
#define PTE_A 0x40
#define PTE_D 0x80
#endif

/* The kernel data page: the refill handler's save area and counters (offsets for kernel.S). */
#define KD_SAVE        0     /* 4 saved registers */
#define KD_REFILLS     32    /* refill exceptions handled, by cause: fetch, load, store (3 words) */
#define KD_SIZE        4096

/* Where user pages live: USER_PAGES pages at USER_VA, backed by a pool elsewhere in RAM. */
#define USER_VA        0x80100000UL
#define USER_PAGES     200
#define USER_ROUNDS    3

/* The S kernel's ecall to M: a0 = status (0 ok), a1 = the user's sum. */
#define DONE_OK        0
#define DONE_BAD_TRAP  1

#endif
