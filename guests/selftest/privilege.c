/*
 * privilege: moving between M, S and U (priv spec 3.1.6.1, 3.3.2, 4.1.1):
 * what mret and sret do to the interrupt-enable stack and the previous
 * privilege, which of them are illegal where, delegation of a U ecall to an
 * S handler through medeleg, and sstatus / sie as views of mstatus / mie.
 */
#include "selftest.h"

#define INSN_MRET 0x30200073UL
#define INSN_SRET 0x10200073UL
#define INSN_WFI  0x10500073UL
#define INSN_CSRR_A0_MSTATUS 0x30002573UL
#define MSTATUS_TSR (1UL << 22)

/* mret to M: MIE = MPIE, MPIE = 1, MPP = U (the least-privileged mode). */
static void mret_stack(void)
{
	unsigned long ms;

	csr_write(CSR_MIE, 0);
	csr_clear(CSR_MSTATUS, MSTATUS_MIE);
	csr_set(CSR_MSTATUS, MSTATUS_MPP | MSTATUS_MPIE);
	__asm__ volatile ("lla t0, 1f\n\tcsrw %1, t0\n\tmret\n"
			  "1:\tcsrr %0, %2\n\tcsrc %2, %3"
			  : "=r"(ms) : "i"(CSR_MEPC), "i"(CSR_MSTATUS), "r"(MSTATUS_MIE)
			  : "t0", "memory");
	CHECK_EQ("mret: MIE = old MPIE", MSTATUS_MIE, ms & MSTATUS_MIE);
	CHECK_EQ("mret: MPIE = 1", MSTATUS_MPIE, ms & MSTATUS_MPIE);
	CHECK_EQ("mret: MPP = U", 0, ms & MSTATUS_MPP);

	csr_set(CSR_MSTATUS, MSTATUS_MPP);
	csr_clear(CSR_MSTATUS, MSTATUS_MPIE);
	__asm__ volatile ("lla t0, 1f\n\tcsrw %1, t0\n\tmret\n1:\tcsrr %0, %2"
			  : "=r"(ms) : "i"(CSR_MEPC), "i"(CSR_MSTATUS) : "t0", "memory");
	CHECK_EQ("mret: MIE = old MPIE (0)", 0, ms & MSTATUS_MIE);
}

/* In S: reading sstatus works, reading mstatus (csrr a0, mstatus) is illegal. */
static long probe_s_mode(long unused)
{
	register long a0 __asm__("a0") = unused;

	(void)csr_read(CSR_SSTATUS);
	trap_expect();
	__asm__ volatile ("csrr a0, %1" : "+r"(a0) : "i"(CSR_MSTATUS));
	return a0;
}

static long do_ecall(long value)
{
	register long a7 __asm__("a7") = 0;
	__asm__ volatile ("ecall" :: "r"(a7) : "memory");
	return value;
}

/* In S: arrange SPIE = 1, SIE = 0, then sret to U, which ecalls to M. */
static long s_sret_to_user(long unused)
{
	csr_set(CSR_SSTATUS, MSTATUS_SPIE);
	csr_clear(CSR_SSTATUS, MSTATUS_SIE);
	return s_run_user(do_ecall, unused);
}

/* In S: sret with SPP = S stays in S; returns sstatus after it. */
static long s_sret_to_s(long unused)
{
	unsigned long ss;

	(void)unused;
	csr_set(CSR_SSTATUS, MSTATUS_SPP);
	csr_clear(CSR_SSTATUS, MSTATUS_SPIE | MSTATUS_SIE);
	__asm__ volatile ("lla t0, 1f\n\tcsrw %1, t0\n\tsret\n1:\tcsrr %0, %2"
			  : "=r"(ss) : "i"(CSR_SEPC), "i"(CSR_SSTATUS) : "t0", "memory");
	return (long)ss;
}

