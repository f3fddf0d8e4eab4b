/*
 * kernel.S: mmubench's S-mode kernel, on the pages M-mode wires in the TLB
 * under --mmu swtlb (.text.kernel). s_main(a0 = passes, a1 = satp of
 * address space 1, a2 = satp of address space 2) runs the four benchmarks,
 * leaving iters/ticks/instret in the kernel data page, and ecalls to M.
 *
 * trap: stvec. Sv39: a store page fault in the pgfault window maps a fresh
 * frame, sfence.vma, sret. swtlb: a refill walks the Sv39-format tables (as
 * guests/swtlb does), mapping a fresh frame first when the pgfault window's
 * leaf is empty, and writes the TLB. Anything else panics to M.
 */
#include "../common/riscv.h"
#include "../swtlb/swtlb.h"
#include "mmubench.h"

#define LEAF_RW  (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)

/* t0 = rdtime, t1 = rdinstret (into the given registers). */
.macro STAMP rt, ri
	rdtime	\rt
	rdinstret \ri
.endm

/* Adds (t_end - t_start) to the bench's ticks and instret; s11 = kdata, \b = bench. */
.macro ACCOUNT b, t0s, i0s, t1s, i1s
	sub	\t1s, \t1s, \t0s
	sub	\i1s, \i1s, \i0s
	ld	\t0s, KD_RESULTS + 24*\b + 8(s11)
	add	\t0s, \t0s, \t1s
	sd	\t0s, KD_RESULTS + 24*\b + 8(s11)
	ld	\t0s, KD_RESULTS + 24*\b + 16(s11)
	add	\t0s, \t0s, \i1s
	sd	\t0s, KD_RESULTS + 24*\b + 16(s11)
.endm

.macro ADD_ITERS b, n
	ld	t6, KD_RESULTS + 24*\b(s11)
	add	t6, t6, \n
	sd	t6, KD_RESULTS + 24*\b(s11)
.endm

/* Flushes one page (va in \r) from the TLB: sfence.vma or stlbflush by the mode in s10. */
.macro FLUSH_PAGE r
	bnez	s10, 91f
	sfence.vma \r, zero
	j	92f
91:	csrw	CSR_STLBFLUSH, \r
92:
.endm

	.section .text.kernel, "ax", @progbits
	.balign 4096
	.globl s_main
s_main:
	csrr	s11, CSR_SSCRATCH		/* the kernel data page */
	ld	s10, KD_MODE(s11)
	mv	s9, a0				/* passes */
	mv	s7, a1				/* satp 1 */
	mv	s8, a2				/* satp 2 */
	li	s0, BENCH_VA
	li	s1, 4096
	ld	s2, KD_L0A(s11)

	/* ---- pgfault: store to PGF_PAGES fresh pages; then (untimed) unmap them again ---- */
	mv	s3, s9
pgf_pass:
	STAMP	t0, t1
	mv	t2, s0
	li	t3, PGF_PAGES
1:	sd	zero, 0(t2)
	add	t2, t2, s1
	addi	t3, t3, -1
	bnez	t3, 1b
	STAMP	t4, t5
	ACCOUNT BENCH_PGFAULT, t0, t1, t4, t5
	li	t0, PGF_PAGES
	ADD_ITERS BENCH_PGFAULT, t0
	mv	t2, s0
	mv	t3, s2
	li	t4, PGF_PAGES
2:	sd	zero, 0(t3)
	FLUSH_PAGE t2
	add	t2, t2, s1
	addi	t3, t3, 8
	addi	t4, t4, -1
	bnez	t4, 2b
	addi	s3, s3, -1
	bnez	s3, pgf_pass

	/* ---- ptemod: flip the PTE of PTEMOD_SLOT between two frames, flushing the page each time ---- */
	li	t0, PTEMOD_SLOT * 4096
	add	s4, s0, t0			/* va */
	li	t0, PTEMOD_SLOT * 8
	add	s5, s2, t0			/* &pte */
	li	t0, (SPARE_POOL >> 12) << 10
	ori	s6, t0, LEAF_RW			/* pte A */
	li	t0, ((SPARE_POOL + 4096) >> 12) << 10
	ori	t6, t0, LEAF_RW			/* pte B */
	xor	t6, t6, s6			/* A ^ B: xor flips between them */
	li	t3, 256
	mul	t3, t3, s9
	ADD_ITERS BENCH_PTEMOD, t3
	STAMP	t0, t1
3:	ld	t2, 0(s5)
	xor	t2, t2, t6
	sd	t2, 0(s5)
	FLUSH_PAGE s4
	addi	t3, t3, -1
	bnez	t3, 3b
	STAMP	t4, t5
	ACCOUNT BENCH_PTEMOD, t0, t1, t4, t5

	/* ---- ctxsw: switch satp between the two address spaces, loading through each ---- */
	li	t0, CTXSW_SLOT * 4096
	add	s4, s0, t0
	li	t3, 128
	mul	t3, t3, s9
	slli	t2, t3, 1
	ADD_ITERS BENCH_CTXSW, t2		/* two switches per round */
	STAMP	t0, t1
