/*
 * kernel.S: the S-mode side of the swtlb guest, on one page (.text.kernel),
 * wired in the TLB by M-mode before it drops to S, as a MIPS kernel's refill
 * handler lives in unmapped kseg0.
 *
 * refill: stvec. On a TLB refill exception (scause 24-26) walk the page
 * table named by satp's PPN (Sv39 format, 4 KiB leaves; the table pages are
 * wired and identity mapped), set A (and D for a store) in the leaf, write it
 * into the TLB with stlbpte + stlbrandom (stlbvpn is preset by the hardware),
 * and sret: the access is retried and hits. Anything else (the user's ecall,
 * a fault) goes to M with ecall: a0 = status, a1 = the user's a0.
 */
#include "../common/riscv.h"
#include "swtlb.h"

	.section .text.kernel, "ax", @progbits
	.balign 4096
	.globl s_entry
s_entry:
	/* Enter the user program at its first page, in U-mode (SPP = 0). */
	la	t0, user_entry
	csrw	CSR_SEPC, t0
	li	t0, MSTATUS_SPP
	csrc	CSR_SSTATUS, t0
	sret

	.balign 4
	.globl refill
refill:
	csrrw	sp, CSR_SSCRATCH, sp		/* sp = the kernel data page */
	sd	t0, KD_SAVE+0(sp)
	sd	t1, KD_SAVE+8(sp)
	sd	t2, KD_SAVE+16(sp)
	sd	t3, KD_SAVE+24(sp)
	csrr	t0, CSR_SCAUSE
	addi	t0, t0, -CAUSE_TLB_REFILL_FETCH
	li	t1, 2
	bgtu	t0, t1, not_refill
	csrr	t0, CSR_STVAL
	csrr	t1, CSR_SATP
	slli	t1, t1, 20			/* root = satp.PPN << 12 */
	srli	t1, t1, 8
	li	t3, 2				/* level */
walk:
	/* index = (va >> (12 + 9 * level)) & 0x1ff */
	slli	t2, t3, 3
	add	t2, t2, t3
	addi	t2, t2, 12
	srl	t2, t0, t2
	andi	t2, t2, 0x1ff
	slli	t2, t2, 3
	add	t1, t1, t2			/* &pte */
	ld	t2, 0(t1)
	andi	t2, t2, PTE_V
	beqz	t2, not_refill			/* no mapping: a real fault (a bug in this guest) */
	ld	t2, 0(t1)
	beqz	t3, leaf
	andi	t2, t2, PTE_R | PTE_W | PTE_X
	bnez	t2, not_refill			/* superpages are not used here */
	ld	t2, 0(t1)
	srli	t2, t2, 10
	slli	t1, t2, 12
	addi	t3, t3, -1
	j	walk
leaf:
	/* Software keeps A and D (the TLB checks them, Svade-style). */
	ori	t2, t2, PTE_A
	csrr	t3, CSR_SCAUSE
	addi	t3, t3, -CAUSE_TLB_REFILL_STORE
	bnez	t3, 1f
	ori	t2, t2, PTE_D
1:	sd	t2, 0(t1)
	csrw	CSR_STLBPTE, t2
	csrw	CSR_STLBRANDOM, zero
	csrr	t0, CSR_SCAUSE			/* refills[scause - 24]++ */
	addi	t0, t0, -CAUSE_TLB_REFILL_FETCH
	slli	t0, t0, 3
	add	t0, t0, sp
	ld	t1, KD_REFILLS(t0)
	addi	t1, t1, 1
	sd	t1, KD_REFILLS(t0)
	ld	t0, KD_SAVE+0(sp)
	ld	t1, KD_SAVE+8(sp)
	ld	t2, KD_SAVE+16(sp)
	ld	t3, KD_SAVE+24(sp)
	csrrw	sp, CSR_SSCRATCH, sp
	sret

not_refill:
	/* The user's ecall ends the run (a0 = its sum); anything else is reported as a bad trap. */
	csrr	t0, CSR_SCAUSE
	li	t1, 8
	mv	a1, a0
	li	a0, DONE_OK
	beq	t0, t1, 2f
	li	a0, DONE_BAD_TRAP
	csrr	a1, CSR_SCAUSE
	csrr	a2, CSR_STVAL
	csrr	a3, CSR_SEPC
2:	ecall
	j	.

/*
 * The user program, on a page of its own (mapped U|R|X, refilled like any
 * other): USER_ROUNDS passes over USER_PAGES pages, adding the page number
 * + 1 to a word of each, then a sum of those words, returned by ecall.
 */
	.section .text.user, "ax", @progbits
	.balign 4096
	.globl user_entry
user_entry:
	li	s0, USER_VA
	li	s1, USER_PAGES
	li	s2, USER_ROUNDS
	li	t3, 4096
round:
	mv	t0, s0
	li	t1, 0
1:	ld	t2, 0(t0)
	addi	t2, t2, 1
	add	t2, t2, t1
	sd	t2, 0(t0)
	add	t0, t0, t3
	addi	t1, t1, 1
	bne	t1, s1, 1b
	addi	s2, s2, -1
	bnez	s2, round
	/* sum */
	mv	t0, s0
	li	t1, 0
	li	a0, 0
2:	ld	t2, 0(t0)
	add	a0, a0, t2
	add	t0, t0, t3
	addi	t1, t1, 1
	bne	t1, s1, 2b
	ecall
	j	.
