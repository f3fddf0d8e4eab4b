/*
 * start.S: entry points of kernel-mini.
 *
 * _start: the SBI firmware (OpenSBI fw_jump, or popek's --bios hv) enters
 * here in S-mode with a0 = hartid, a1 = FDT. With HSM only the boot hart
 * arrives; an older firmware may send every hart, and then the first one
 * wins the lottery and the others park. The boot hart clears .bss and calls
 * kernel_main(hartid, fdt) on the kernel stack.
 *
 * secondary_entry: where SBI HSM hart_start sends the other harts (a0 =
 * hartid, a1 = opaque, satp = 0, sstatus.SIE = 0: SBI spec 9.1). Each takes
 * its own small stack by hart id and runs secondary_main(hartid).
 */
#include "kernel.h"

	.section .text.init, "ax", @progbits
	.globl _start
_start:
	la	t0, boot_lottery
	li	t1, 1
	amoadd.w t1, t1, (t0)
	bnez	t1, park
	la	sp, kstack_top
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	call	kernel_main	/* a0 = hartid, a1 = FDT, untouched */
park:
	wfi
	j	park

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

	.section .data
	.balign 4
boot_lottery:
	.word	0

	.section .bss.stack, "aw", @nobits
	.balign 16
	.space	KSTACK_BYTES
kstack_top:
	.balign 16
secondary_stacks:
	.space	MAX_HARTS * SECONDARY_STACK_BYTES
