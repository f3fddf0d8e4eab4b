/*
 * rv64i: the base integer ISA (unpriv spec ch. 2 and 5). Every operation is
 * issued by inline asm on values the compiler cannot fold, and compared with
 * a constant worked out by hand.
 */
#include "selftest.h"

/* rd = op(rs1, rs2) */
#define RR(op, a, b) ({ unsigned long __r; \
	__asm__ volatile (op " %0, %1, %2" : "=r"(__r) \
			  : "r"((unsigned long)(a)), "r"((unsigned long)(b))); __r; })
/* rd = op(rs1, imm) */
#define RI(op, a, imm) ({ unsigned long __r; \
	__asm__ volatile (op " %0, %1, %2" : "=r"(__r) \
			  : "r"((unsigned long)(a)), "i"(imm)); __r; })
/* 1 if the branch is taken */
#define TAKEN(op, a, b) ({ unsigned long __r; \
	__asm__ volatile ("li %0, 1\n\t" op " %1, %2, 1f\n\tli %0, 0\n1:" \
			  : "=&r"(__r) \
			  : "r"((unsigned long)(a)), "r"((unsigned long)(b))); __r; })

#define T(op, a, b, expected) CHECK_EQ(op, expected, RR(op, a, b))
#define TI(op, a, imm, expected) CHECK_EQ(op, expected, RI(op, a, imm))

#define MIN64 0x8000000000000000UL

static void arithmetic(void)
{
	T("add", 3, 4, 7);
	T("add", ~0UL, 1, 0);
	T("sub", 3, 4, ~0UL);
	T("sub", MIN64, 1, 0x7fffffffffffffffUL);
	TI("addi", 5, -6, ~0UL);
	TI("addi", 0x7ff, 0x7ff, 0xffe);
	/* W forms compute on 32 bits and sign-extend bit 31 into 63:32. */
	T("addw", 0x7fffffff, 1, 0xffffffff80000000UL);
	T("addw", 0x1ffffffffUL, 1, 0);
	T("subw", 0, 1, ~0UL);
	T("subw", 0x80000000UL, 1, 0x7fffffff);
	TI("addiw", 0x7fffffff, 1, 0xffffffff80000000UL);
	TI("addiw", 0xffffffff00000005UL, 0, 5);
}

static void logic(void)
{
	T("and", 0xff00ff00ff00ff00UL, 0x0ff00ff00ff00ff0UL, 0x0f000f000f000f00UL);
	T("or", 0xff00ff00ff00ff00UL, 0x0ff00ff00ff00ff0UL, 0xfff0fff0fff0fff0UL);
	T("xor", 0xff00ff00ff00ff00UL, 0x0ff00ff00ff00ff0UL, 0xf0f0f0f0f0f0f0f0UL);
	/* 12-bit immediates are sign-extended. */
	TI("andi", 0x123456789abcdef0UL, -16, 0x123456789abcdef0UL);
	TI("andi", 0x123456789abcdef0UL, 0x7f0, 0x6f0);
	TI("ori", 0, -2048, 0xfffffffffffff800UL);
	TI("xori", 0x0f, -1, 0xfffffffffffffff0UL);
}

static void shifts(void)
{
	T("sll", 1, 63, MIN64);
	T("sll", 1, 65, 2);                 /* only rs2[5:0] counts */
	T("srl", MIN64, 63, 1);
	T("sra", MIN64, 63, ~0UL);
	T("sra", 0x4000000000000000UL, 62, 1);
	TI("slli", 0x3, 62, 0xc000000000000000UL);
	TI("srli", ~0UL, 60, 0xf);
	TI("srai", 0xf000000000000000UL, 60, ~0UL);
	/* W shifts: 32-bit, rs2[4:0], result sign-extended. */
	T("sllw", 1, 31, 0xffffffff80000000UL);
	T("sllw", 1, 33, 2);
	T("srlw", 0xffffffff80000000UL, 0, 0xffffffff80000000UL);
	T("srlw", 0xffffffff80000000UL, 1, 0x40000000);
	T("sraw", 0x80000000UL, 4, 0xfffffffff8000000UL);
	T("sraw", 0xffffffff7fffffffUL, 4, 0x07ffffff);
	TI("slliw", 0x1, 31, 0xffffffff80000000UL);
	TI("srliw", 0xffffffff80000000UL, 31, 1);
	TI("sraiw", 0x0000000080000000UL, 31, ~0UL);
}

static void compares(void)
{
	T("slt", -1L, 1, 1);
	T("slt", 1, -1L, 0);
	T("sltu", -1L, 1, 0);
	T("sltu", 1, -1L, 1);
	T("slt", MIN64, 0x7fffffffffffffffUL, 1);
	TI("slti", -5L, -4, 1);
	TI("slti", 0, 0, 0);
	/* sltiu sign-extends the immediate, then compares unsigned. */
	TI("sltiu", 0xfffffffffffffffeUL, -1, 1);
	TI("sltiu", 0, 1, 1);
	TI("sltiu", 1, 1, 0);
}

static void upper_immediates(void)
{
	unsigned long r, l;

	__asm__ volatile ("lui %0, 0x80000" : "=r"(r));
	CHECK_EQ("lui sign-extends", 0xffffffff80000000UL, r);
	__asm__ volatile ("lui %0, 0x7ffff" : "=r"(r));
	CHECK_EQ("lui", 0x7ffff000UL, r);
	__asm__ volatile ("1: auipc %0, 0\n\tlla %1, 1b" : "=r"(r), "=r"(l));
	CHECK_EQ("auipc 0 = pc", l, r);
	__asm__ volatile ("1: auipc %0, 1\n\tlla %1, 1b" : "=r"(r), "=r"(l));
	CHECK_EQ("auipc 1 = pc + 0x1000", l + 0x1000, r);
	__asm__ volatile ("1: auipc %0, 0xfffff\n\tlla %1, 1b" : "=r"(r), "=r"(l));
	CHECK_EQ("auipc -1 = pc - 0x1000", l - 0x1000, r);
}

static void branches(void)
{
	CHECK_EQ("beq taken", 1, TAKEN("beq", 5, 5));
	CHECK_EQ("beq not taken", 0, TAKEN("beq", 5, 6));
	CHECK_EQ("bne taken", 1, TAKEN("bne", 5, 6));
	CHECK_EQ("bne not taken", 0, TAKEN("bne", 5, 5));
	CHECK_EQ("blt signed", 1, TAKEN("blt", -1L, 0));
	CHECK_EQ("blt equal", 0, TAKEN("blt", 3, 3));
	CHECK_EQ("bge signed", 0, TAKEN("bge", -1L, 0));
	CHECK_EQ("bge equal", 1, TAKEN("bge", 3, 3));
	CHECK_EQ("bltu unsigned", 0, TAKEN("bltu", -1L, 0));
	CHECK_EQ("bltu", 1, TAKEN("bltu", 0, -1L));
	CHECK_EQ("bgeu unsigned", 1, TAKEN("bgeu", -1L, 0));
	CHECK_EQ("bgeu equal", 1, TAKEN("bgeu", 7, 7));
	/* a backward branch */
	unsigned long n;
	__asm__ volatile ("li %0, 0\n1:\taddi %0, %0, 1\n\tli t0, 10\n\tblt %0, t0, 1b"
			  : "=&r"(n) :: "t0");
	CHECK_EQ("backward blt loop", 10, n);
}

static void jumps(void)
{
	unsigned long link, expected;

	/* jal links pc + 4 (a 4-byte jal: norvc). */
	__asm__ volatile (".option push\n\t.option norvc\n\t"
			  "lla %1, 2f\n\t"
			  "jal %0, 1f\n"
			  "2:\tli %0, 0\n"
			  "1:\n\t.option pop"
			  : "=&r"(link), "=&r"(expected));
	CHECK_EQ("jal link", expected, link);

	/* jalr: target = (rs1 + imm) & ~1, link = pc + 4, even when rd = rs1. */
	__asm__ volatile (".option push\n\t.option norvc\n\t"
			  "lla %0, 1f\n\t"
			  "addi %0, %0, 5\n\t"
			  "lla %1, 2f\n\t"
			  "jalr %0, -4(%0)\n"
			  "2:\tli %0, 0\n"
			  "1:\n\t.option pop"
			  : "=&r"(link), "=&r"(expected));
	CHECK_EQ("jalr link (rd = rs1, target bit 0 cleared)", expected, link);

	/* x0 stays zero */
	__asm__ volatile ("addi x0, x0, 5\n\tmv %0, x0" : "=r"(link));
	CHECK_EQ("x0 hardwired", 0, link);
}

void test_rv64i(void)
{
	group_begin(G_RV64I);
	arithmetic();
	logic();
	shifts();
	compares();
	upper_immediates();
	branches();
	jumps();
	group_ok();
}
