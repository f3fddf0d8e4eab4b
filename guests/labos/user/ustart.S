/*
 * ustart.S: the first instruction of every program, at USER_BASE. exec puts
 * the program's name in a0 and its argument in a1 (both on the stack) and
 * sp below them; main (main.c) picks the program by name and its return
 * value becomes the exit status.
 */
	.section .text.ustart, "ax", @progbits
	.globl _ustart
_ustart:
	call	umain
	call	exit	/* not reached: umain exits */
1:	j	1b
