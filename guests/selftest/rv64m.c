/*
 * rv64m: multiply and divide (unpriv spec ch. 13), including the defined
 * results of division by zero and of signed overflow (table 13.1):
 *   x / 0 = all ones, x % 0 = x; MIN / -1 = MIN, MIN % -1 = 0.
 */
#include "selftest.h"

#define RR(op, a, b) ({ unsigned long __r; \
	__asm__ volatile (op " %0, %1, %2" : "=r"(__r) \
			  : "r"((unsigned long)(a)), "r"((unsigned long)(b))); __r; })
#define T(op, a, b, expected) CHECK_EQ(op, expected, RR(op, a, b))

#define MIN64 0x8000000000000000UL
#define MAX64 0x7fffffffffffffffUL
#define ALL1  0xffffffffffffffffUL

static void multiply(void)
{
	T("mul", 7, -3L, -21L);
	T("mul", 0x100000000UL, 0x100000000UL, 0);
	/* the expected value is folded by the compiler, not computed by the hart */
	T("mul", 0x123456789UL, 0x987654321UL, 0x123456789UL * 0x987654321UL);
	T("mulh", ALL1, ALL1, 0);                       /* (-1)(-1) = 1 */
	T("mulh", MIN64, MIN64, 0x4000000000000000UL);
	T("mulh", MIN64, 2, ALL1);                      /* -2^64 */
	T("mulhu", ALL1, ALL1, 0xfffffffffffffffeUL);
	T("mulhu", MIN64, 2, 1);
	T("mulhsu", ALL1, ALL1, ALL1);                  /* -1 * (2^64 - 1) */
	T("mulhsu", 2, ALL1, 1);
	T("mulhsu", MIN64, 2, ALL1);
	/* mulw: low 32 bits of the product, sign-extended */
	T("mulw", 0x10000, 0x8000, 0xffffffff80000000UL);
	T("mulw", 0xffffffff00000003UL, 5, 15);
}

static void divide(void)
{
	T("div", -7L, 2, -3L);                          /* rounds toward zero */
	T("rem", -7L, 2, -1L);                          /* sign of the dividend */
	T("divu", -7L, 2, 0x7ffffffffffffffcUL);
	T("remu", -7L, 2, 1);
	T("div", 7, 0, ALL1);
	T("divu", 7, 0, ALL1);
	T("rem", -7L, 0, -7L);
	T("remu", 7, 0, 7);
	T("div", MIN64, -1L, MIN64);
	T("rem", MIN64, -1L, 0);
	/* W forms: operate on the low 32 bits, results sign-extended */
	T("divw", 0xffffffff00000007UL, 2, 3);
	T("divw", -7L, 2, -3L);
	T("divuw", 0x80000000UL, 1, 0xffffffff80000000UL);
	T("divuw", -1L, 0x2, 0x7fffffff);
	T("remw", -7L, 2, -1L);
	T("remuw", 0xffffffff00000007UL, 4, 3);
	T("divw", 5, 0, ALL1);
	T("divuw", 5, 0, ALL1);
	T("remw", 0x1234567880000000UL, 0, 0xffffffff80000000UL);
	T("remuw", 0x12345678ffffffffUL, 0, ALL1);
	T("divw", 0x80000000UL, -1L, 0xffffffff80000000UL);
	T("remw", 0x80000000UL, -1L, 0);
	T("remuw", MAX64, 0x10, 0xf);
}

void test_rv64m(void)
{
	group_begin(G_RV64M);
	multiply();
	divide();
	group_ok();
}