4:	csrw	CSR_SATP, s8
	ld	t2, 0(s4)
	csrw	CSR_SATP, s7
	ld	t2, 0(s4)
	addi	t3, t3, -1
	bnez	t3, 4b
	STAMP	t4, t5
	ACCOUNT BENCH_CTXSW, t0, t1, t4, t5

	/* ---- tlbwalk: with the window's translations flushed (untimed), load once from each page ---- */
	li	t0, WALK_FIRST * 4096
	add	s4, s0, t0
	mv	s3, s9
walk_pass:
	bnez	s10, 5f
	sfence.vma zero, zero
	j	6f
5:	mv	t2, s4
	li	t3, WALK_PAGES
7:	csrw	CSR_STLBFLUSH, t2
	add	t2, t2, s1
	addi	t3, t3, -1
	bnez	t3, 7b
6:	STAMP	t0, t1
	mv	t2, s4
	li	t3, WALK_PAGES
8:	ld	t6, 0(t2)
	add	t2, t2, s1
	addi	t3, t3, -1
	bnez	t3, 8b
	STAMP	t4, t5
	ACCOUNT BENCH_TLBWALK, t0, t1, t4, t5
	li	t0, WALK_PAGES
	ADD_ITERS BENCH_TLBWALK, t0
	addi	s3, s3, -1
	bnez	s3, walk_pass

	li	a0, DONE_OK
	ecall
	j	.

/* ---- the trap vector: the pgfault window's faults (Sv39) and every refill (swtlb) ---- */
	.balign 4
	.globl s_trap
s_trap:
	csrrw	sp, CSR_SSCRATCH, sp		/* sp = the kernel data page */
	sd	t0, KD_SAVE+0(sp)
	sd	t1, KD_SAVE+8(sp)
	sd	t2, KD_SAVE+16(sp)
	sd	t3, KD_SAVE+24(sp)
	sd	t4, KD_SAVE+32(sp)
	csrr	t0, CSR_STVAL
	csrr	t1, CSR_SCAUSE
	ld	t2, KD_MODE(sp)
	bnez	t2, refill

	/* Sv39: only a store page fault in the pgfault window is expected. */
	li	t2, 15
	bne	t1, t2, panic
	jal	t4, pgf_leaf			/* t3 = &pte, t2 = the new leaf (or panic) */
	sd	t2, 0(t3)
	sfence.vma t0, zero
	j	trap_done

refill:
	addi	t1, t1, -CAUSE_TLB_REFILL_FETCH
	li	t2, 2
	bgtu	t1, t2, panic
	csrr	t1, CSR_SATP
	slli	t1, t1, 20			/* root = satp.PPN << 12 */
	srli	t1, t1, 8
	li	t3, 2
walk:
	slli	t2, t3, 3
	add	t2, t2, t3
	addi	t2, t2, 12
	srl	t2, t0, t2
	andi	t2, t2, 0x1ff
	slli	t2, t2, 3
	add	t1, t1, t2			/* &pte */
	ld	t2, 0(t1)
	beqz	t3, leaf
	andi	t4, t2, PTE_V
	beqz	t4, panic
	andi	t4, t2, PTE_R | PTE_W | PTE_X
	bnez	t4, panic			/* superpages: the kernel is wired, never refilled */
	srli	t2, t2, 10
	slli	t1, t2, 12
	addi	t3, t3, -1
	j	walk
leaf:
	andi	t4, t2, PTE_V
	bnez	t4, 1f
	mv	t3, t1
	jal	t4, pgf_leaf			/* an empty leaf: a first touch of the pgfault window */
1:	ori	t2, t2, PTE_A
	csrr	t3, CSR_SCAUSE
	addi	t3, t3, -CAUSE_TLB_REFILL_STORE
	bnez	t3, 2f
	ori	t2, t2, PTE_D
2:	sd	t2, 0(t1)
	csrw	CSR_STLBPTE, t2
	csrw	CSR_STLBRANDOM, zero

trap_done:
	ld	t0, KD_FAULTS(sp)
	addi	t0, t0, 1
	sd	t0, KD_FAULTS(sp)
	ld	t0, KD_SAVE+0(sp)
	ld	t1, KD_SAVE+8(sp)
	ld	t2, KD_SAVE+16(sp)
	ld	t3, KD_SAVE+24(sp)
	ld	t4, KD_SAVE+32(sp)
	csrrw	sp, CSR_SSCRATCH, sp
	sret

/*
 * pgf_leaf: t0 = the faulting va. If it is in the pgfault window, returns
 * (jalr t4) with t1 = t3 = &its pte in l0a and t2 = a leaf mapping its
 * fresh frame; otherwise panics.
 */
pgf_leaf:
	li	t2, BENCH_VA
	sub	t2, t0, t2
	srli	t2, t2, 12			/* page index */
	li	t3, PGF_PAGES
	bgeu	t2, t3, panic
	slli	t3, t2, 3
	ld	t1, KD_L0A(sp)
	add	t3, t3, t1			/* &pte */
	li	t1, PGF_POOL >> 12
	add	t2, t2, t1
	slli	t2, t2, 10
	ori	t2, t2, LEAF_RW
	mv	t1, t3
	jalr	zero, 0(t4)

panic:
	li	a0, DONE_PANIC
	csrr	a1, CSR_SCAUSE
	csrr	a2, CSR_STVAL
	csrr	a3, CSR_SEPC
	ecall
	j	.

	.balign 4096
	.globl kernel_text_end
kernel_text_end:
