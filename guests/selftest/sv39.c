/*
 * sv39: page-based virtual memory in S-mode (priv spec 4.3-4.4), with page
 * faults delegated to the S handler through medeleg.
 *
 * Virtual map built here (identity where RAM and devices are, so the
 * harness keeps working with translation on):
 *
 *   0x0000_0000 .. 1 GiB    -> 0x0000_0000  devices, RW         (gigapage)
 *   0x8000_0000 .. 1 GiB    -> 0x8000_0000  RAM, RWX            (gigapage)
 *   0x1_0000_0000 .. 1 GiB  -> 0x8000_0000  RAM alias, RW       (gigapage)
 *   0x1_4000_0000 .. 2 MiB  -> the 2 MiB frame holding test_page (megapage)
 *   0x1_4020_0000 + 4K * n  -> 4 KiB pages, one per case (enum slot)
 */
#include "selftest.h"

#define VA_GIGA     0x100000000UL
#define VA_MEGA     0x140000000UL
#define VA_4K       0x140200000UL
#define GIGA_SHIFT  30
#define MEGA_SHIFT  21
#define VPN_MASK    0x1ffUL
#define PTE_LEAF_RW (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)

/* The 4 KiB slots under VA_4K. */
enum slot {
	SLOT_AD = 0,        /* RW, A = D = 0: hardware sets them */
	SLOT_READONLY,      /* R: stores fault */
	SLOT_USER,          /* RWU: S needs SUM */
	SLOT_EXECONLY,      /* X: loads need MXR */
	SLOT_NOEXEC,        /* RW: fetches fault */
	SLOT_INVALID,       /* V = 0 */
	SLOT_REMAP,         /* changed from test_page to test_page2 */
	SLOT_CODE,          /* X: sv39_code_page */
};

static unsigned long root[512] __attribute__((aligned(4096)));
static unsigned long l1[512] __attribute__((aligned(4096)));
static unsigned long l0[512] __attribute__((aligned(4096)));
static volatile unsigned long test_page[512] __attribute__((aligned(4096)));
static volatile unsigned long test_page2[512] __attribute__((aligned(4096)));
static volatile unsigned long marker = 0x6d61726b6572UL;

long sv39_code_page(void);
/* One page of code: returns 42. Page-aligned so it can be mapped alone. */
__asm__(".pushsection .text.sv39_code_page, \"ax\", @progbits\n"
	".balign 4096\n"
	".globl sv39_code_page\n"
	"sv39_code_page:\n\tli a0, 42\n\tret\n"
	".popsection");

static unsigned long pte(unsigned long pa, unsigned long flags)
{
	return (pa >> PAGE_SHIFT) << PTE_PPN_SHIFT | flags;
}

static unsigned long slot_va(enum slot s)
{
	return VA_4K + (unsigned long)s * PAGE_SIZE;
}

static void build_tables(void)
{
	unsigned long mega_pa = (unsigned long)test_page & ~((1UL << MEGA_SHIFT) - 1);

	root[0] = pte(0, PTE_LEAF_RW);
	root[DRAM_BASE >> GIGA_SHIFT] = pte(DRAM_BASE, PTE_LEAF_RW | PTE_X);
	root[(VA_GIGA >> GIGA_SHIFT) & VPN_MASK] = pte(DRAM_BASE, PTE_LEAF_RW);
	root[(VA_MEGA >> GIGA_SHIFT) & VPN_MASK] = pte((unsigned long)l1, PTE_V);
	l1[(VA_MEGA >> MEGA_SHIFT) & VPN_MASK] = pte(mega_pa, PTE_LEAF_RW);
	l1[(VA_4K >> MEGA_SHIFT) & VPN_MASK] = pte((unsigned long)l0, PTE_V);

	unsigned long tp = (unsigned long)test_page;
	l0[SLOT_AD] = pte(tp, PTE_V | PTE_R | PTE_W);
	l0[SLOT_READONLY] = pte(tp, PTE_V | PTE_R | PTE_A);
	l0[SLOT_USER] = pte(tp, PTE_LEAF_RW | PTE_U);
	l0[SLOT_EXECONLY] = pte(tp, PTE_V | PTE_X | PTE_A);
	l0[SLOT_NOEXEC] = pte(tp, PTE_LEAF_RW);
	l0[SLOT_INVALID] = 0;
	l0[SLOT_REMAP] = pte(tp, PTE_V | PTE_R | PTE_A);
	l0[SLOT_CODE] = pte((unsigned long)sv39_code_page, PTE_V | PTE_X | PTE_A);

	test_page[0] = 0x1111111111111111UL;
	test_page2[0] = 0x2222222222222222UL;
}

static unsigned long load(unsigned long va)
{
	unsigned long v = 0xbad;

	__asm__ volatile ("ld %0, 0(%1)" : "+r"(v) : "r"(va) : "memory");
	return v;
}

static void store(unsigned long va, unsigned long v)
{
	__asm__ volatile ("sd %0, 0(%1)" :: "r"(v), "r"(va) : "memory");
}

static void sfence_vma(unsigned long va)
{
	__asm__ volatile ("sfence.vma %0, zero" :: "r"(va) : "memory");
}

static void page_sizes(void)
{
	unsigned long off = (unsigned long)&marker - DRAM_BASE;
	unsigned long mega_off = (unsigned long)test_page & ((1UL << MEGA_SHIFT) - 1);

	CHECK_EQ("1 GiB page: load through the alias", 0x6d61726b6572UL, load(VA_GIGA + off));
	store(VA_GIGA + off, 0x3333);
	CHECK_EQ("1 GiB page: store lands in the same frame", 0x3333, marker);
	CHECK_EQ("2 MiB page: load", 0x1111111111111111UL, load(VA_MEGA + mega_off));
	CHECK_EQ("4 KiB page: load", 0x1111111111111111UL, load(slot_va(SLOT_NOEXEC)));
	CHECK_EQ("4 KiB page: code runs through an X page", 42,
		 ((long (*)(void))slot_va(SLOT_CODE))());
}

