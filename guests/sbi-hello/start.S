/*
 * start.S: entry of the S-mode kernel. OpenSBI's fw_jump jumps here in
 * S-mode with a0 = hartid, a1 = FDT. With HSM only the boot hart arrives, but
 * an older firmware may send every hart: the first to win the lottery runs
 * main, the others park. The stack is static, so no .bss clearing is needed.
 */
	.section .text.init, "ax", @progbits
	.globl _start
_start:
	la	t0, boot_lottery
	li	t1, 1
	amoadd.w t1, t1, (t0)
	bnez	t1, park
	la	sp, stack_top
	call	main
park:
	wfi
	j	park

	.section .data
	.balign 4
boot_lottery:
	.word	0

	.section .bss
	.balign 16
	.space	8192
stack_top:
