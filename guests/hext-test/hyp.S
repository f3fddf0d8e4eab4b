/*
 * hyp.S: the HS-mode side of hext-test's world switch, and the guest's code.
 *
 * run_guest(entry, vs, regs) saves the host's callee-saved registers, points
 * sscratch at them, sets hstatus.SPV (and SPVP, sstatus.SPP when vs) and
 * srets into the guest. Every trap that reaches HS lands in hs_trap, which
 * stores the guest's a0..a5 into *regs, restores the host and returns
 * scause from run_guest. The guest's snippets are plain code that end in a
 * trap; vs_trap is the guest's own vector (vstvec): it hands vscause and
 * vstval to HS in a3/a4 through an ecall.
 *
 * The H instructions are written with .insn so that the toolchain's -march
 * needs no 'h' (hlv.d: funct7 0x36; hsv.d: 0x37; hfence.gvma: 0x31).
 */
#include "riscv.h"

#define CTX_SP   0
#define CTX_RA   8
#define CTX_S0   16
#define CTX_REGS (16 + 12 * 8)

	.section .text
	.globl run_guest
run_guest:
	la	t6, host_ctx
	sd	sp, CTX_SP(t6)
	sd	ra, CTX_RA(t6)
	sd	s0, CTX_S0 + 0(t6)
	sd	s1, CTX_S0 + 8(t6)
	sd	s2, CTX_S0 + 16(t6)
	sd	s3, CTX_S0 + 24(t6)
	sd	s4, CTX_S0 + 32(t6)
	sd	s5, CTX_S0 + 40(t6)
	sd	s6, CTX_S0 + 48(t6)
	sd	s7, CTX_S0 + 56(t6)
	sd	s8, CTX_S0 + 64(t6)
	sd	s9, CTX_S0 + 72(t6)
	sd	s10, CTX_S0 + 80(t6)
	sd	s11, CTX_S0 + 88(t6)
	sd	a2, CTX_REGS(t6)
	csrw	CSR_SSCRATCH, t6
	la	t0, hs_trap
	csrw	CSR_STVEC, t0
	csrw	CSR_SEPC, a0
	li	t0, 0x80		/* hstatus.SPV */
	csrs	0x600, t0
	li	t0, 0x100		/* hstatus.SPVP, sstatus.SPP */
	csrc	0x600, t0
	csrc	CSR_SSTATUS, t0
	beqz	a1, 1f
	csrs	0x600, t0
	csrs	CSR_SSTATUS, t0
1:	li	a0, 0
	li	a1, 0
	li	a2, 0
	li	a3, 0
	li	a4, 0
	li	a5, 0
	sret

	.balign 4
hs_trap:
	csrrw	t6, CSR_SSCRATCH, t6
	ld	t5, CTX_REGS(t6)
	sd	a0, 0(t5)
	sd	a1, 8(t5)
	sd	a2, 16(t5)
	sd	a3, 24(t5)
	sd	a4, 32(t5)
	sd	a5, 40(t5)
	ld	sp, CTX_SP(t6)
	ld	ra, CTX_RA(t6)
	ld	s0, CTX_S0 + 0(t6)
	ld	s1, CTX_S0 + 8(t6)
	ld	s2, CTX_S0 + 16(t6)
	ld	s3, CTX_S0 + 24(t6)
	ld	s4, CTX_S0 + 32(t6)
	ld	s5, CTX_S0 + 40(t6)
	ld	s6, CTX_S0 + 48(t6)
	ld	s7, CTX_S0 + 56(t6)
	ld	s8, CTX_S0 + 64(t6)
	ld	s9, CTX_S0 + 72(t6)
	ld	s10, CTX_S0 + 80(t6)
	ld	s11, CTX_S0 + 88(t6)
	csrr	a0, CSR_SCAUSE
	ret

	.globl hlv_d, hsv_d, hfence_gvma
hlv_d:
	.insn r 0x73, 4, 0x36, a0, a0, x0
	ret
hsv_d:
	.insn r 0x73, 4, 0x37, x0, a0, a1
	ret
hfence_gvma:
	.insn r 0x73, 0, 0x31, x0, x0, x0
	ret

/* ---- the guest (V=1) ---- */

	.balign 4
	.globl vs_trap
vs_trap:
	csrr	a3, CSR_SCAUSE		/* vscause */
	csrr	a4, CSR_STVAL		/* vstval */
	ecall

	.globl g_csr, g_gpf_load, g_gpf_store, g_gload, g_vinstr, g_vsfault, g_vsip, g_spin, g_vu_csr
/* sstatus and sscratch are the guest's own (vsstatus, vsscratch). */
g_csr:
	csrr	a0, CSR_SSTATUS
	li	a1, 0x5a5a
	csrrw	a2, CSR_SSCRATCH, a1
	ecall
/* A guest physical address the G-stage does not map: guest-page faults. */
g_gpf_load:
	li	a1, 0xd0000000
	ld	a0, 0(a1)
g_gpf_store:
	li	a1, 0xd0000000
	sd	a0, 8(a1)
/* A guest physical address the G-stage maps to another frame. */
g_gload:
	li	a1, 0xc0000000
	ld	a0, 0(a1)
	ecall
/* A hypervisor CSR from VS: a virtual-instruction exception. */
g_vinstr:
	csrr	a0, 0x600
/* Under the guest's own Sv39 table: one good load, one page fault for the guest (hedeleg). */
g_vsfault:
	li	a1, 0x40000000
	ld	a0, 0(a1)
	li	a1, 0x40001000
	ld	a2, 0(a1)
	ecall
/* Enables supervisor software interrupts (vsie.SSIE, vsstatus.SIE) and waits for one. */
g_vsip:
	li	t0, 2
	csrs	CSR_SIE, t0
	csrs	CSR_SSTATUS, t0
g_spin:
	j	g_spin
/* From VU: a hypervisor CSR is a virtual-instruction exception. */
g_vu_csr:
	csrr	a0, 0x600
	ecall

	.section .bss
	.balign 8
host_ctx:
	.space	CTX_REGS + 8
