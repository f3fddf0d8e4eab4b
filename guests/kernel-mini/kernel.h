/*
 * kernel.h: what the pieces of kernel-mini share. kernel-mini is an S-mode
 * kernel in the smallest form that still exercises what a real one needs
 * from its SBI and its hart: a trap vector, a U-mode process with system
 * calls, timer interrupts, a fault that kills the process, and secondary
 * harts started through HSM, processes in their own Sv39 address spaces.
 * See main.c for the steps.
 */
#ifndef KERNEL_MINI_H
#define KERNEL_MINI_H

#include "riscv.h"

/* System call numbers (a7); arguments in a0..a2, result in a0. */
#define SYS_WRITE          1   /* (buf, len): print len bytes of the caller's buffer */
#define SYS_GETPID         2   /* (): the process id */
#define SYS_FIB            3   /* (n): fib(n), computed by the kernel */
#define SYS_TICKS          4   /* (): timer ticks so far, or -1 once the timer step timed out */
#define SYS_EXIT           5   /* (status): end the process */
#define SYS_FORK           6   /* (): a copy of the caller (step 6): 0 in the child, its pid in the parent */
#define SYS_YIELD          7   /* (): let the next process run (step 6) */

/* Step 6's user address space (vm.c). */
#define USER_TEXT          0x10000000UL
#define USER_DATA          0x20000000UL
#define USER_STACK         0x20002000UL
#define VM_PROCS           3       /* the parent and the two children it forks */
#define VM_BASE            100     /* the value in USER_DATA at the forks */

/* Trap frame layout, in 8-byte slots: x1..x31 at their register number. */
#define REG_SP_SLOT        2
#define TF_SEPC            32
#define TF_SSTATUS         33
#define TF_SLOTS           34
#define TF_BYTES           (TF_SLOTS * 8)

#define KSTACK_BYTES       16384   /* the boot hart's kernel stack */
#define TRAP_STACK_BYTES   8192    /* the stack trapvec.S switches to on a trap from U */
#define USTACK_BYTES       8192    /* the process's stack */
#define SECONDARY_STACK_BYTES 1024 /* each secondary hart's stack */

/* Timer interrupts the timer step counts while U-mode spins. */
#define TICKS_WANTED       3

/* Exit statuses of the processes (user.c), and of one killed by a fault. */
#define EXIT_OK            0
#define EXIT_BAD_RESULT    2   /* a system call returned the wrong value */
#define EXIT_TIMER_TIMEOUT 3   /* SYS_TICKS said the timer step timed out */
#define KILLED             (-1L)

#ifndef __ASSEMBLER__

#include "sbi.h"	/* the SBI calls: common/sbi.c */

struct trapframe {
	unsigned long x[32];	/* x[0] unused; x[2] = sp at the trap */
	unsigned long sepc;
	unsigned long sstatus;
};

enum { REG_SP = REG_SP_SLOT, REG_A0 = 10, REG_A1 = 11, REG_A2 = 12, REG_A7 = 17 };

/* trapvec.S */
void trap_entry(void);
/* Runs entry(arg) in U-mode on the process stack; returns its exit status. */
long run_user(void (*entry)(unsigned long), unsigned long arg);
/* run_user on the stack `sp` (a process's own, under paging). */
long run_user_sp(void (*entry)(unsigned long), unsigned long arg, unsigned long sp);
/* Ends the running process: back into run_user's caller with `status`. */
void user_return(long status) __attribute__((noreturn));
void secondary_entry(void);	/* HSM start address: a0 = hartid, a1 = opaque */

/* console.c: output through the SBI (DBCN when present, else legacy putchar). */
void kputs(const char *s);
void kwrite(const char *s, unsigned long len);
void kput_dec(unsigned long v);
void fail(const char *what) __attribute__((noreturn));
void console_init(void);

/* trap.c */
void kernel_trap(struct trapframe *tf);
extern volatile unsigned long timer_ticks;
extern unsigned long killed_cause, killed_epc;
/* Arms the first tick and sie.STIE; SYS_TICKS reports a timeout after `limit` time units. */
void timer_start(unsigned long limit);
unsigned long rdtime(void);

/* user.c: the U-mode programs (they only make system calls). */
void user_hello(unsigned long arg);
void user_spin(unsigned long arg);
void user_illegal(unsigned long arg);
extern const char user_illegal_insn[];	/* the faulting instruction's address */

/* vm.c: step 6, and the system calls of its paged processes. */
extern int vm_active;
void vm_step(void);
long vm_fork(struct trapframe *tf);
long vm_yield(struct trapframe *tf);
long vm_exit(struct trapframe *tf, long status);
void user_forker(unsigned long arg);

/* smp.c */
void smp_step(unsigned long boot_hart, const void *fdt);
void secondary_main(unsigned long hart) __attribute__((noreturn));

#endif /* __ASSEMBLER__ */
#endif
