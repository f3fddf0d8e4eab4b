/*
 * start.S: where the harts enter labos.
 *
 * _start (common/s-start.S): the SBI firmware sends the boot hart here in
 * S-mode with a0 = hartid, a1 = the device tree; it clears .bss and calls
 * kmain(hartid, fdt) on boot_stack.
 *
 * secondary_entry: where SBI HSM hart_start sends each other hart (SBI spec
 * 9.1: a0 = hartid, a1 = opaque, satp = 0, interrupts off). It takes the
 * hart's own stack from hart_stacks and calls secondary_main(hartid).
 *
 * Both keep the hart id in tp for the rest of the kernel's life (mycpu()):
 * reading it there is cheaper than asking the firmware, and nothing else
 * uses tp in the kernel (the programs' tp is saved in their trap frames).
 */
#include "riscv.h"
#include "asm.h"

#define S_START_MAIN  kmain
#define S_START_STACK BOOT_STACK
#include "s-start.S"

	.section .text
	.balign 4
	.globl secondary_entry
secondary_entry:
	li	t0, NHART_ASM
	bgeu	a0, t0, park		/* no stack for it (main.c checks the count) */
	mv	tp, a0
	la	sp, hart_stacks
	addi	t0, a0, 1
	li	t1, BOOT_STACK
	mul	t0, t0, t1
	add	sp, sp, t0
	call	secondary_main
	j	park

	.section .bss.stack, "aw", @nobits
	.balign 16
hart_stacks:
	.space	NHART_ASM * BOOT_STACK