/* Priv spec 4.3.1: the hart may set A and D itself; QEMU does. */
static void accessed_dirty(void)
{
	CHECK_EQ("A clear before the access", 0, l0[SLOT_AD] & (PTE_A | PTE_D));
	trap_expect();
	(void)load(slot_va(SLOT_AD));
	check_no_trap("load from a page with A = 0 (hardware A/D update expected)");
	CHECK_EQ("load sets A only", PTE_A, l0[SLOT_AD] & (PTE_A | PTE_D));
	trap_expect();
	store(slot_va(SLOT_AD) + 8, 5);
	check_no_trap("store to a page with D = 0 (hardware A/D update expected)");
	CHECK_EQ("store sets D", PTE_A | PTE_D, l0[SLOT_AD] & (PTE_A | PTE_D));
	CHECK_EQ("store reached the frame", 5, test_page[1]);
}

static void permissions(void)
{
	unsigned long va;

	va = slot_va(SLOT_READONLY) + 16;
	trap_expect();
	store(va, 1);
	check_trap("store to a read-only page", CAUSE_STORE_PAGE_FAULT, va, PRV_S);

	va = slot_va(SLOT_USER) + 24;
	csr_clear(CSR_SSTATUS, MSTATUS_SUM);
	trap_expect();
	(void)load(va);
	check_trap("S load from a U page with SUM = 0", CAUSE_LOAD_PAGE_FAULT, va, PRV_S);
	csr_set(CSR_SSTATUS, MSTATUS_SUM);
	test_page[3] = 0x5e;
	CHECK_EQ("S load from a U page with SUM = 1", 0x5e, load(va));
	csr_clear(CSR_SSTATUS, MSTATUS_SUM);

	va = slot_va(SLOT_EXECONLY);
	trap_expect();
	(void)load(va);
	check_trap("load from an execute-only page", CAUSE_LOAD_PAGE_FAULT, va, PRV_S);
	csr_set(CSR_SSTATUS, MSTATUS_MXR);
	CHECK_EQ("MXR makes an execute-only page readable", 0x1111111111111111UL, load(va));
	csr_clear(CSR_SSTATUS, MSTATUS_MXR);

	va = slot_va(SLOT_NOEXEC);
	trap_expect();
	__asm__ volatile ("jalr ra, 0(%0)" :: "r"(va) : "ra", "memory");
	check_trap("fetch from a non-executable page", CAUSE_FETCH_PAGE_FAULT, va, PRV_S);
	CHECK_EQ("fetch fault: sepc = the target", va, last_trap.epc);

	va = slot_va(SLOT_INVALID) + 8;
	trap_expect();
	(void)load(va);
	check_trap("load from an invalid PTE", CAUSE_LOAD_PAGE_FAULT, va, PRV_S);
	trap_expect();
	store(va, 0);
	check_trap("store to an invalid PTE", CAUSE_STORE_PAGE_FAULT, va, PRV_S);
}

static void remap(void)
{
	unsigned long va = slot_va(SLOT_REMAP);

	CHECK_EQ("before the PTE change", 0x1111111111111111UL, load(va));
	l0[SLOT_REMAP] = pte((unsigned long)test_page2, PTE_V | PTE_R | PTE_A);
	sfence_vma(va);
	CHECK_EQ("after the PTE change and sfence.vma", 0x2222222222222222UL, load(va));
}

/* Runs in S-mode: turn translation on, run the cases, return. */
static long s_body(long unused)
{
	csr_write(CSR_SATP, SATP_MODE_SV39 | ((unsigned long)root >> PAGE_SHIFT));
	__asm__ volatile ("sfence.vma" ::: "memory");
	CHECK_EQ("satp.MODE reads Sv39", SATP_MODE_SV39, csr_read(CSR_SATP) & (0xfUL << 60));
	page_sizes();
	accessed_dirty();
	permissions();
	remap();
	return unused;
}

/* M-mode with MPRV = 1 and MPP = S: loads translate as in S (3.1.6.3). */
static void mprv(void)
{
	unsigned long off = (unsigned long)&marker - DRAM_BASE, v;

	marker = 0x4444;
	csr_clear(CSR_MSTATUS, MSTATUS_MPP);
	csr_set(CSR_MSTATUS, (unsigned long)PRV_S << MSTATUS_MPP_SHIFT);
	__asm__ volatile ("csrs %1, %2\n\tld %0, 0(%3)\n\tcsrc %1, %2"
			  : "=&r"(v)
			  : "i"(CSR_MSTATUS), "r"(MSTATUS_MPRV), "r"(VA_GIGA + off)
			  : "memory");
	CHECK_EQ("MPRV with MPP = S: M load translated through satp", 0x4444, v);
}

void test_sv39(void)
{
	/* Sv39 is required: natively and under the hypervisor (shadow page tables). */
	group_begin(G_SV39);
	build_tables();
	csr_write(CSR_MEDELEG, (1UL << CAUSE_FETCH_PAGE_FAULT) |
		  (1UL << CAUSE_LOAD_PAGE_FAULT) | (1UL << CAUSE_STORE_PAGE_FAULT));
	run_in_mode(PRV_S, s_body, 0);
	mprv();
	csr_write(CSR_SATP, 0);
	__asm__ volatile ("sfence.vma" ::: "memory");
	csr_write(CSR_MEDELEG, 0);
	group_ok();
}
