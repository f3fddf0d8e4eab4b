/*
 * trapvec.S: kernel-mini's trap vector and its way in and out of U-mode.
 *
 * sscratch holds the trap stack's top while U-mode runs and 0 while the
 * kernel runs (xv6's and Linux's convention), so the vector's first
 * instruction tells the two apart. Every trap saves all 31 registers, sepc
 * and sstatus in a trap frame, calls kernel_trap(frame), and returns with
 * sret to whatever the frame then says: kernel_trap may change the frame
 * (a system call's result, sepc past the ecall).
 */
#include "kernel.h"

#define SAVE(r)    sd x##r, (r * 8)(sp)
#define LOAD(r)    ld x##r, (r * 8)(sp)

	.section .text
	.balign 4
	.globl trap_entry
trap_entry:
	csrrw	sp, sscratch, sp
	bnez	sp, 1f			/* from U: sp = trap stack, sscratch = user sp */
	csrrw	sp, sscratch, sp	/* from S: sp back, sscratch = 0 again */
1:	addi	sp, sp, -TF_BYTES
	SAVE(1)
	SAVE(3); SAVE(4); SAVE(5); SAVE(6); SAVE(7); SAVE(8); SAVE(9)
	SAVE(10); SAVE(11); SAVE(12); SAVE(13); SAVE(14); SAVE(15); SAVE(16)
	SAVE(17); SAVE(18); SAVE(19); SAVE(20); SAVE(21); SAVE(22); SAVE(23)
	SAVE(24); SAVE(25); SAVE(26); SAVE(27); SAVE(28); SAVE(29); SAVE(30)
	SAVE(31)
	csrrw	t0, sscratch, zero	/* user sp, or 0 from S; the kernel runs with 0 */
	bnez	t0, 2f
	addi	t0, sp, TF_BYTES	/* from S: the sp before the frame */
2:	sd	t0, (REG_SP_SLOT * 8)(sp)
	csrr	t0, sepc
	sd	t0, (TF_SEPC * 8)(sp)
	csrr	t0, sstatus
	sd	t0, (TF_SSTATUS * 8)(sp)
	mv	a0, sp
	call	kernel_trap

	ld	t0, (TF_SEPC * 8)(sp)
	csrw	sepc, t0
	ld	t0, (TF_SSTATUS * 8)(sp)
	csrw	sstatus, t0
	andi	t0, t0, MSTATUS_SPP
	bnez	t0, 3f			/* back to S: sscratch stays 0 */
	addi	t0, sp, TF_BYTES	/* back to U: the next trap gets this stack */
	csrw	sscratch, t0
3:	LOAD(1)
	LOAD(3); LOAD(4); LOAD(5); LOAD(6); LOAD(7); LOAD(8); LOAD(9)
	LOAD(10); LOAD(11); LOAD(12); LOAD(13); LOAD(14); LOAD(15); LOAD(16)
	LOAD(17); LOAD(18); LOAD(19); LOAD(20); LOAD(21); LOAD(22); LOAD(23)
	LOAD(24); LOAD(25); LOAD(26); LOAD(27); LOAD(28); LOAD(29); LOAD(30)
	LOAD(31)
	LOAD(2)				/* last: it is the frame pointer */
	sret

/*
 * long run_user(void (*entry)(unsigned long), unsigned long arg):
 * saves the kernel's callee-saved registers, points sscratch at the trap
 * stack and srets to entry(arg) in U-mode on the process stack, with ra =
 * 0 (a process must leave through SYS_EXIT). Paging is off, so U-mode runs
 * this image's own code at its physical address. run_user_sp(entry, arg,
 * sp) is the same on the stack sp (step 6: a process's own, under paging).
 */
	.globl run_user
run_user:
	la	a2, ustack_top
	.globl run_user_sp
run_user_sp:
	la	t0, kernel_context
	sd	ra, 0*8(t0)
	sd	sp, 1*8(t0)
	sd	s0, 2*8(t0)
	sd	s1, 3*8(t0)
	sd	s2, 4*8(t0)
	sd	s3, 5*8(t0)
	sd	s4, 6*8(t0)
	sd	s5, 7*8(t0)
	sd	s6, 8*8(t0)
	sd	s7, 9*8(t0)
	sd	s8, 10*8(t0)
	sd	s9, 11*8(t0)
	sd	s10, 12*8(t0)
	sd	s11, 13*8(t0)
	la	t1, trap_stack_top
	csrw	sscratch, t1
	csrw	sepc, a0
	li	t1, MSTATUS_SPP
	csrc	sstatus, t1		/* sret to U */
	mv	a0, a1
	li	ra, 0
	mv	sp, a2
	sret

/*
 * void user_return(long status): called by kernel_trap (on the trap stack,
 * sscratch = 0) to end the process: the trap frame is dropped and run_user
 * returns `status` to its caller, in S-mode with sstatus.SIE as the trap
 * left it (0).
 */
	.globl user_return
user_return:
	la	t0, kernel_context
	ld	ra, 0*8(t0)
	ld	sp, 1*8(t0)
	ld	s0, 2*8(t0)
	ld	s1, 3*8(t0)
	ld	s2, 4*8(t0)
	ld	s3, 5*8(t0)
	ld	s4, 6*8(t0)
	ld	s5, 7*8(t0)
	ld	s6, 8*8(t0)
	ld	s7, 9*8(t0)
	ld	s8, 10*8(t0)
	ld	s9, 11*8(t0)
	ld	s10, 12*8(t0)
	ld	s11, 13*8(t0)
	ret

	.section .bss
	.balign 16
kernel_context:
	.space	14 * 8
	.balign 16
	.space	TRAP_STACK_BYTES
trap_stack_top:
	.balign 16
	.space	USTACK_BYTES
ustack_top:
