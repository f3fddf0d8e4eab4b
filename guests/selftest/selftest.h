/*
 * selftest.h: the harness shared by the selftest groups.
 *
 * Each group checks results itself and reports through check_eq(): on a
 * mismatch it prints "selftest: <group> FAIL <what> expected X got Y" and
 * exits with the group's code (enum group). Traps a test provokes on
 * purpose are announced with trap_expect(); the M- or S-mode handler records
 * the next synchronous trap in last_trap and resumes after the instruction
 * (or at ra for an instruction-fetch fault, so tests reach a bad pc with jalr).
 */
#ifndef SELFTEST_H
#define SELFTEST_H

#include "riscv.h"

#ifndef __ASSEMBLER__
/* Exit codes (and names) of the groups. */
enum group {
	G_RV64I = 1,
	G_LOADSTORE = 2,
	G_RV64M = 3,
	G_RV64A = 4,
	G_RV64C = 5,
	G_CSR = 6,
	G_TRAPS = 7,
	G_PRIVILEGE = 8,
	G_INTERRUPTS = 9,
	G_SV39 = 10,
	G_SMP = 11,
};
#endif

/* a7 value of the ecall that leaves S/U and resumes run_in_mode's caller. */
#define ECALL_EXIT_TO_CALLER 0x7e57

/* Trap frame, laid out by trap_entry.S: x[2] holds the interrupted sp. */
#define FRAME_EPC     256
#define FRAME_CAUSE   264
#define FRAME_TVAL    272
#define FRAME_STATUS  280
#define FRAME_SIZE    288

#ifndef __ASSEMBLER__

struct trap_frame {
	unsigned long x[32];
	unsigned long epc, cause, tval, status;
};

#define REG_RA 1
#define REG_A0 10
#define REG_A7 17

/* What the last expected trap looked like. level: PRV_M or PRV_S handler. */
struct trap_record {
	unsigned long count;
	unsigned long cause, tval, epc, status;
	unsigned long level;
};

/* What the last interrupt looked like; vector = mtvec entry it came through. */
struct irq_record {
	unsigned long count;
	unsigned long cause, epc, level;
};

extern volatile struct trap_record last_trap;
extern volatile struct irq_record last_irq;
extern volatile unsigned long last_vector;

/* Group bookkeeping and checking (harness.c). */
void group_begin(enum group g);
void group_ok(void);
void note(const char *text);
void check_eq(const char *what, unsigned long expected, unsigned long got);
void fail(const char *what) __attribute__((noreturn));
#define CHECK_EQ(what, expected, got) \
	check_eq((what), (unsigned long)(expected), (unsigned long)(got))
#define CHECK(what, cond) CHECK_EQ((what), 1, !!(cond))

/* Arm the handlers: the next synchronous trap is recorded, not fatal. */
void trap_expect(void);
/* Check that exactly one trap was taken since trap_expect(), with this cause
   and tval, by the handler at `level`. */
void check_trap(const char *what, unsigned long cause, unsigned long tval,
		unsigned long level);
void check_no_trap(const char *what);

/* Set up PMP, mtvec, stvec and the trap stacks (call once on hart 0). */
void harness_init(void);

/* modes.S: run fn(arg) in `mode` (PRV_S or PRV_U) through mret; returns the
   value fn returned (it comes back by ecall ECALL_EXIT_TO_CALLER). */
long run_in_mode(unsigned long mode, long (*fn)(long), long arg);
/* From S-mode only, with U ecalls delegated: run fn(arg) in U via sret. */
long s_run_user(long (*fn)(long), long arg);
void m_resume(long value) __attribute__((noreturn));
void s_resume(long value) __attribute__((noreturn));
extern volatile unsigned long s_ctx_active;

/* trap_entry.S */
void m_trap_entry(void);
void s_trap_entry(void);
extern const unsigned int m_vector_table[];

/* The groups. */
void test_rv64i(void);
void test_loadstore(void);
void test_rv64m(void);
void test_rv64a(void);
void test_rv64c(void);
void test_csr(void);
void test_traps(void);
void test_privilege(void);
void test_interrupts(void);
void test_sv39(void);
void test_smp(const void *fdt);
void smp_secondary(unsigned long hartid);

/*
 * Busy-wait helpers bounded by mtime (harness.c). The bound only catches a
 * hang: every wait ends as soon as what it waits for happens. It is counted
 * in wall time, and under the hypervisor each hart is a host thread that a
 * busy host may leave unscheduled for a good part of a second, so it is
 * generous (as kernel-mini's SMP_WAIT).
 */
#define WAIT_TICKS (10UL * MTIME_HZ)   /* 10 s */
int wait_until_irq_count(unsigned long count);

#endif /* __ASSEMBLER__ */
#endif
