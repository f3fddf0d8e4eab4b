/*
 * rv64c: the compressed instructions (unpriv spec ch. 16). The compiler
 * emits many of them anyway; rvc.S issues each form explicitly so that a
 * decoder bug in one form is found by name.
 */
#include "selftest.h"

long rvc_addi16sp(void);
long rvc_addi4spn(void);
long rvc_sdsp_ldsp(long v);
long rvc_swsp_lwsp(long v);
long rvc_sd_ld(volatile long *p, long v);
long rvc_sw_lw(volatile int *p, long v);
long rvc_addiw(long v);
long rvc_addi(long v);
long rvc_srai(long v);
long rvc_srli(long v);
long rvc_slli(long v);
long rvc_andi(long v);
long rvc_li(void);
long rvc_lui_pos(void);
long rvc_lui_neg(void);
long rvc_add(long a, long b);
long rvc_sub(long a, long b);
long rvc_xor(long a, long b);
long rvc_or(long a, long b);
long rvc_and(long a, long b);
long rvc_addw(long a, long b);
long rvc_subw(long a, long b);
long rvc_mv(long a, long b);
long rvc_beqz(long v);
long rvc_bnez(long v);
long rvc_j(void);
long rvc_jr(void);
long rvc_jalr_link(void);

static volatile long dwords[2];
static volatile int words[2];

static void stack_and_memory(void)
{
	CHECK_EQ("c.addi16sp", 64, rvc_addi16sp());
	CHECK_EQ("c.addi4spn", 16, rvc_addi4spn());
	CHECK_EQ("c.sdsp/c.ldsp", 0x8123456789abcdefUL, rvc_sdsp_ldsp(0x8123456789abcdefL));
	CHECK_EQ("c.swsp/c.lwsp sign-extends", 0xffffffff89abcdefUL,
		 rvc_swsp_lwsp(0x0123456789abcdefL));
	CHECK_EQ("c.sd/c.ld", 0x0fedcba987654321UL, rvc_sd_ld(dwords, 0x0fedcba987654321L));
	CHECK_EQ("c.sd address", 0x0fedcba987654321UL, dwords[1]);
	CHECK_EQ("c.sw/c.lw sign-extends", 0xfffffffff0000001UL, rvc_sw_lw(words, 0xf0000001L));
	CHECK_EQ("c.sw address", 0xf0000001u, (unsigned int)words[1]);
}

static void arithmetic(void)
{
	CHECK_EQ("c.addiw sign-extends", 0xffffffff80000000UL, rvc_addiw(0x7fffffff));
	CHECK_EQ("c.addiw truncates", 0, rvc_addiw(0x1ffffffffL));
	CHECK_EQ("c.addi", ~0UL, rvc_addi(0));
	CHECK_EQ("c.srai", 0xf800000000000000UL, rvc_srai((long)0x8000000000000000UL));
	CHECK_EQ("c.srli", 0x0800000000000000UL, rvc_srli((long)0x8000000000000000UL));
	CHECK_EQ("c.slli", 0x0000000000000010UL, rvc_slli(1));
	CHECK_EQ("c.andi", 0x12345670UL, rvc_andi(0x1234567fL));
	CHECK_EQ("c.li", (unsigned long)-5L, rvc_li());
	CHECK_EQ("c.lui", 0x1f000UL, rvc_lui_pos());
	CHECK_EQ("c.lui sign-extends", 0xfffffffffffe0000UL, rvc_lui_neg());
	CHECK_EQ("c.add", 0x10, rvc_add(0xc, 4));
	CHECK_EQ("c.sub", (unsigned long)-8L, rvc_sub(4, 0xc));
	CHECK_EQ("c.xor", 0x0ff0, rvc_xor(0xff00, 0xf0f0));
	CHECK_EQ("c.or", 0xfff0, rvc_or(0xff00, 0x0ff0));
	CHECK_EQ("c.and", 0x0f00, rvc_and(0xff00, 0x0ff0));
	CHECK_EQ("c.addw sign-extends", 0xffffffff80000000UL, rvc_addw(0x7fffffff, 1));
	CHECK_EQ("c.subw sign-extends", 0x7fffffffUL, rvc_subw(0xffffffff80000000L, 1));
	CHECK_EQ("c.mv", 0x1234, rvc_mv(0, 0x1234));
}

static void control(void)
{
	CHECK_EQ("c.beqz taken", 1, rvc_beqz(0));
	CHECK_EQ("c.beqz not taken", 0, rvc_beqz(5));
	CHECK_EQ("c.bnez taken", 1, rvc_bnez(-1));
	CHECK_EQ("c.bnez not taken", 0, rvc_bnez(0));
	CHECK_EQ("c.j", 1, rvc_j());
	CHECK_EQ("c.jr", 1, rvc_jr());
	CHECK_EQ("c.jalr links pc + 2", 0, rvc_jalr_link());
}

void test_rv64c(void)
{
	group_begin(G_RV64C);
	stack_and_memory();
	arithmetic();
	control();
	group_ok();
}
