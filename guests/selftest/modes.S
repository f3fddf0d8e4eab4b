/*
 * modes.S: entering a less privileged mode and coming back.
 *
 * run_in_mode saves the M-mode caller's callee-saved registers in m_ctx and
 * mrets into lower_trampoline with MPP = mode. The trampoline calls fn(arg)
 * on its own stack and ecalls with a7 = ECALL_EXIT_TO_CALLER; the M handler
 * answers with m_resume(a0), which restores m_ctx and returns a0 as
 * run_in_mode's value. s_run_user is the same one level down (sret, s_ctx).
 */
#include "riscv.h"
#include "selftest.h"

.macro SAVE_CTX ctx
	la	t0, \ctx
	sd	ra, 0(t0)
	sd	sp, 8(t0)
	sd	s0, 16(t0)
	sd	s1, 24(t0)
	sd	s2, 32(t0)
	sd	s3, 40(t0)
	sd	s4, 48(t0)
	sd	s5, 56(t0)
	sd	s6, 64(t0)
	sd	s7, 72(t0)
	sd	s8, 80(t0)
	sd	s9, 88(t0)
	sd	s10, 96(t0)
	sd	s11, 104(t0)
.endm

.macro RESTORE_CTX ctx
	la	t0, \ctx
	ld	ra, 0(t0)
	ld	sp, 8(t0)
	ld	s0, 16(t0)
	ld	s1, 24(t0)
	ld	s2, 32(t0)
	ld	s3, 40(t0)
	ld	s4, 48(t0)
	ld	s5, 56(t0)
	ld	s6, 64(t0)
	ld	s7, 72(t0)
	ld	s8, 80(t0)
	ld	s9, 88(t0)
	ld	s10, 96(t0)
	ld	s11, 104(t0)
.endm

	.text
/* long run_in_mode(unsigned long mode, long (*fn)(long), long arg) */
	.globl run_in_mode
run_in_mode:
	SAVE_CTX m_ctx
	la	t0, s_ctx_active
	sd	zero, 0(t0)
	li	t0, MSTATUS_MPP
	csrc	CSR_MSTATUS, t0
	slli	t0, a0, MSTATUS_MPP_SHIFT
	csrs	CSR_MSTATUS, t0
	la	t0, lower_trampoline
	csrw	CSR_MEPC, t0
	mv	a0, a2
	la	sp, lower_stack_top
	mret

/* void m_resume(long value): called by the M handler, never returns there. */
	.globl m_resume
m_resume:
	RESTORE_CTX m_ctx
	ret

/* long s_run_user(long (*fn)(long), long arg), in S-mode */
	.globl s_run_user
s_run_user:
	SAVE_CTX s_ctx
	la	t0, s_ctx_active
	li	t1, 1
	sd	t1, 0(t0)
	li	t0, MSTATUS_SPP
	csrc	CSR_SSTATUS, t0
	la	t0, lower_trampoline
	csrw	CSR_SEPC, t0
	mv	t0, a0
	mv	a0, a1
	mv	a1, t0
	la	sp, user_stack_top
	sret

/* void s_resume(long value): called by the S handler. */
	.globl s_resume
s_resume:
	la	t0, s_ctx_active
	sd	zero, 0(t0)
	RESTORE_CTX s_ctx
	ret

/* Runs in S or U: a0 = arg, a1 = fn. */
lower_trampoline:
	jalr	a1
	li	a7, ECALL_EXIT_TO_CALLER
	ecall
1:	j	1b

	.data
	.balign 8
	.globl s_ctx_active
s_ctx_active:
	.dword	0

	.bss
	.balign 16
m_ctx:	.space	14 * 8
s_ctx:	.space	14 * 8
	.balign 16
	.space	STACK_SIZE
lower_stack_top:
	.space	STACK_SIZE
user_stack_top:
