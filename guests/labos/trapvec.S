/*
 * trapvec.S: every trap enters here (stvec, direct mode).
 *
 * The kernel is mapped in every address space (vm.c), so a trap never
 * changes satp; it only has to find a stack. sscratch tells where from:
 * while a program runs it holds the top of that process's kernel stack,
 * while the kernel runs it holds 0 (xv6's and Linux's convention).
 *
 * The trap saves all 31 registers, sepc and sstatus in a struct trapframe
 * (asm.h). A process's frame sits at the top of its kernel stack, under
 * one word that holds the id of the hart it last returned to U on: a
 * program may have changed tp, and the kernel keeps the hart id there. A
 * trap from S pushes its frame on the current stack., calls kernel_trap(frame),
 * and returns through trapret to whatever the frame says then. userret(tf)
 * enters a program for the first time the same way.
 */
#include "riscv.h"
#include "asm.h"

#define SAVE(r)    sd x##r, (r * 8)(sp)
#define LOAD(r)    ld x##r, (r * 8)(sp)

	.section .text
	.balign 4
	.globl trapvec
trapvec:
	csrrw	sp, sscratch, sp
	bnez	sp, 1f			/* from U: sp = kernel stack top, sscratch = user sp */
	csrrw	sp, sscratch, sp	/* from S: sp back, sscratch = 0 again */
1:	addi	sp, sp, -TF_BYTES
	SAVE(1)
	SAVE(3); SAVE(4); SAVE(5); SAVE(6); SAVE(7); SAVE(8); SAVE(9)
	SAVE(10); SAVE(11); SAVE(12); SAVE(13); SAVE(14); SAVE(15); SAVE(16)
	SAVE(17); SAVE(18); SAVE(19); SAVE(20); SAVE(21); SAVE(22); SAVE(23)
	SAVE(24); SAVE(25); SAVE(26); SAVE(27); SAVE(28); SAVE(29); SAVE(30)
	SAVE(31)
	csrrw	t0, sscratch, zero	/* the user sp, or 0 from S; the kernel runs with 0 */
	bnez	t0, 2f
	addi	t0, sp, TF_BYTES	/* from S: the sp before the frame */
	j	3f
2:	ld	tp, TF_BYTES(sp)	/* from U: tp was the program's; userret left the hart id here */
3:	sd	t0, (2 * 8)(sp)
	csrr	t0, sepc
	sd	t0, TF_SEPC(sp)
	csrr	t0, sstatus
	sd	t0, TF_SSTATUS(sp)
	mv	a0, sp
	call	kernel_trap
	mv	a0, sp
	.globl userret
userret:				/* a0 = the frame to return through */
	mv	sp, a0
	ld	t0, TF_SSTATUS(sp)
	csrw	sstatus, t0		/* first: SIE is 0 in a saved sstatus, so no trap from here on */
	ld	t1, TF_SEPC(sp)
	csrw	sepc, t1
	andi	t0, t0, MSTATUS_SPP
	bnez	t0, 4f			/* back to S: sscratch stays 0 */
	addi	t0, sp, TF_BYTES	/* back to U: the next trap gets this stack */
	csrw	sscratch, t0
	sd	tp, 0(t0)		/* and finds this hart's id just above its frame */
4:	LOAD(1)
	LOAD(3); LOAD(4); LOAD(5); LOAD(6); LOAD(7); LOAD(8); LOAD(9)
	LOAD(10); LOAD(11); LOAD(12); LOAD(13); LOAD(14); LOAD(15); LOAD(16)
	LOAD(17); LOAD(18); LOAD(19); LOAD(20); LOAD(21); LOAD(22); LOAD(23)
	LOAD(24); LOAD(25); LOAD(26); LOAD(27); LOAD(28); LOAD(29); LOAD(30)
	LOAD(31)
	LOAD(2)				/* last: it is the frame pointer */
	sret
