/*
 * trap_entry.S: M- and S-mode trap vectors of the selftest.
 *
 * Both swap sp with the scratch register, which holds the top of this
 * level's trap stack (so a trap from S/U, or from code whose sp is bad, has
 * a stack), save every register and the trap CSRs into a struct trap_frame,
 * call the C handler, and return through mret/sret with the (possibly
 * edited) epc and status from the frame.
 *
 * m_vector_table is the same vector in vectored mode (priv spec 3.1.7):
 * entry n records n in last_vector, then joins m_trap_entry.
 */
#include "riscv.h"
#include "selftest.h"

.macro SAVE_GPRS
	sd	x1, 1*8(sp)
	sd	x3, 3*8(sp)
	sd	x4, 4*8(sp)
	sd	x5, 5*8(sp)
	sd	x6, 6*8(sp)
	sd	x7, 7*8(sp)
	sd	x8, 8*8(sp)
	sd	x9, 9*8(sp)
	sd	x10, 10*8(sp)
	sd	x11, 11*8(sp)
	sd	x12, 12*8(sp)
	sd	x13, 13*8(sp)
	sd	x14, 14*8(sp)
	sd	x15, 15*8(sp)
	sd	x16, 16*8(sp)
	sd	x17, 17*8(sp)
	sd	x18, 18*8(sp)
	sd	x19, 19*8(sp)
	sd	x20, 20*8(sp)
	sd	x21, 21*8(sp)
	sd	x22, 22*8(sp)
	sd	x23, 23*8(sp)
	sd	x24, 24*8(sp)
	sd	x25, 25*8(sp)
	sd	x26, 26*8(sp)
	sd	x27, 27*8(sp)
	sd	x28, 28*8(sp)
	sd	x29, 29*8(sp)
	sd	x30, 30*8(sp)
	sd	x31, 31*8(sp)
.endm

.macro RESTORE_GPRS
	ld	x1, 1*8(sp)
	ld	x3, 3*8(sp)
	ld	x4, 4*8(sp)
	ld	x5, 5*8(sp)
	ld	x6, 6*8(sp)
	ld	x7, 7*8(sp)
	ld	x8, 8*8(sp)
	ld	x9, 9*8(sp)
	ld	x10, 10*8(sp)
	ld	x11, 11*8(sp)
	ld	x12, 12*8(sp)
	ld	x13, 13*8(sp)
	ld	x14, 14*8(sp)
	ld	x15, 15*8(sp)
	ld	x16, 16*8(sp)
	ld	x17, 17*8(sp)
	ld	x18, 18*8(sp)
	ld	x19, 19*8(sp)
	ld	x20, 20*8(sp)
	ld	x21, 21*8(sp)
	ld	x22, 22*8(sp)
	ld	x23, 23*8(sp)
	ld	x24, 24*8(sp)
	ld	x25, 25*8(sp)
	ld	x26, 26*8(sp)
	ld	x27, 27*8(sp)
	ld	x28, 28*8(sp)
	ld	x29, 29*8(sp)
	ld	x30, 30*8(sp)
	ld	x31, 31*8(sp)
	ld	x2, 2*8(sp)
.endm

/* One trap entry per level; SCRATCH/EPC/... are that level's CSRs. */
.macro TRAP_ENTRY name, scratch, epc, cause, tval, status, handler, ret
	.balign 4
	.globl \name
\name:
	csrrw	sp, \scratch, sp
	addi	sp, sp, -FRAME_SIZE
	SAVE_GPRS
	csrr	t0, \scratch
	sd	t0, 2*8(sp)
	addi	t0, sp, FRAME_SIZE
	csrw	\scratch, t0
	csrr	t0, \epc
	sd	t0, FRAME_EPC(sp)
	csrr	t0, \cause
	sd	t0, FRAME_CAUSE(sp)
	csrr	t0, \tval
	sd	t0, FRAME_TVAL(sp)
	csrr	t0, \status
	sd	t0, FRAME_STATUS(sp)
	mv	a0, sp
	call	\handler
	ld	t0, FRAME_EPC(sp)
	csrw	\epc, t0
	ld	t0, FRAME_STATUS(sp)
	csrw	\status, t0
	RESTORE_GPRS
	\ret
.endm

	.text
	TRAP_ENTRY m_trap_entry, CSR_MSCRATCH, CSR_MEPC, CSR_MCAUSE, CSR_MTVAL, CSR_MSTATUS, m_trap_handler, mret
	TRAP_ENTRY s_trap_entry, CSR_SSCRATCH, CSR_SEPC, CSR_SCAUSE, CSR_STVAL, CSR_SSTATUS, s_trap_handler, sret

/* Vector stub n: note n in last_vector using two words below the trap stack top. */
.macro VECTOR_STUB n
m_vector_\n:
	csrrw	sp, CSR_MSCRATCH, sp
	sd	t0, -8(sp)
	sd	t1, -16(sp)
	li	t0, \n
	la	t1, last_vector
	sd	t0, 0(t1)
	ld	t0, -8(sp)
	ld	t1, -16(sp)
	csrrw	sp, CSR_MSCRATCH, sp
	j	m_trap_entry
.endm

	VECTOR_STUB 0
	VECTOR_STUB 1
	VECTOR_STUB 3
	VECTOR_STUB 5
	VECTOR_STUB 7
	VECTOR_STUB 9
	VECTOR_STUB 11

/* Entry n at base + 4n; must stay 4-byte jumps, hence norvc. */
	.balign 256
	.globl m_vector_table
m_vector_table:
	.option push
	.option norvc
	j	m_vector_0
	j	m_vector_1
	j	m_trap_entry      /* 2: reserved */
	j	m_vector_3
	j	m_trap_entry      /* 4: reserved */
	j	m_vector_5
	j	m_trap_entry      /* 6: reserved */
	j	m_vector_7
	j	m_trap_entry      /* 8: reserved */
	j	m_vector_9
	j	m_trap_entry      /* 10: reserved */
	j	m_vector_11
	.option pop
