/* trap.S: M-mode's trap vector: every trap that reaches M ends the run in m_trap (main.c). */
	.section .text
	.balign 4
	.globl m_trap_entry
m_trap_entry:
	la	sp, stacks + 4096
	call	m_trap
1:	j	1b
