/*
 * harness.c: group reporting, and the C halves of the M and S trap handlers.
 *
 * Policy of both handlers, in order:
 *   1. interrupts: record in last_irq and silence the source;
 *   2. ecall with a7 = ECALL_EXIT_TO_CALLER: resume the caller of
 *      run_in_mode (M) or s_run_user (S); S forwards it to M otherwise;
 *   3. a trap announced by trap_expect(): record in last_trap and resume
 *      after the instruction (at ra for a fetch fault);
 *   4. anything else fails the current group.
 */
#include "riscv.h"
#include "console.h"
#include "selftest.h"

volatile struct trap_record last_trap;
volatile struct irq_record last_irq;
volatile unsigned long last_vector;

static volatile int trap_armed;
static enum group current;

static const char *const group_names[] = {
	[G_RV64I] = "rv64i",
	[G_LOADSTORE] = "loadstore",
	[G_RV64M] = "rv64m",
	[G_RV64A] = "rv64a",
	[G_RV64C] = "rv64c",
	[G_CSR] = "csr",
	[G_TRAPS] = "traps",
	[G_PRIVILEGE] = "privilege",
	[G_INTERRUPTS] = "interrupts",
	[G_SV39] = "sv39",
	[G_SMP] = "smp",
};

#define TRAP_STACK_WORDS (STACK_SIZE / 8)
static unsigned long m_trap_stack[TRAP_STACK_WORDS] __attribute__((aligned(16)));
static unsigned long s_trap_stack[TRAP_STACK_WORDS] __attribute__((aligned(16)));

void group_begin(enum group g)
{
	current = g;
}

static void print_prefix(void)
{
	console_puts("selftest: ");
	console_puts(group_names[current]);
	console_putc(' ');
}

void group_ok(void)
{
	print_prefix();
	console_puts("ok\n");
}

void note(const char *text)
{
	print_prefix();
	console_puts(text);
	console_putc('\n');
}

void fail(const char *what)
{
	print_prefix();
	console_puts("FAIL ");
	console_puts(what);
	console_putc('\n');
	finisher_exit(current);
}

void check_eq(const char *what, unsigned long expected, unsigned long got)
{
	if (expected == got)
		return;
	print_prefix();
	console_puts("FAIL ");
	console_puts(what);
	console_puts(": expected ");
	console_put_hex(expected, 16);
	console_puts(" got ");
	console_put_hex(got, 16);
	console_putc('\n');
	finisher_exit(current);
}

void trap_expect(void)
{
	last_trap.count = 0;
	last_trap.cause = last_trap.tval = last_trap.epc = ~0UL;
	last_trap.level = ~0UL;
	__asm__ volatile ("" ::: "memory");
	trap_armed = 1;
}

void check_trap(const char *what, unsigned long cause, unsigned long tval,
		unsigned long level)
{
	trap_armed = 0;
	if (last_trap.count != 1 || last_trap.cause != cause ||
	    last_trap.tval != tval || last_trap.level != level) {
		print_prefix();
		console_puts("FAIL ");
		console_puts(what);
		console_puts(": expected trap cause ");
		console_put_dec(cause);
		console_puts(" tval ");
		console_put_hex(tval, 16);
		console_puts(" at level ");
		console_put_dec(level);
		console_puts(", got ");
		console_put_dec(last_trap.count);
		console_puts(" trap(s), cause ");
		console_put_hex(last_trap.cause, 16);
		console_puts(" tval ");
		console_put_hex(last_trap.tval, 16);
		console_puts(" at level ");
		console_put_sdec((long)last_trap.level);
		console_putc('\n');
		finisher_exit(current);
	}
}

void check_no_trap(const char *what)
{
	trap_armed = 0;
	CHECK_EQ(what, 0, last_trap.count);
}

static void fail_unexpected(const char *level, struct trap_frame *f)
{
	print_prefix();
	console_puts("FAIL unexpected trap in ");
	console_puts(level);
	console_puts(" handler: cause ");
	console_put_hex(f->cause, 16);
	console_puts(" epc ");
	console_put_hex(f->epc, 16);
	console_puts(" tval ");
	console_put_hex(f->tval, 16);
	console_putc('\n');
	finisher_exit(current);
}

static int is_fetch_fault(unsigned long cause)
{
	return cause == CAUSE_MISALIGNED_FETCH || cause == CAUSE_FETCH_ACCESS ||
	       cause == CAUSE_FETCH_PAGE_FAULT;
}

