/*
 * s-start.S: entry of the S-mode kernels linked at 0x8020_0000 (common/s.ld).
 * Not built on its own: a guest's start.S defines the parameters and
 * includes it.
 *
 *   S_START_MAIN   the C function the boot hart calls, as
 *                  S_START_MAIN(hartid, fdt); it must not return
 *   S_START_STACK  bytes of the boot hart's stack (default 8192)
 *
 * The SBI firmware (OpenSBI fw_jump, or popek's --bios hv) enters _start in
 * S-mode with a0 = hartid, a1 = FDT. With HSM only the boot hart arrives; an
 * older firmware may send every hart, and then the first one wins the
 * lottery and the others park. The boot hart clears .bss (the stack is in
 * it too, unused yet) and calls S_START_MAIN with a0 and a1 untouched.
 * `park` is a local label the including file may branch to as well.
 */
#include "riscv.h"

#ifndef S_START_MAIN
#error "define S_START_MAIN before including s-start.S"
#endif
#ifndef S_START_STACK
#define S_START_STACK 8192
#endif

	.section .text.init, "ax", @progbits
	.globl _start
_start:
	la	t0, boot_lottery
	li	t1, 1
	amoadd.w t1, t1, (t0)
	bnez	t1, park
	la	sp, boot_stack_top
	CLEAR_BSS
	call	S_START_MAIN	/* a0 = hartid, a1 = FDT, untouched */
park:
	wfi
	j	park

	.section .data
	.balign 4
boot_lottery:
	.word	0

	.section .bss.stack, "aw", @nobits
	.balign 16
	.space	S_START_STACK
boot_stack_top:
