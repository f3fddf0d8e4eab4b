/*
 * mmubench: nanobenchmarks of the MMU operations a VMM must virtualize, in
 * the spirit of Adams & Agesen (ASPLOS 2006), run by a small S-mode kernel
 * (kernel.S) under Sv39 or, on a --mmu swtlb hart, a software-refilled TLB.
 *
 *   pgfault   a store to a fresh page: a page fault (Sv39) or refill (swtlb)
 *             whose handler maps a new frame
 *   ptemod    change a PTE and flush that page (sfence.vma / stlbflush)
 *   ctxsw     switch satp between two address spaces (ASIDs 1 and 2) and load
 *   tlbwalk   a load from each of 120 pages whose translations were flushed
 *
 * M-mode (this file) builds the tables, probes which MMU the hart has, and
 * drops to S; the kernel's ecall comes back here and M prints, untranslated:
 *
 *   mmubench: <bench> mmu=<sv39|swtlb> iters=<n> ticks=<rdtime ticks> instret=<rdinstret delta>
 *   mmubench: done
 *
 * or, when satp does not accept Sv39 (a hypervisor without guest paging),
 * `mmubench: unsupported: ...` and exit status 3.
 *
 * Everything runs twice and the second run is printed: the first warms the
 * paths up. Scale: `iters=SCALE` in /chosen/bootargs (--append) multiplies the passes.
 */
#include "riscv.h"
#include "console.h"
#include "mmubench.h"
#include "../swtlb/swtlb.h"
#include "../exitbench/exitbench.h"

#define PAGE 4096UL
#define LEAF (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define BASE_PASSES 20UL
/* Exit status when the machine will not page (bench/mmu.ts reports "needs shadow paging"). */
#define EXIT_UNSUPPORTED 3

extern char s_main[], s_trap[], kernel_text_end[];
void m_trap_entry(void);
void probe_trap(void);
unsigned long probe_illegal;

static unsigned long kdata[KD_SIZE / 8] __attribute__((aligned(4096)));
static unsigned long root1[512] __attribute__((aligned(4096)));
static unsigned long root2[512] __attribute__((aligned(4096)));
static unsigned long l1a[512] __attribute__((aligned(4096)));
static unsigned long l1b[512] __attribute__((aligned(4096)));
static unsigned long l0a[512] __attribute__((aligned(4096)));
static unsigned long l0b[512] __attribute__((aligned(4096)));

/* What enter_s hands the kernel; set once by main. */
static unsigned long g_passes, g_satp1, g_satp2;
/* The first run warms every path up (the interpreter's, V8's and a hypervisor's JIT); the second is timed. Volatile: enter_s never returns, so a plain store would look dead. */
static volatile int warmed;

/* Drops to the S kernel at s_main(passes, satp1, satp2), in address space 1. */
static void __attribute__((noreturn)) enter_s(void)
{
	csr_write(CSR_SATP, g_satp1);
	csr_clear(CSR_MSTATUS, MSTATUS_MPP);
	csr_set(CSR_MSTATUS, 1UL << MSTATUS_MPP_SHIFT);
	csr_write(CSR_MEPC, (unsigned long)s_main);
	{
		register unsigned long a0 __asm__("a0") = g_passes;
		register unsigned long a1 __asm__("a1") = g_satp1;
		register unsigned long a2 __asm__("a2") = g_satp2;
		__asm__ volatile ("mret" :: "r"(a0), "r"(a1), "r"(a2) : "memory");
	}
	__builtin_unreachable();
}

static const char *const names[BENCHES] = { "pgfault", "ptemod", "ctxsw", "tlbwalk" };

static unsigned long pte(unsigned long pa, unsigned long flags)
{
	return ((pa >> 12) << 10) | flags;
}

/* Whether the hart has the TLB-write CSRs (--mmu swtlb): reading one is illegal otherwise. */
static int probe_swtlb(void)
{
	unsigned long v;

	probe_illegal = 0;
	csr_write(CSR_MTVEC, (unsigned long)probe_trap);
	__asm__ volatile ("csrr %0, 0x5c3" : "=r"(v) :: "memory");
	(void)v;
	csr_write(CSR_MTVEC, (unsigned long)m_trap_entry);
	return !probe_illegal;
}

static void wire(int slot, unsigned long pa, unsigned long flags)
{
	csr_write(CSR_STLBVPN, pa >> 12);
	csr_write(CSR_STLBPTE, pte(pa, flags | PTE_V | PTE_G | PTE_A | PTE_D));
	csr_write(CSR_STLBINDEX, slot);
}

int main(unsigned long hart, const void *fdt)
{
	struct scale sc = bootargs_iters_scale(fdt);
	unsigned long passes = BASE_PASSES * sc.num / sc.den;
	int swtlb = probe_swtlb();
	unsigned long satp1, satp2;

	(void)hart;
	if (passes == 0)
		passes = 1;
	root1[(BENCH_VA >> 30) & 0x1ff] = pte((unsigned long)l1a, PTE_V);
	root2[(BENCH_VA >> 30) & 0x1ff] = pte((unsigned long)l1b, PTE_V);
	l1a[(BENCH_VA >> 21) & 0x1ff] = pte((unsigned long)l0a, PTE_V);
	l1b[(BENCH_VA >> 21) & 0x1ff] = pte((unsigned long)l0b, PTE_V);
	for (unsigned long i = 0; i < WALK_PAGES; i++)
		l0a[WALK_FIRST + i] = pte(WALK_POOL + i * PAGE, LEAF);
	l0a[PTEMOD_SLOT] = pte(SPARE_POOL, LEAF);
	l0a[CTXSW_SLOT] = pte(SPARE_POOL + 2 * PAGE, LEAF);
	l0b[CTXSW_SLOT] = pte(SPARE_POOL + 3 * PAGE, LEAF);

	kdata[KD_MODE / 8] = swtlb ? MODE_SWTLB : MODE_SV39;
	kdata[KD_L0A / 8] = (unsigned long)l0a;
	if (swtlb) {
		/* The kernel's code, its data page and the six tables never miss: slots 0.. (of 16 wired). */
		int slot = 0;

		csr_write(CSR_STLBFLUSH, 0);
		for (unsigned long pa = (unsigned long)s_main; pa < (unsigned long)kernel_text_end; pa += PAGE)
			wire(slot++, pa, PTE_R | PTE_X);
		wire(slot++, (unsigned long)kdata, PTE_R | PTE_W);
		wire(slot++, (unsigned long)root1, PTE_R | PTE_W);
		wire(slot++, (unsigned long)root2, PTE_R | PTE_W);
		wire(slot++, (unsigned long)l1a, PTE_R | PTE_W);
		wire(slot++, (unsigned long)l1b, PTE_R | PTE_W);
		wire(slot++, (unsigned long)l0a, PTE_R | PTE_W);
		wire(slot++, (unsigned long)l0b, PTE_R | PTE_W);
		csr_write(CSR_MEDELEG, (7UL << CAUSE_TLB_REFILL_FETCH) | (1UL << 12) | (1UL << 13) | (1UL << 15));
	} else {
		/* The kernel's gigapage, identity and global, in both address spaces. */
		root1[(DRAM_BASE >> 30) & 0x1ff] = pte(DRAM_BASE, PTE_V | PTE_R | PTE_W | PTE_X | PTE_G | PTE_A | PTE_D);
		root2[(DRAM_BASE >> 30) & 0x1ff] = root1[(DRAM_BASE >> 30) & 0x1ff];
		csr_write(CSR_MEDELEG, (1UL << 12) | (1UL << 13) | (1UL << 15));
	}
	satp1 = SATP_MODE_SV39 | (1UL << 44) | ((unsigned long)root1 >> 12);
	satp2 = SATP_MODE_SV39 | (2UL << 44) | ((unsigned long)root2 >> 12);
	/* S may read time and instret; and one PMP entry lets S reach memory (QEMU denies S without one). */
	csr_write(CSR_MCOUNTEREN, 7);
	csr_write(CSR_PMPADDR0, PMPADDR_ALL);
	csr_write(CSR_PMPCFG0, PMPCFG_A_NAPOT | PMPCFG_R | PMPCFG_W | PMPCFG_X);
	csr_write(CSR_STVEC, (unsigned long)s_trap);
	csr_write(CSR_SSCRATCH, (unsigned long)kdata);
	csr_write(CSR_SATP, satp1);
	if (csr_read(CSR_SATP) != satp1) {
		/* satp is WARL: a hart (or a hypervisor without guest paging) may keep Bare. Nothing to measure. */
		console_puts("mmubench: unsupported: satp does not take Sv39 (no guest paging here)\n");
		finisher_exit(EXIT_UNSUPPORTED);
	}
	g_passes = passes;
	g_satp1 = satp1;
	g_satp2 = satp2;
	enter_s();
}

/* The S kernel's ecall: a0 = status; for a panic a1 = scause, a2 = stval, a3 = sepc. */
void m_trap(unsigned long status, unsigned long a1, unsigned long a2, unsigned long a3)
{
	const char *mmu = kdata[KD_MODE / 8] == MODE_SWTLB ? "swtlb" : "sv39";

	csr_write(CSR_SATP, 0);
	if (csr_read(CSR_MCAUSE) != 9 || status != DONE_OK) {
		console_puts("mmubench: panic mcause=");
		console_put_dec(csr_read(CSR_MCAUSE));
		console_puts(" scause=");
		console_put_dec(a1);
		console_puts(" stval=");
		console_put_hex(a2, 16);
		console_puts(" sepc=");
		console_put_hex(a3, 16);
		console_puts(" mepc=");
		console_put_hex(csr_read(CSR_MEPC), 16);
		console_puts(" mtval=");
		console_put_hex(csr_read(CSR_MTVAL), 16);
		console_puts("\n");
		finisher_exit(1);
	}
	if (!warmed) {
		warmed = 1;
		for (int i = 0; i < 3 * BENCHES; i++)
			kdata[KD_RESULTS / 8 + i] = 0;
		enter_s();
	}
	for (int b = 0; b < BENCHES; b++) {
		const unsigned long *r = &kdata[KD_RESULTS / 8 + 3 * b];

		console_puts("mmubench: ");
		console_puts(names[b]);
		console_puts(" mmu=");
		console_puts(mmu);
		console_puts(" iters=");
		console_put_dec(r[0]);
		console_puts(" ticks=");
		console_put_dec(r[1]);
		console_puts(" instret=");
		console_put_dec(r[2]);
		console_puts("\n");
	}
	console_puts("mmubench: done\n");
	finisher_exit(0);
}
