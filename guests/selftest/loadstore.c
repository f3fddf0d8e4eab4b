/*
 * loadstore: every load and store width, sign and zero extension, and
 * misaligned accesses. Whether a misaligned scalar access is performed or
 * traps is the implementation's choice (unpriv spec 2.6); the test accepts
 * either, checks the data or the trap (cause 4/6, mtval = the address), and
 * prints which happened, so popek and QEMU can be compared line by line.
 */
#include "selftest.h"

#define LOAD(op, addr) ({ unsigned long __r; \
	__asm__ volatile (op " %0, 0(%1)" : "=r"(__r) : "r"(addr) : "memory"); __r; })
#define STORE(op, addr, v) \
	__asm__ volatile (op " %0, 0(%1)" :: "r"((unsigned long)(v)), "r"(addr) : "memory")

#define BUF_BYTES 48

static volatile unsigned char buf[BUF_BYTES] __attribute__((aligned(16)));

static void fill(void)
{
	for (int i = 0; i < BUF_BYTES; i++)
		buf[i] = (unsigned char)(0x80 + i);
}

static void loads(void)
{
	fill();
	CHECK_EQ("lb sign-extends", 0xffffffffffffff80UL, LOAD("lb", &buf[0]));
	CHECK_EQ("lbu zero-extends", 0x80, LOAD("lbu", &buf[0]));
	CHECK_EQ("lh", 0xffffffffffff8180UL, LOAD("lh", &buf[0]));
	CHECK_EQ("lhu", 0x8180, LOAD("lhu", &buf[0]));
	CHECK_EQ("lw", 0xffffffff83828180UL, LOAD("lw", &buf[0]));
	CHECK_EQ("lwu", 0x83828180UL, LOAD("lwu", &buf[0]));
	CHECK_EQ("ld", 0x8786858483828180UL, LOAD("ld", &buf[0]));
	CHECK_EQ("ld +8", 0x8f8e8d8c8b8a8988UL, LOAD("ld", &buf[8]));
	buf[4] = 0x7f;
	CHECK_EQ("lb positive", 0x7f, LOAD("lb", &buf[4]));
	CHECK_EQ("lw with imm offset", 0xffffffff8b8a8988UL,
		 ({ unsigned long __r; __asm__ volatile ("lw %0, 8(%1)" : "=r"(__r)
							: "r"(&buf[0])); __r; }));
	CHECK_EQ("lbu negative offset", 0x80,
		 ({ unsigned long __r; __asm__ volatile ("lbu %0, -1(%1)" : "=r"(__r)
							: "r"(&buf[1])); __r; }));
}

static void stores(void)
{
	fill();
	STORE("sb", &buf[1], 0x1122334455667711UL);
	CHECK_EQ("sb writes one byte", 0x8786858483821180UL, LOAD("ld", &buf[0]));
	STORE("sh", &buf[2], 0xaaaabbbbccccddeeUL);
	CHECK_EQ("sh writes two bytes", 0x87868584ddee1180UL, LOAD("ld", &buf[0]));
	STORE("sw", &buf[4], 0x0123456789abcdefUL);
	CHECK_EQ("sw writes four bytes", 0x89abcdefddee1180UL, LOAD("ld", &buf[0]));
	STORE("sd", &buf[8], 0x0123456789abcdefUL);
	CHECK_EQ("sd", 0x0123456789abcdefUL, LOAD("ld", &buf[8]));
	CHECK_EQ("sd leaves neighbours", 0x9796959493929190UL, LOAD("ld", &buf[16]));
}

#define MISALIGNED_LOAD(op, off, expected) do { \
	unsigned long __a = (unsigned long)&buf[off], __v = 0xdead; \
	trap_expect(); \
	__asm__ volatile (op " %0, 0(%1)" : "+r"(__v) : "r"(__a) : "memory"); \
	if (last_trap.count) { \
		check_trap(op " misaligned", CAUSE_MISALIGNED_LOAD, __a, PRV_M); \
		traps++; \
	} else { \
		check_no_trap(op " misaligned"); \
		CHECK_EQ(op " misaligned data", expected, __v); \
		done++; \
	} \
} while (0)

#define MISALIGNED_STORE(op, off, v) do { \
	unsigned long __a = (unsigned long)&buf[off]; \
	trap_expect(); \
	__asm__ volatile (op " %0, 0(%1)" :: "r"((unsigned long)(v)), "r"(__a) : "memory"); \
	if (last_trap.count) { \
		check_trap(op " misaligned", CAUSE_MISALIGNED_STORE, __a, PRV_M); \
		traps++; \
	} else { \
		check_no_trap(op " misaligned"); \
		done++; \
	} \
} while (0)

static void misaligned(void)
{
	int traps = 0, done = 0;

	fill();
	MISALIGNED_LOAD("lh", 1, 0xffffffffffff8281UL);
	MISALIGNED_LOAD("lhu", 3, 0x8483);
	MISALIGNED_LOAD("lw", 1, 0xffffffff84838281UL);
	MISALIGNED_LOAD("lwu", 2, 0x85848382UL);
	MISALIGNED_LOAD("ld", 1, 0x8887868584838281UL);
	MISALIGNED_LOAD("ld", 7, 0x8e8d8c8b8a898887UL);
	MISALIGNED_STORE("sh", 17, 0x1234);
	MISALIGNED_STORE("sw", 19, 0x89abcdef);
	MISALIGNED_STORE("sd", 25, 0x0011223344556677UL);
	if (done == 9) {
		CHECK_EQ("misaligned sh/sw data", 0x9789abcdef123490UL, LOAD("ld", &buf[16]));
		CHECK_EQ("misaligned sd data", 0x1122334455667798UL, LOAD("ld", &buf[24]));
		CHECK_EQ("misaligned sd data, next word", 0xa7a6a5a4a3a2a100UL,
			 LOAD("ld", &buf[32]));
		note("misaligned loads and stores performed");
	} else if (traps == 9) {
		CHECK_EQ("trapping misaligned stores leave memory", 0x9796959493929190UL,
			 LOAD("ld", &buf[16]));
		note("misaligned loads and stores trap (cause 4/6, mtval = address)");
	} else {
		fail("misaligned: some accesses trapped, others did not");
	}
}

void test_loadstore(void)
{
	group_begin(G_LOADSTORE);
	loads();
	stores();
	misaligned();
	group_ok();
}
