/*
 * start.S: entry of exitbench, an S-mode kernel for OpenSBI's fw_jump
 * (a0 = hartid, a1 = FDT), like sbi-hello's. The first hart to arrive runs
 * exitbench_main; any other parks. Clears .bss (main keeps state there).
 */
	.section .text.init, "ax", @progbits
	.globl _start
_start:
	la	t0, boot_lottery
	li	t1, 1
	amoadd.w t1, t1, (t0)
	bnez	t1, park
	la	sp, stack_top
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	call	exitbench_main	/* a0 = hartid, a1 = FDT, untouched */
park:
	wfi
	j	park

	.section .data
	.balign 4
boot_lottery:
	.word	0

	.section .bss.stack, "aw", @nobits
	.balign 16
	.space	8192
stack_top:
