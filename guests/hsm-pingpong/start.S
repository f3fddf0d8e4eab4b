/*
 * start.S: hsm-pingpong's entry is the common S-mode one (the boot hart runs
 * main); secondary_entry is where every hart_start sends the partner hart.
 */
#define S_START_MAIN main
#include "s-start.S"

#define SBI_EXT_HSM       0x48534D
#define SBI_HSM_HART_STOP 1

/*
 * secondary_entry: S-mode, a0 = hartid, a1 = opaque (SBI spec 9.1). Needs
 * no stack. It records both registers, counts its arrival (amoadd with
 * release, so the records are visible first), and stops itself at once.
 * hart_stop does not return on success: the code after its ecall must never
 * run. If it does, it marks ran_after_stop and parks, and main reports it.
 */
	.text
	.globl	secondary_entry
	.balign	4
secondary_entry:
	la	t0, seen_hart
	sd	a0, 0(t0)
	la	t0, seen_opaque
	sd	a1, 0(t0)
	la	t0, arrivals
	li	t1, 1
	amoadd.d.rl zero, t1, (t0)
	li	a7, SBI_EXT_HSM
	li	a6, SBI_HSM_HART_STOP
	ecall
	/* Not reached when hart_stop works. */
	la	t0, ran_after_stop
	li	t1, 1
	sd	t1, 0(t0)
1:	wfi
	j	1b
