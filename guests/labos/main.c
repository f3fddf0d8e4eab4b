/*
 * main.c: how labos comes up, in order. The boot hart runs kmain; every
 * other hart runs secondary_main (smp.c) once started.
 *
 * The last step starts the first process, init (user/init.c), with the
 * kernel command line (/chosen/bootargs) as its argument: it runs the
 * programs named there, or the default set, one after the other. When init
 * exits, the kernel powers the machine off through SBI SRST (proc.c).
 */
#include "kernel.h"

int boot_hart;

#define FINISHER_FAIL_1 ((1 << 16) | 0x3333)	/* sifive,test0: fail with exit code 1 */

/*
 * Powers the machine off through SBI SRST. A failure is reported through
 * the board's test finisher first, when the device tree has one: OpenSBI's
 * driver for it turns every SRST shutdown into "pass", whatever the reason,
 * and a failed run must not look like a good one to whoever runs the board.
 */
void poweroff(int failed)
{
	anic_flush();	/* frames still in an assigned NIC's TX ring go out first */
	if (failed && board.finisher_base)
		*(volatile u32 *)board.finisher_base = FINISHER_FAIL_1;
	sbi_shutdown(failed ? SBI_SRST_SYSTEM_FAILURE : SBI_SRST_NO_REASON);
}

void kmain(u64 hart, const void *fdt) __attribute__((noreturn));
void kmain(u64 hart, const void *fdt)
{
	__asm__ volatile ("mv tp, %0" :: "r"(hart));	/* mycpu(): see start.S */
	boot_hart = (int)hart;
	dtb_parse(fdt);
	if (hart >= NHART || board.uart_base == 0)
		panic("kmain: boot hart id too large, or no UART in the device tree");
	console_init();
	kprintf("\nlabos: booting on hart %lu, %d harts, timebase %lu Hz, timer %s\n",
		hart, board.harts, board.timebase, board.sstc ? "sstc" : "sbi");
	if (board.bootargs_too_long)
		kprintf("labos: the command line is longer than %lu bytes: ignored\n", sizeof(board.bootargs) - 1);
	kinit();
	kvm_init();
	kvm_inithart();
	kprintf("labos: sv39 on, largest ASID %lu\n", asid_max);
	procinit();
	trapinit_hart();
	plic_init();
	plic_inithart();
	virtio_probe();
	ne2000_probe();
	anic_probe();
	timer_init();
	timer_init_hart();
	cpus[hart].started = 1;
	smp_start(hart);
	spawn("init", board.bootargs, -1);
	scheduler();
}
