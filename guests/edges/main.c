/*
 * edges: the machine's edge cases that natively and under the hypervisor
 * must come out alike (issue 12's hostile-guest fuzz found them differing).
 * Each probe prints one line: the value read (or 0xdead when the access
 * trapped) and the trap's mcause, mtval and, for jumps, mepc.
 *
 *   misaligned device accesses: one access cut into QEMU's aligned pieces
 *     (src/machine/mmio-access.ts), never a misaligned exception
 *   accesses running past a device window or starting in a hole: an access
 *     fault at the first piece nothing answers
 *   wild addresses above 2^53: jumps, xret and loads report the exact
 *     64-bit mepc/mtval
 */
#include "console.h"
#include "riscv.h"

volatile unsigned long g_cause, g_tval, g_epc, g_resume;

/*
 * Records the trap, then resumes: after a fetch fault at g_resume (a wild
 * jump's landing pad), otherwise after the trapping instruction.
 */
__asm__(
	"	.balign 4\n"
	"edges_trap:\n"
	"	csrr t5, mcause\n	sd t5, g_cause, t6\n"
	"	csrr t5, mtval\n	sd t5, g_tval, t6\n"
	"	csrr t5, mepc\n	sd t5, g_epc, t6\n"
	"	csrr t4, mcause\n	li t6, 1\n	beq t4, t6, 2f\n	li t6, 12\n	beq t4, t6, 2f\n"
	"	lhu t6, 0(t5)\n	andi t6, t6, 3\n	li t4, 3\n"
	"	addi t5, t5, 2\n	bne t6, t4, 1f\n	addi t5, t5, 2\n"
	"1:	csrw mepc, t5\n	li a0, 0xdead\n	mret\n"
	"2:	ld t5, g_resume\n	csrw mepc, t5\n	li a0, 0xdead\n	mret\n");

#define NONE 0xff

static void report(const char *name, unsigned long v)
{
	console_puts(name);
	console_puts(": v=");
	console_put_hex(v, 16);
	console_puts(" mcause=");
	console_put_hex(g_cause, 2);
	console_puts(" mtval=");
	console_put_hex(g_tval, 16);
	if (g_cause == 1 || g_cause == 12) {
		console_puts(" mepc=");
		console_put_hex(g_epc, 16);
	}
	console_puts("\n");
	g_cause = NONE;
	g_tval = 0;
	g_epc = 0;
}

/* Each access in its own asm, with the result in a0 (the handler's 0xdead lands there too). */
#define LOAD(op, addr) ({ unsigned long v_; \
	__asm__ volatile("mv a0, zero\n" op " a0, 0(%1)\nmv %0, a0" : "=r"(v_) : "r"(addr) : "a0", "memory"); v_; })
#define AMOADD_W(addr) ({ unsigned long v_; \
	__asm__ volatile("mv a0, zero\namoadd.w a0, zero, (%1)\nmv %0, a0" : "=r"(v_) : "r"(addr) : "a0", "memory"); v_; })
#define STORE(op, addr, val) \
	__asm__ volatile(op " %1, 0(%0)" :: "r"(addr), "r"(val) : "memory")

/* jr to `target`; the fetch fault resumes at the label after it. */
static void wild_jump(unsigned long target)
{
	__asm__ volatile("la t0, 1f\n	sd t0, g_resume, t1\n	jr %0\n1:" :: "r"(target) : "t0", "t1", "memory");
}

/* mret to `target` in M-mode (MPP = M). */
static void wild_mret(unsigned long target)
{
	__asm__ volatile("la t0, 1f\n	sd t0, g_resume, t1\n	csrw mepc, %0\n"
			 "	li t0, 0x1800\n	csrs mstatus, t0\n	mret\n1:" :: "r"(target) : "t0", "t1", "memory");
}

int main(unsigned long hartid, const void *fdt)
{
	(void)hartid;
	(void)fdt;
	__asm__ volatile("la t0, edges_trap\n	csrw mtvec, t0" ::: "t0");
	g_cause = NONE;

	/* The CLINT: mtimecmp[0] holds a known pattern (mie is 0: no timer interrupt is taken). */
	unsigned long cmp = CLINT_MTIMECMP(0);
	STORE("sd", cmp, 0x1122334455667788UL);
	report("ld clint mtimecmp", LOAD("ld", cmp));
	report("ld clint mtimecmp+4 (4-aligned)", LOAD("ld", cmp + 4));
	report("lwu clint mtimecmp+1", LOAD("lwu", cmp + 1));
	report("lwu clint mtimecmp+2", LOAD("lwu", cmp + 2));
	report("lhu clint mtimecmp+1", LOAD("lhu", cmp + 1));
	report("lwu clint +0x4259", LOAD("lwu", CLINT_BASE + 0x4259));
	report("ld clint +0xfffc (past the window)", LOAD("ld", CLINT_BASE + 0xfffc));
	STORE("sd", cmp, -1UL);

	/* The 16550: a misaligned sw is four byte writes (IER FCR LCR MCR); LCR reads back 3. */
	STORE("sw", UART0_BASE + 1, 0x00030000UL);
	report("sw uart+1 then lbu lcr", LOAD("lbu", UART0_BASE + 3));
	STORE("sb", UART0_BASE + 3, 0UL);
	report("lhu uart+1", LOAD("lhu", UART0_BASE + 1));

	/* A hole, and an access starting in one that runs into RAM. */
	report("lw hole 0x30000000", LOAD("lw", 0x30000000UL));
	report("ld hole 0x7ffffffc into RAM", LOAD("ld", 0x7ffffffcUL));
	STORE("sw", 0x7ffffffeUL, 0UL);
	report("sw hole 0x7ffffffe into RAM", 0);

	/* Wild addresses: exact in mepc and mtval. */
	report("ld 0x7ffffffffffffff8", LOAD("ld", 0x7ffffffffffffff8UL));
	STORE("sd", 0x0040000000000001UL, 0UL);
	report("sd 0x0040000000000001", 0);
	report("lw 0xfffffffffffffff0", LOAD("lw", 0xfffffffffffffff0UL));
	report("amoadd.w 0x7ffffffffffffff1", AMOADD_W(0x7ffffffffffffff1UL));
	report("amoadd.w 0x7ffffffffffffff0", AMOADD_W(0x7ffffffffffffff0UL));
	wild_jump(0x7ffffffffffffffeUL);
	report("jr 0x7ffffffffffffffe", 0);
	wild_jump(0x8000000000000002UL);
	report("jr 0x8000000000000002", 0);
	wild_mret(0x00fffffffffffffeUL);
	report("mret 0x00fffffffffffffe", 0);
	console_puts("edges: done\n");
	return 0;
}
