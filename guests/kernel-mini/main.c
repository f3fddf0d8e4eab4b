/*
 * kernel-mini: an S-mode kernel for any SBI firmware (OpenSBI fw_jump, or
 * popek's own SBI under the hypervisor with --bios hv). It prints one line
 * per step and ends with `kernel-mini: PASS` and an SBI SRST shutdown; on
 * the first failure it prints `kernel-mini: FAIL <what>` and shuts down with
 * reason "system failure".
 *
 *   1. trap vector   stvec -> trapvec.S, which saves every register
 *   2. syscalls      a U-mode process writes a line, asks its pid and fib(40)
 *   3. timer         SBI set_timer + sie.STIE: 3 ticks while U-mode spins
 *   4. fault         an illegal instruction in U-mode kills the process
 *   5. smp           SBI HSM starts the other harts; they check in and stop
 *   6. vm            Sv39: three processes in separate address spaces, made
 *                    by a fork that copies their private pages (vm.c)
 *
 * The output is the same on every run and machine: no times, no hart ids;
 * only the smp line depends on the number of harts.
 */
#include "kernel.h"

/* How long the timer step waits for its ticks (10 s of the 10 MHz timebase). */
#define TIMER_STEP_LIMIT   (10UL * MTIME_HZ)
#define FIB_LINE           "kernel-mini: syscalls write, getpid = 1, fib(40) = 102334155 served\n"

void kernel_main(unsigned long hart, const void *fdt) __attribute__((noreturn));

static void trap_vector_step(void)
{
	csr_write(CSR_SSCRATCH, 0);	/* trapvec.S: 0 while the kernel runs */
	csr_write(CSR_STVEC, (unsigned long)trap_entry);
	if (csr_read(CSR_STVEC) != (unsigned long)trap_entry)
		fail("trap vector: stvec did not keep the handler's address");
	kputs("kernel-mini: trap vector installed\n");
}

static void syscall_step(void)
{
	if (run_user(user_hello, 0) != EXIT_OK)
		fail("syscalls: a system call returned the wrong value");
	kputs(FIB_LINE);
}

static void timer_step(void)
{
	timer_start(TIMER_STEP_LIMIT);
	long status = run_user(user_spin, 0);
	if (status == EXIT_TIMER_TIMEOUT)
		fail("timer: fewer than 3 timer interrupts in 10 s");
	if (status != EXIT_OK || timer_ticks != TICKS_WANTED)
		fail("timer: wrong tick count");
	kputs("kernel-mini: timer 3 ticks while U-mode spun\n");
}

static void fault_step(void)
{
	if (run_user(user_illegal, 0) != KILLED)
		fail("fault: the illegal instruction did not trap");
	if (killed_cause != CAUSE_ILLEGAL_INSN)
		fail("fault: scause is not 2 (illegal instruction)");
	if (killed_epc != (unsigned long)user_illegal_insn)
		fail("fault: sepc is not the faulting instruction");
	kputs("kernel-mini: illegal instruction in U-mode caught (scause 2), process killed\n");
}

void kernel_main(unsigned long hart, const void *fdt)
{
	console_init();
	kputs("kernel-mini: booted in S-mode\n");
	trap_vector_step();
	syscall_step();
	timer_step();
	fault_step();
	smp_step(hart, fdt);
	vm_step();
	kputs("kernel-mini: PASS\n");
	sbi_shutdown(0);
}
