/*
 * exitbench: nanobenchmarks of the operations a trap-and-emulate hypervisor
 * turns into VM exits, run from an S-mode kernel under OpenSBI's fw_jump.
 * Each prints one line (format in README.md):
 *
 *   exitbench: <name> iters=<n> ticks=<time ticks, all iterations> instret=<instructions retired, all iterations>
 *
 * then `exitbench: done`, and the kernel shuts down through SBI SRST.
 *
 *   null     csrr sscratch: no side effect, but a CSR access traps under a hypervisor
 *   syscall  a U-mode ecall round trip through this kernel's trap vector and sret
 *   sbi      SBI Base get_spec_version: a call to the firmware with no effect
 *   mmio     a 1-byte read of the UART's LSR (0x1000_0005)
 *   irq      SBI send_ipi to this hart, until the S software interrupt handler ran
 *
 * Time is rdtime (10 MHz on QEMU virt and popek); instructions are rdinstret,
 * which S-mode may read because OpenSBI sets mcounteren. Both are read once
 * before and once after the loop, so loop overhead is included; instret
 * shows how much (and, natively, counts the firmware's M-mode instructions
 * for sbi and irq too, since minstret counts every retired instruction).
 */
#include "console.h"
#include "exitbench.h"
#include "sbi.h"

/* The UART's line status register, read by the mmio bench. */
#define UART_LSR_ADDR           (UART0_BASE + UART_LSR)

/* A trap exitbench did not ask for, or an IPI that never came: exit status. */
#define EXIT_PANIC              EXIT_UNEXPECTED_TRAP
/* The irq bench gives up on an interrupt after this many polls of its count. */
#define IRQ_MAX_SPINS           100000000UL

static unsigned long rdtime(void)
{
	unsigned long v;

	__asm__ volatile ("rdtime %0" : "=r"(v) :: "memory");
	return v;
}

static unsigned long rdinstret(void)
{
	unsigned long v;

	__asm__ volatile ("rdinstret %0" : "=r"(v) :: "memory");
	return v;
}

/* ---- the benchmarks: each runs n iterations of one operation ---- */

static unsigned long hartid;
/* Software interrupts the S-mode handler has taken; the irq bench waits on it. */
static volatile unsigned long irqs_taken;

static void bench_null(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		unsigned long v;
		__asm__ volatile ("csrr %0, sscratch" : "=r"(v));
	}
}

static void bench_syscall(unsigned long n)
{
	run_user(user_ecall_loop, n);
}

static void bench_sbi(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sbi_call(SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION, 0, 0, 0);
}

static void bench_mmio(unsigned long n)
{
	volatile unsigned char *lsr = (volatile unsigned char *)UART_LSR_ADDR;

	for (unsigned long i = 0; i < n; i++)
		(void)*lsr;
}

/*
 * send_ipi(hart_mask = 1, hart_mask_base = this hart) raises SSIP here;
 * with sie.SSIE and sstatus.SIE set the trap follows as soon as it is
 * pending. The loop waits for the handler's count, so each iteration is
 * the whole path: ecall, the firmware's IPI, delivery, handler, sret.
 */
static void irq_lost(long error) __attribute__((noreturn));

static void bench_irq(unsigned long n)
{
	irqs_taken = 0;
	csr_set(CSR_SIE, MIP_SSIP);
	csr_set(CSR_SSTATUS, MSTATUS_SIE);
	for (unsigned long i = 1; i <= n; i++) {
		struct sbiret r = sbi_call(SBI_EXT_IPI, SBI_IPI_SEND_IPI, 1,
					   (long)hartid, 0);
		unsigned long spins = 0;
		while (irqs_taken != i)
			if (r.error != 0 || ++spins == IRQ_MAX_SPINS)
				irq_lost(r.error);
	}
	csr_clear(CSR_SSTATUS, MSTATUS_SIE);
	csr_clear(CSR_SIE, MIP_SSIP);
}

struct bench {
	const char *name;
	/* Iterations at scale 1: ~50-200 ms natively on popek (~150 M instructions/s). */
	unsigned long iters;
	void (*run)(unsigned long n);
};

static const struct bench benches[] = {
	{ "null", 2000000, bench_null },
	{ "syscall", 200000, bench_syscall },
	{ "sbi", 40000, bench_sbi },
	{ "mmio", 3000000, bench_mmio },
	{ "irq", 10000, bench_irq },
};

#define NBENCHES (sizeof(benches) / sizeof(benches[0]))

static void run_bench(const struct bench *b, struct scale s)
{
	unsigned long n = b->iters * s.num / s.den;

	if (n == 0)
		n = 1;
	unsigned long t0 = rdtime(), i0 = rdinstret();
	b->run(n);
	unsigned long i1 = rdinstret(), t1 = rdtime();

	console_puts("exitbench: ");
	console_puts(b->name);
	console_puts(" iters=");
	console_put_dec(n);
	console_puts(" ticks=");
	console_put_dec(t1 - t0);
	console_puts(" instret=");
	console_put_dec(i1 - i0);
	console_putc('\n');
}

static void warm_up(const struct bench *b, struct scale s)
{
	unsigned long n = b->iters * s.num / s.den / 10;

	b->run(n == 0 ? 1 : n);
}

/* The irq bench's IPI failed or never arrived: say so and stop. */
static void irq_lost(long error)
{
	console_puts("exitbench: panic irq: send_ipi error=");
	console_put_sdec(error);
	console_puts(" irqs_taken=");
	console_put_dec(irqs_taken);
	console_putc('\n');
	finisher_exit(EXIT_PANIC);
}

void kernel_trap(unsigned long cause, unsigned long epc, unsigned long tval)
{
	if (cause == (CAUSE_INTERRUPT | IRQ_S_SOFT)) {
		csr_clear(CSR_SIP, MIP_SSIP);
		irqs_taken++;
		return;
	}
	console_puts("exitbench: panic scause=");
	console_put_hex(cause, 16);
	console_puts(" sepc=");
	console_put_hex(epc, 16);
	console_puts(" stval=");
	console_put_hex(tval, 16);
	console_putc('\n');
	/* The finisher, not SRST: SRST's shutdown would exit QEMU with status 0. */
	finisher_exit(EXIT_PANIC);
}

void exitbench_main(unsigned long hart, const void *fdt)
{
	hartid = hart;
	csr_write(CSR_SSCRATCH, 0);
	csr_write(CSR_STVEC, (unsigned long)trap_entry);

	struct scale s = bootargs_iters_scale(fdt);
	/*
	 * A silent warm-up pass at a tenth of the iterations first: emulators
	 * and hypervisors that compile or cache code (popek's JIT-compiled
	 * interpreter, QEMU's TCG) reach their steady state before anything
	 * is timed. Each bench is warmed up once more right before it is timed:
	 * a JIT that compiled a path while only some exits had been seen may
	 * recompile it once the others have run (measured on popek: the first
	 * null loop after the irq warm-up ran at half speed while V8 did so).
	 */
	for (unsigned long i = 0; i < NBENCHES; i++)
		warm_up(&benches[i], s);
	for (unsigned long i = 0; i < NBENCHES; i++) {
		warm_up(&benches[i], s);
		run_bench(&benches[i], s);
	}
	console_puts("exitbench: done\n");
	sbi_shutdown(SBI_SRST_NO_REASON);
}
