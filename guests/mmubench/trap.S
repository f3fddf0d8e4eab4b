/* trap.S: mmubench's M-mode vectors: the MMU probe, and the S kernel's ecall that ends the run. */
	.section .text
	.balign 4
	.globl m_trap_entry
m_trap_entry:
	la	sp, stacks + 4096
	call	m_trap
1:	j	1b

/* While probing for the TLB-write CSRs: an illegal instruction means the Sv39 walker. */
	.balign 4
	.globl probe_trap
probe_trap:
	csrr	t0, mepc
	addi	t0, t0, 4
	csrw	mepc, t0
	la	t0, probe_illegal
	li	t1, 1
	sd	t1, 0(t0)
	mret