static void transitions(void)
{
	run_in_mode(PRV_S, probe_s_mode, 0);
	check_trap("mret to S: mstatus is illegal in S", CAUSE_ILLEGAL_INSN,
		   INSN_CSRR_A0_MSTATUS, PRV_M);
	CHECK_EQ("trap from S: MPP = S", PRV_S,
		 (last_trap.status & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);

	trap_expect();
	run_in_mode(PRV_S, s_sret_to_user, 0);
	check_trap("M -> S -> U: ecall from U", CAUSE_ECALL_U, 0, PRV_M);
	CHECK_EQ("sret to U: SIE = old SPIE", MSTATUS_SIE, last_trap.status & MSTATUS_SIE);
	CHECK_EQ("sret to U: SPIE = 1", MSTATUS_SPIE, last_trap.status & MSTATUS_SPIE);
	CHECK_EQ("sret to U: SPP = U", 0, last_trap.status & MSTATUS_SPP);

	unsigned long ss = (unsigned long)run_in_mode(PRV_S, s_sret_to_s, 0);
	CHECK_EQ("sret to S: SPP = U afterwards", 0, ss & MSTATUS_SPP);
	CHECK_EQ("sret to S: SIE = old SPIE (0)", 0, ss & MSTATUS_SIE);
	CHECK_EQ("sret to S: SPIE = 1", MSTATUS_SPIE, ss & MSTATUS_SPIE);
}

static long do_mret(long v)
{
	__asm__ volatile (".word 0x30200073" ::: "memory");
	return v;
}

static long do_sret(long v)
{
	__asm__ volatile (".word 0x10200073" ::: "memory");
	return v;
}

static long do_wfi(long v)
{
	__asm__ volatile (".word 0x10500073" ::: "memory");
	return v;
}

static void illegal_returns(void)
{
	trap_expect();
	run_in_mode(PRV_U, do_mret, 0);
	check_trap("mret from U is illegal", CAUSE_ILLEGAL_INSN, INSN_MRET, PRV_M);
	trap_expect();
	run_in_mode(PRV_U, do_sret, 0);
	check_trap("sret from U is illegal", CAUSE_ILLEGAL_INSN, INSN_SRET, PRV_M);
	trap_expect();
	run_in_mode(PRV_S, do_mret, 0);
	check_trap("mret from S is illegal", CAUSE_ILLEGAL_INSN, INSN_MRET, PRV_M);
	csr_set(CSR_MSTATUS, MSTATUS_TSR);
	trap_expect();
	run_in_mode(PRV_S, do_sret, 0);
	csr_clear(CSR_MSTATUS, MSTATUS_TSR);
	check_trap("sret from S with mstatus.TSR is illegal", CAUSE_ILLEGAL_INSN,
		   INSN_SRET, PRV_M);
	trap_expect();
	run_in_mode(PRV_U, do_wfi, 0);
	check_trap("wfi from U is illegal", CAUSE_ILLEGAL_INSN, INSN_WFI, PRV_M);
}

/* In S: run U code whose ecall is delegated here; the S handler records it. */
static long s_delegation_body(long unused)
{
	trap_expect();
	return s_run_user(do_ecall, unused + 1);
}

static void delegation(void)
{
	/* (medeleg[11] "should" be read-only zero, but QEMU 7.2 keeps it: not checked.) */
	csr_write(CSR_MEDELEG, 1UL << CAUSE_ECALL_U);
	CHECK_EQ("medeleg holds the U ecall bit", 1UL << CAUSE_ECALL_U, csr_read(CSR_MEDELEG));
	CHECK_EQ("s_run_user returns U's value", 8, run_in_mode(PRV_S, s_delegation_body, 7));
	csr_write(CSR_MEDELEG, 0);
	check_trap("medeleg: ecall from U goes to the S handler", CAUSE_ECALL_U, 0, PRV_S);
	CHECK_EQ("delegated trap: sstatus.SPP = U", 0, last_trap.status & MSTATUS_SPP);
}

static void status_views(void)
{
	unsigned long saved = csr_read(CSR_MSTATUS);

	csr_set(CSR_MSTATUS, MSTATUS_SUM | MSTATUS_MXR | MSTATUS_MPP);
	unsigned long ss = csr_read(CSR_SSTATUS);
	CHECK_EQ("sstatus shows SUM and MXR", MSTATUS_SUM | MSTATUS_MXR,
		 ss & (MSTATUS_SUM | MSTATUS_MXR));
	CHECK_EQ("sstatus hides MPP", 0, ss & MSTATUS_MPP);
	CHECK_EQ("sstatus.UXL = 2", XLEN_64, (ss >> MSTATUS_UXL_SHIFT) & MSTATUS_XL_MASK);
	csr_clear(CSR_SSTATUS, MSTATUS_SUM | MSTATUS_MXR);
	CHECK_EQ("clearing sstatus.SUM/MXR clears them in mstatus", 0,
		 csr_read(CSR_MSTATUS) & (MSTATUS_SUM | MSTATUS_MXR));
	csr_clear(CSR_SSTATUS, MSTATUS_MPP);
	CHECK_EQ("sstatus cannot clear MPP", MSTATUS_MPP, csr_read(CSR_MSTATUS) & MSTATUS_MPP);
	csr_set(CSR_SSTATUS, MSTATUS_SPP);
	CHECK_EQ("sstatus.SPP is mstatus.SPP", MSTATUS_SPP, csr_read(CSR_MSTATUS) & MSTATUS_SPP);
	csr_write(CSR_MSTATUS, saved);

	/* sie shows only the interrupts delegated by mideleg (priv spec 4.1.3). */
	csr_write(CSR_MIE, MIP_SSIP);
	csr_write(CSR_MIDELEG, 0);
	CHECK_EQ("sie.SSIE hidden when not delegated", 0, csr_read(CSR_SIE) & MIP_SSIP);
	csr_write(CSR_MIDELEG, MIP_SSIP);
	CHECK_EQ("sie.SSIE is mie.SSIE when delegated", MIP_SSIP, csr_read(CSR_SIE) & MIP_SSIP);
	csr_clear(CSR_SIE, MIP_SSIP);
	CHECK_EQ("clearing sie.SSIE clears mie.SSIE", 0, csr_read(CSR_MIE));
	csr_write(CSR_MIDELEG, 0);
}

void test_privilege(void)
{
	group_begin(G_PRIVILEGE);
	mret_stack();
	transitions();
	illegal_returns();
	delegation();
	status_views();
	group_ok();
}
