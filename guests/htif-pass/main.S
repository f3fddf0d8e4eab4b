/*
 * htif-pass: a test in the riscv-tests style. It reports to the host by
 * writing tohost: (code << 1) | 1, where code 0 means pass. The host (a
 * loader that knows the symbols) polls tohost; there is no console output.
 * Secondary harts park.
 */
#include "htif.h"

	.section .text.init, "ax", @progbits
	.globl _start
_start:
	csrr	t0, CSR_MHARTID
	bnez	t0, park
	HTIF_REPORT(0)
park:
	wfi
	j	park

	HTIF_SYMBOLS
