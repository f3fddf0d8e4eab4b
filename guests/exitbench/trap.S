/*
 * trap.S: exitbench's trap vector and its trip to U-mode.
 *
 * The convention is xv6's and Linux's: sscratch holds the trap stack while
 * U-mode runs and 0 while the kernel runs, so the first instruction of the
 * vector tells the two apart.
 *
 * A U-mode ecall takes a short path written to be what a lean kernel's
 * syscall path costs: swap sp with sscratch, save two registers, read
 * scause and sepc, step sepc past the ecall, restore, swap back, sret.
 * Under a trap-and-emulate hypervisor each CSR access and the sret on that
 * path is a VM exit of its own, which is the point of the `syscall` bench.
 * Anything else from U-mode is unexpected and goes to C as a panic.
 *
 * Traps from S-mode (the `irq` bench's software interrupt, or a bug) save
 * the caller-saved registers and call kernel_trap(scause, sepc, stval).
 */
#include "exitbench.h"

#define REGBYTES 8
#define KFRAME   (16 * REGBYTES)

	.section .text
	.balign 4
	.globl trap_entry
trap_entry:
	csrrw	sp, sscratch, sp
	bnez	sp, from_user
	csrrw	sp, sscratch, sp	/* from S: sp back, sscratch = 0 again */

from_kernel:
	addi	sp, sp, -KFRAME
	sd	ra, 0*REGBYTES(sp)
	sd	t0, 1*REGBYTES(sp)
	sd	t1, 2*REGBYTES(sp)
	sd	t2, 3*REGBYTES(sp)
	sd	t3, 4*REGBYTES(sp)
	sd	t4, 5*REGBYTES(sp)
	sd	t5, 6*REGBYTES(sp)
	sd	t6, 7*REGBYTES(sp)
	sd	a0, 8*REGBYTES(sp)
	sd	a1, 9*REGBYTES(sp)
	sd	a2, 10*REGBYTES(sp)
	sd	a3, 11*REGBYTES(sp)
	sd	a4, 12*REGBYTES(sp)
	sd	a5, 13*REGBYTES(sp)
	sd	a6, 14*REGBYTES(sp)
	sd	a7, 15*REGBYTES(sp)
	csrr	a0, scause
	csrr	a1, sepc
	csrr	a2, stval
	call	kernel_trap
	ld	ra, 0*REGBYTES(sp)
	ld	t0, 1*REGBYTES(sp)
	ld	t1, 2*REGBYTES(sp)
	ld	t2, 3*REGBYTES(sp)
	ld	t3, 4*REGBYTES(sp)
	ld	t4, 5*REGBYTES(sp)
	ld	t5, 6*REGBYTES(sp)
	ld	t6, 7*REGBYTES(sp)
	ld	a0, 8*REGBYTES(sp)
	ld	a1, 9*REGBYTES(sp)
	ld	a2, 10*REGBYTES(sp)
	ld	a3, 11*REGBYTES(sp)
	ld	a4, 12*REGBYTES(sp)
	ld	a5, 13*REGBYTES(sp)
	ld	a6, 14*REGBYTES(sp)
	ld	a7, 15*REGBYTES(sp)
	addi	sp, sp, KFRAME
	sret

from_user:				/* sp = user_trap_stack_top */
	sd	t0, -1*REGBYTES(sp)
	sd	t1, -2*REGBYTES(sp)
	csrr	t0, scause
	li	t1, CAUSE_ECALL_U
	bne	t0, t1, user_unexpected
	csrr	t0, sepc
	addi	t0, t0, 4		/* ecall is never compressed */
	csrw	sepc, t0
	li	t1, SYS_EXIT
	beq	a7, t1, user_exit
	ld	t0, -1*REGBYTES(sp)
	ld	t1, -2*REGBYTES(sp)
	csrrw	sp, sscratch, sp
	sret

user_unexpected:
	csrw	sscratch, zero
	mv	a0, t0
	csrr	a1, sepc
	csrr	a2, stval
	call	kernel_trap		/* panics: does not return */

/* SYS_EXIT: back in the kernel, return from run_user to its caller. */
user_exit:
	csrw	sscratch, zero
	la	t0, kernel_context
	ld	ra, 0*REGBYTES(t0)
	ld	sp, 1*REGBYTES(t0)
	ld	s0, 2*REGBYTES(t0)
	ld	s1, 3*REGBYTES(t0)
	ld	s2, 4*REGBYTES(t0)
	ld	s3, 5*REGBYTES(t0)
	ld	s4, 6*REGBYTES(t0)
	ld	s5, 7*REGBYTES(t0)
	ld	s6, 8*REGBYTES(t0)
	ld	s7, 9*REGBYTES(t0)
	ld	s8, 10*REGBYTES(t0)
	ld	s9, 11*REGBYTES(t0)
	ld	s10, 12*REGBYTES(t0)
	ld	s11, 13*REGBYTES(t0)
	ret

/*
 * void run_user(void (*entry)(unsigned long), unsigned long arg):
 * saves the callee-saved context, arms sscratch with the U trap stack and
 * srets to entry in U-mode (sstatus.SPP = 0). Paging is off, so U-mode
 * runs the kernel image's own code at its physical address (OpenSBI's PMP
 * lets S and U reach all RAM but the firmware's).
 */
	.globl run_user
run_user:
	la	t0, kernel_context
	sd	ra, 0*REGBYTES(t0)
	sd	sp, 1*REGBYTES(t0)
	sd	s0, 2*REGBYTES(t0)
	sd	s1, 3*REGBYTES(t0)
	sd	s2, 4*REGBYTES(t0)
	sd	s3, 5*REGBYTES(t0)
	sd	s4, 6*REGBYTES(t0)
	sd	s5, 7*REGBYTES(t0)
	sd	s6, 8*REGBYTES(t0)
	sd	s7, 9*REGBYTES(t0)
	sd	s8, 10*REGBYTES(t0)
	sd	s9, 11*REGBYTES(t0)
	sd	s10, 12*REGBYTES(t0)
	sd	s11, 13*REGBYTES(t0)
	la	t1, user_trap_stack_top
	csrw	sscratch, t1
	csrw	sepc, a0
	li	t1, MSTATUS_SPP
	csrc	sstatus, t1
	mv	a0, a1
	sret

/* The U-mode loop: a0 ecalls of SYS_NOP, then SYS_EXIT. Uses no stack. */
	.globl user_ecall_loop
user_ecall_loop:
	li	a7, SYS_NOP
	beqz	a0, 2f
1:	ecall
	addi	a0, a0, -1
	bnez	a0, 1b
2:	li	a7, SYS_EXIT
	ecall
3:	j	3b			/* not reached */

	.section .bss
	.balign 16
kernel_context:
	.space	14 * REGBYTES
	.balign 16
	.space	USER_TRAP_STACK
user_trap_stack_top:
