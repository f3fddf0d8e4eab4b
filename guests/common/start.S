/*
 * start.S: entry of every M-mode guest (QEMU virt, -bios none).
 *
 * All harts arrive here at 0x8000_0000 with a0 = hartid, a1 = FDT address.
 * Each hart gets its own stack. Hart 0 clears .bss, sets boot_ready and runs
 * main(hartid, fdt); its return value becomes the exit code. Other harts wait
 * for boot_ready (so they never see .bss before it is cleared) and run
 * secondary_main(hartid, fdt), which by default parks them in a wfi loop.
 */
#include "riscv.h"

	.section .text.init, "ax", @progbits
	.globl _start
_start:
	csrw	CSR_MIE, zero
	la	t0, default_trap_entry
	csrw	CSR_MTVEC, t0
	li	t0, MAX_HARTS
	bgeu	a0, t0, park

	/* sp = stacks + (hartid + 1) * STACK_SIZE */
	la	sp, stacks
	li	t0, STACK_SIZE
	addi	t1, a0, 1
	mul	t0, t0, t1
	add	sp, sp, t0

	bnez	a0, secondary

	CLEAR_BSS
	fence	rw, rw
	la	t0, boot_ready
	li	t1, 1
	sd	t1, 0(t0)
	call	main
	call	finisher_exit
	j	park

secondary:
	la	t0, boot_ready
3:	ld	t1, 0(t0)
	beqz	t1, 3b
	fence	rw, rw
	call	secondary_main
	/* fall through: a returning secondary parks */

	.globl park
park:
	wfi
	j	park

/* Default secondary: park (weak, a guest may take part instead). */
	.weak	secondary_main
secondary_main:
	j	park

/* Any trap before a guest installs its own vector is a bug: report, exit. */
	.balign 4
default_trap_entry:
	csrr	a0, CSR_MCAUSE
	csrr	a1, CSR_MEPC
	csrr	a2, CSR_MTVAL
	call	panic_trap
	j	park

	.section .data
	.balign 8
	.globl boot_ready
boot_ready:
	.dword	0

	.section .bss.stacks, "aw", @nobits
	.balign 16
	.globl stacks
stacks:
	.space	STACK_SIZE * MAX_HARTS
