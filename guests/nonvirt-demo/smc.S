/*
 * smc.S: the code the self-modifying check copies into its page and runs,
 * kept here as data (in .rodata: never executed in place). Each version
 * reads mstatus; v2 returns just its MIE bit, so running a stale copy of v1
 * is told apart from running v2. The paravirtual build reads it by hypercall.
 */
#include "riscv.h"
#include "nonvirt.h"

	.section .rodata
	.balign 4
	.globl smc_v1, smc_v1_end, smc_v2, smc_v2_end
smc_v1:
#ifdef PARAVIRT
	POPK_READ_MSTATUS_A0
#else
	csrr	a0, CSR_MSTATUS
#endif
	ret
smc_v1_end:
	.balign 4
smc_v2:
#ifdef PARAVIRT
	POPK_READ_MSTATUS_A0
#else
	csrr	a0, CSR_MSTATUS
#endif
	srli	a0, a0, 3
	andi	a0, a0, 1
	ret
smc_v2_end:
