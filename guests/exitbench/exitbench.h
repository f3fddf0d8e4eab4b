/*
 * exitbench.h: what the pieces of exitbench share. See main.c for the
 * benchmarks and README.md for the output format.
 */
#ifndef EXITBENCH_H
#define EXITBENCH_H

#include "riscv.h"

/* System calls of the U-mode loop (a7), served by trap.S without C. */
#define SYS_NOP            0
#define SYS_EXIT           1

/* Bytes of the stack trap.S switches to on a trap from U-mode. */
#define USER_TRAP_STACK    1024

#ifndef __ASSEMBLER__

/* trap.S: the U-mode loop; a0 = iterations, then SYS_EXIT. */
void user_ecall_loop(unsigned long iterations);
/* trap.S: enters U-mode at `entry` with a0 = arg; returns when it calls SYS_EXIT. */
void run_user(void (*entry)(unsigned long), unsigned long arg);
/* trap.S: the S-mode trap vector (stvec, direct mode). */
void trap_entry(void);
/* main.c: the kernel, entered from start.S. */
void exitbench_main(unsigned long hart, const void *fdt) __attribute__((noreturn));
/* main.c: S-mode traps other than the U-mode fast path. */
void kernel_trap(unsigned long cause, unsigned long epc, unsigned long tval);

/*
 * bootargs.c: the scale given as `iters=SCALE` in /chosen/bootargs, as a
 * fraction num/den (SCALE = a decimal or a ratio: 2, 0.01, 1/20); 1/1 when
 * absent or malformed.
 */
struct scale {
	unsigned long num;
	unsigned long den;
};
struct scale bootargs_iters_scale(const void *fdt);

#endif /* __ASSEMBLER__ */
#endif
