/*
 * htif-fail: a test in the riscv-tests style. It reports to the host by
 * writing tohost: (code << 1) | 1, where code 0 means pass. The host (a
 * loader that knows the symbols) polls tohost; there is no console output.
 * This one fails with code 3: tohost = (3 << 1) | 1 = 7. Secondary harts park.
 */
#include "htif.h"

	.section .text.init, "ax", @progbits
	.globl _start
_start:
	csrr	t0, CSR_MHARTID
	bnez	t0, park
	HTIF_REPORT(3)
park:
	wfi
	j	park

	HTIF_SYMBOLS
