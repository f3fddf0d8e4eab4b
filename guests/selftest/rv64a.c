/*
 * rv64a: LR/SC and every AMO in .w and .d (unpriv spec ch. 14).
 * LR/SC: the success path, an SC to another address than the reserved one
 * (must fail, 14.2), and a second SC after a successful one (the first SC
 * consumed the reservation, so it must fail). AMOs return the old value
 * (sign-extended for .w) and write op(old, rs2).
 */
#include "selftest.h"

static volatile unsigned long word64[2] __attribute__((aligned(16)));
static volatile unsigned int word32[4] __attribute__((aligned(16)));

static void lr_sc(void)
{
	unsigned long old, rc;

	word64[0] = 0x1111;
	__asm__ volatile ("lr.d %0, (%2)\n\tsc.d %1, %3, (%2)"
			  : "=&r"(old), "=&r"(rc) : "r"(&word64[0]), "r"(0x2222UL) : "memory");
	CHECK_EQ("lr.d value", 0x1111, old);
	CHECK_EQ("sc.d succeeds (rd = 0)", 0, rc);
	CHECK_EQ("sc.d stored", 0x2222, word64[0]);

	word32[0] = 0x80000001u;
	__asm__ volatile ("lr.w %0, (%2)\n\tsc.w %1, %3, (%2)"
			  : "=&r"(old), "=&r"(rc) : "r"(&word32[0]), "r"(5UL) : "memory");
	CHECK_EQ("lr.w sign-extends", 0xffffffff80000001UL, old);
	CHECK_EQ("sc.w succeeds", 0, rc);
	CHECK_EQ("sc.w stored", 5, word32[0]);

	word64[0] = 1;
	word64[1] = 2;
	__asm__ volatile ("lr.d %0, (%2)\n\tsc.d %1, %4, (%3)"
			  : "=&r"(old), "=&r"(rc)
			  : "r"(&word64[0]), "r"(&word64[1]), "r"(9UL) : "memory");
	CHECK("sc.d to another address fails (rd != 0)", rc != 0);
	CHECK_EQ("failed sc.d does not store", 2, word64[1]);

	__asm__ volatile ("lr.d %0, (%1)\n\tsc.d %0, %2, (%1)\n\tsc.d %0, %3, (%1)"
			  : "=&r"(rc) : "r"(&word64[0]), "r"(7UL), "r"(8UL) : "memory");
	CHECK("second sc.d without lr fails", rc != 0);
	CHECK_EQ("only the first sc.d stored", 7, word64[0]);
}

#define AMO_D(op, init, operand, expected_mem) do { \
	unsigned long __old; \
	word64[0] = (init); \
	__asm__ volatile (op " %0, %2, (%1)" : "=&r"(__old) \
			  : "r"(&word64[0]), "r"((unsigned long)(operand)) : "memory"); \
	CHECK_EQ(op " returns old", (unsigned long)(init), __old); \
	CHECK_EQ(op " memory", (unsigned long)(expected_mem), word64[0]); \
} while (0)

#define AMO_W(op, init, operand, expected_mem) do { \
	unsigned long __old; \
	word32[1] = (unsigned int)(init); \
	__asm__ volatile (op " %0, %2, (%1)" : "=&r"(__old) \
			  : "r"(&word32[1]), "r"((unsigned long)(operand)) : "memory"); \
	CHECK_EQ(op " returns old, sign-extended", \
		 (unsigned long)(long)(int)(init), __old); \
	CHECK_EQ(op " memory", (unsigned int)(expected_mem), word32[1]); \
	CHECK_EQ(op " leaves the neighbour word", 0x5a5a5a5a, word32[0]); \
	CHECK_EQ(op " leaves the neighbour word", 0xa5a5a5a5, word32[2]); \
} while (0)

static void amo_d(void)
{
	AMO_D("amoswap.d", 0x1234, 0x5678, 0x5678);
	AMO_D("amoadd.d", ~0UL, 2, 1);
	AMO_D("amoxor.d", 0xff00, 0x0ff0, 0xf0f0);
	AMO_D("amoand.d", 0xff00, 0x0ff0, 0x0f00);
	AMO_D("amoor.d", 0xff00, 0x0ff0, 0xfff0);
	AMO_D("amomin.d", -5L, 3, -5L);
	AMO_D("amomax.d", -5L, 3, 3);
	AMO_D("amominu.d", -5L, 3, 3);
	AMO_D("amomaxu.d", -5L, 3, -5L);
	AMO_D("amoadd.d.aqrl", 40, 2, 42);
}

static void amo_w(void)
{
	word32[0] = 0x5a5a5a5au;
	word32[2] = 0xa5a5a5a5u;
	AMO_W("amoswap.w", 0x80000000u, 0x12345678, 0x12345678);
	AMO_W("amoadd.w", 0x7fffffffu, 1, 0x80000000u);
	AMO_W("amoadd.w", 0xffffffffu, 0xffffffff00000002UL, 1);
	AMO_W("amoxor.w", 0xf0f0f0f0u, 0xffffffff, 0x0f0f0f0f);
	AMO_W("amoand.w", 0xf0f0f0f0u, 0x3c3c3c3c, 0x30303030);
	AMO_W("amoor.w", 0xf0f0f0f0u, 0x0f0f0f0f, 0xffffffff);
	AMO_W("amomin.w", 0x80000000u, 1, 0x80000000u);
	AMO_W("amomax.w", 0x80000000u, 1, 1);
	AMO_W("amominu.w", 0x80000000u, 1, 1);
	AMO_W("amomaxu.w", 0x80000000u, 1, 0x80000000u);
	/* only rs2[31:0] takes part: 0x1_0000_0000 is 0 as a word */
	AMO_W("amomaxu.w", 5, 0x100000000UL, 5);
	AMO_W("amoswap.w.aq", 1, 2, 2);
}

void test_rv64a(void)
{
	group_begin(G_RV64A);
	lr_sc();
	amo_d();
	amo_w();
	group_ok();
}
