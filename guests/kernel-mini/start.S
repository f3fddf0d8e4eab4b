/*
 * start.S: entry points of kernel-mini.
 *
 * _start: the common S-mode entry (common/s-start.S): the boot hart clears
 * .bss and calls kernel_main(hartid, fdt) on a KSTACK_BYTES stack.
 *
 * secondary_entry: where SBI HSM hart_start sends the other harts (a0 =
 * hartid, a1 = opaque, satp = 0, sstatus.SIE = 0: SBI spec 9.1). Each takes
 * its own small stack by hart id and runs secondary_main(hartid).
 */
#include "kernel.h"

#define S_START_MAIN  kernel_main
#define S_START_STACK KSTACK_BYTES
#include "s-start.S"

	.section .text
	.balign 4
	.globl secondary_entry
secondary_entry:
	li	t0, MAX_HARTS
	bgeu	a0, t0, park	/* no stack for it: cannot happen with the hart count checked */
	la	sp, secondary_stacks
	addi	t0, a0, 1
	li	t1, SECONDARY_STACK_BYTES
	mul	t0, t0, t1
	add	sp, sp, t0
	la	t0, trap_entry
	csrw	stvec, t0
	call	secondary_main	/* does not return: it stops the hart */
	j	park

	.section .bss.stack, "aw", @nobits
	.balign 16
secondary_stacks:
	.space	MAX_HARTS * SECONDARY_STACK_BYTES