/* 16-bit instructions have low bits != 0b11 (unpriv spec 1.5). */
static unsigned long insn_length(unsigned long pc)
{
	return (*(volatile unsigned short *)pc & 3) == 3 ? 4 : 2;
}

static void record_expected(struct trap_frame *f, unsigned long level)
{
	last_trap.cause = f->cause;
	last_trap.tval = f->tval;
	last_trap.epc = f->epc;
	last_trap.status = f->status;
	last_trap.level = level;
	last_trap.count++;
	if (is_fetch_fault(f->cause))
		f->epc = f->x[REG_RA];
	else
		f->epc += insn_length(f->epc);
}

static void record_irq(struct trap_frame *f, unsigned long level)
{
	last_irq.cause = f->cause;
	last_irq.epc = f->epc;
	last_irq.level = level;
	last_irq.count++;
}

static void m_interrupt(struct trap_frame *f)
{
	switch (f->cause & ~CAUSE_INTERRUPT) {
	case IRQ_M_TIMER:
		mmio_write64(CLINT_MTIMECMP(0), ~0UL);
		break;
	case IRQ_M_SOFT:
		mmio_write32(CLINT_MSIP(0), 0);
		break;
	default:
		fail_unexpected("M", f);
	}
	record_irq(f, PRV_M);
}

static void s_interrupt(struct trap_frame *f)
{
	switch (f->cause & ~CAUSE_INTERRUPT) {
	case IRQ_S_SOFT:
		csr_clear(CSR_SIP, MIP_SSIP);
		break;
	case IRQ_S_TIMER:
		csr_write(CSR_STIMECMP, ~0UL);
		break;
	default:
		fail_unexpected("S", f);
	}
	record_irq(f, PRV_S);
}

static int is_exit_ecall(struct trap_frame *f)
{
	return (f->cause == CAUSE_ECALL_U || f->cause == CAUSE_ECALL_S) &&
	       f->x[REG_A7] == ECALL_EXIT_TO_CALLER;
}

void m_trap_handler(struct trap_frame *f)
{
	if (f->cause & CAUSE_INTERRUPT) {
		m_interrupt(f);
		return;
	}
	if (is_exit_ecall(f))
		m_resume((long)f->x[REG_A0]);
	if (trap_armed) {
		record_expected(f, PRV_M);
		return;
	}
	fail_unexpected("M", f);
}

/* Pass an exit request from U on to M: ecall from S with the same a0/a7. */
static void forward_exit(long value) __attribute__((noreturn));
static void forward_exit(long value)
{
	register long a0 __asm__("a0") = value;
	register long a7 __asm__("a7") = ECALL_EXIT_TO_CALLER;

	__asm__ volatile ("ecall" :: "r"(a0), "r"(a7) : "memory");
	for (;;)
		;
}

void s_trap_handler(struct trap_frame *f)
{
	if (f->cause & CAUSE_INTERRUPT) {
		s_interrupt(f);
		return;
	}
	if (is_exit_ecall(f)) {
		if (s_ctx_active)
			s_resume((long)f->x[REG_A0]);
		forward_exit((long)f->x[REG_A0]);
	}
	if (trap_armed) {
		record_expected(f, PRV_S);
		return;
	}
	fail_unexpected("S", f);
}

/* Wait (bounded by mtime) until last_irq.count reaches count. */
int wait_until_irq_count(unsigned long count)
{
	unsigned long deadline = mtime_now() + WAIT_TICKS;

	while (last_irq.count < count)
		if (mtime_now() > deadline)
			return 0;
	return 1;
}

/*
 * PMP: with no entry matching, S and U may touch no memory at all (priv spec
 * 3.7.1), so open one NAPOT entry over the whole address space.
 */
void harness_init(void)
{
	csr_write(CSR_PMPADDR0, PMPADDR_ALL);
	csr_write(CSR_PMPCFG0, PMPCFG_A_NAPOT | PMPCFG_R | PMPCFG_W | PMPCFG_X);
	csr_write(CSR_MSCRATCH, (unsigned long)&m_trap_stack[TRAP_STACK_WORDS]);
	csr_write(CSR_SSCRATCH, (unsigned long)&s_trap_stack[TRAP_STACK_WORDS]);
	csr_write(CSR_MTVEC, (unsigned long)m_trap_entry);
	csr_write(CSR_STVEC, (unsigned long)s_trap_entry);
}
