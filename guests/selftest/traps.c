/*
 * traps: synchronous exceptions and what the hart reports about them
 * (priv spec 3.1.14-3.1.16, 3.3.1): illegal instructions with mtval = the
 * instruction bits, ecall from each mode, ebreak, access faults, and
 * vectored mtvec for interrupts (3.1.7).
 */
#include "selftest.h"

#define INSN_UNIMP         0xc0001073UL   /* csrrw x0, cycle, x0 */
#define INSN_CUSTOM0       0x0000000bUL   /* custom-0 opcode, no extension */
/* A hole in the board's map (between the test finisher and the CLINT). */
#define UNMAPPED_ADDR      0x00400000UL

static void illegal_instructions(void)
{
	unsigned long pc;

	trap_expect();
	__asm__ volatile ("lla %0, 1f\n1:\t.word 0xc0001073" : "=r"(pc));
	check_trap("illegal: csrrw to read-only cycle", CAUSE_ILLEGAL_INSN, INSN_UNIMP, PRV_M);
	CHECK_EQ("illegal: mepc", pc, last_trap.epc);

	trap_expect();
	__asm__ volatile ("lla %0, 1f\n1:\t.word 0x0000000b" : "=r"(pc));
	check_trap("illegal: custom-0 opcode", CAUSE_ILLEGAL_INSN, INSN_CUSTOM0, PRV_M);
	CHECK_EQ("illegal: mepc", pc, last_trap.epc);

	/* The all-zero 16-bit word is defined illegal (c.unimp); mtval = 0. */
	trap_expect();
	__asm__ volatile ("lla %0, 1f\n1:\t.half 0" : "=r"(pc));
	check_trap("illegal: c.unimp (0x0000)", CAUSE_ILLEGAL_INSN, 0, PRV_M);
	CHECK_EQ("illegal: mepc of a 16-bit instruction", pc, last_trap.epc);
}

static long do_ecall(long unused)
{
	register long a7 __asm__("a7") = 0;
	__asm__ volatile ("ecall" :: "r"(a7) : "memory");
	return unused;
}

static void ecalls(void)
{
	unsigned long pc;

	trap_expect();
	__asm__ volatile ("li a7, 0\n\tlla %0, 1f\n1:\tecall" : "=r"(pc) :: "a7", "memory");
	check_trap("ecall from M", CAUSE_ECALL_M, 0, PRV_M);
	CHECK_EQ("ecall from M: mepc = the ecall", pc, last_trap.epc);

	trap_expect();
	CHECK_EQ("run_in_mode returns fn's value", 42, run_in_mode(PRV_S, do_ecall, 42));
	check_trap("ecall from S", CAUSE_ECALL_S, 0, PRV_M);
	CHECK_EQ("ecall from S: MPP = S", PRV_S,
		 (last_trap.status & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);

	trap_expect();
	run_in_mode(PRV_U, do_ecall, 0);
	check_trap("ecall from U", CAUSE_ECALL_U, 0, PRV_M);
	CHECK_EQ("ecall from U: MPP = U", PRV_U,
		 (last_trap.status & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
}

/*
 * ebreak: mtval is either the breakpoint's address or 0 (priv spec 3.1.16);
 * QEMU 7.2 writes 0. Both are accepted and the note says which.
 */
static unsigned long breakpoint_tval(unsigned long pc)
{
	return last_trap.tval == 0 ? 0 : pc;
}

static void breakpoints(void)
{
	unsigned long pc;

	trap_expect();
	__asm__ volatile (".option push\n\t.option norvc\n\t"
			  "lla %0, 1f\n1:\tebreak\n\t.option pop" : "=r"(pc));
	unsigned long tval = breakpoint_tval(pc);
	check_trap("ebreak", CAUSE_BREAKPOINT, tval, PRV_M);
	CHECK_EQ("ebreak: mepc", pc, last_trap.epc);
	note(tval == 0 ? "ebreak: mtval = 0" : "ebreak: mtval = pc");

	trap_expect();
	__asm__ volatile ("lla %0, 1f\n1:\tc.ebreak" : "=r"(pc));
	check_trap("c.ebreak (2 bytes, same mtval rule)", CAUSE_BREAKPOINT, tval ? pc : 0, PRV_M);
	CHECK_EQ("c.ebreak: mepc", pc, last_trap.epc);
}

static void access_faults(void)
{
	unsigned long v = 0, pc;

	trap_expect();
	__asm__ volatile ("ld %0, 0(%1)" : "+r"(v) : "r"(UNMAPPED_ADDR + 8) : "memory");
	check_trap("load from a hole in the map", CAUSE_LOAD_ACCESS, UNMAPPED_ADDR + 8, PRV_M);

	trap_expect();
	__asm__ volatile ("sw %0, 0(%1)" :: "r"(v), "r"(UNMAPPED_ADDR + 4) : "memory");
	check_trap("store to a hole in the map", CAUSE_STORE_ACCESS, UNMAPPED_ADDR + 4, PRV_M);

	/* Fetch: jump there with jalr ra; the handler resumes at ra. */
	trap_expect();
	__asm__ volatile ("lla %0, 1f\n\tjalr ra, 0(%1)\n1:"
			  : "=&r"(pc) : "r"(UNMAPPED_ADDR) : "ra", "memory");
	check_trap("fetch from a hole in the map", CAUSE_FETCH_ACCESS, UNMAPPED_ADDR, PRV_M);
	CHECK_EQ("fetch fault: mepc = the target", UNMAPPED_ADDR, last_trap.epc);
}

/*
 * Vectored mode: interrupt n enters at BASE + 4n, exceptions at BASE
 * (priv spec 3.1.7). m_vector_table notes the entry it was entered through.
 */
static void vectored_mtvec(void)
{
	unsigned long direct = csr_read(CSR_MTVEC);
	unsigned long count = last_irq.count;

	csr_write(CSR_MTVEC, (unsigned long)m_vector_table | 1);
	CHECK_EQ("mtvec keeps vectored mode", (unsigned long)m_vector_table | 1,
		 csr_read(CSR_MTVEC));
	last_vector = ~0UL;
	csr_set(CSR_MIE, MIP_MSIP);
	mmio_write32(CLINT_MSIP(0), 1);
	csr_set(CSR_MSTATUS, MSTATUS_MIE);
	int arrived = wait_until_irq_count(count + 1);
	csr_clear(CSR_MSTATUS, MSTATUS_MIE);
	csr_clear(CSR_MIE, MIP_MSIP);
	CHECK("vectored: software interrupt arrived", arrived);
	CHECK_EQ("vectored: mcause", CAUSE_INTERRUPT | IRQ_M_SOFT, last_irq.cause);
	CHECK_EQ("vectored: entered at BASE + 4 * 3", IRQ_M_SOFT, last_vector);

	last_vector = ~0UL;
	trap_expect();
	__asm__ volatile ("li a7, 0\n\tecall" ::: "a7", "memory");
	check_trap("vectored: ecall", CAUSE_ECALL_M, 0, PRV_M);
	CHECK_EQ("vectored: exceptions enter at BASE", 0, last_vector);
	csr_write(CSR_MTVEC, direct);
}

void test_traps(void)
{
	group_begin(G_TRAPS);
	illegal_instructions();
	ecalls();
	breakpoints();
	access_faults();
	vectored_mtvec();
	group_ok();
}
