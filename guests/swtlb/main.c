/*
 * swtlb: a kernel that refills its own TLB (run with --mmu swtlb).
 *
 * M-mode (this file) builds an Sv39-format page table, wires the kernel's
 * own pages into TLB slots 0..7 with stlbindex, delegates the refill
 * exceptions to S, points satp at the table and drops to S (kernel.S). The
 * S kernel enters a U-mode program that touches USER_PAGES pages
 * USER_ROUNDS times — far more pages than the TLB holds, so entries are
 * refilled and replaced all the time — and the S refill handler walks the
 * table and writes the TLB. The program's ecall comes back here with its
 * sum; M prints the counts and PASS, and powers off.
 */
#include "riscv.h"
#include "console.h"
#include "swtlb.h"

#define PAGE 4096UL
#define ASID 1UL

extern char s_entry[], refill[], user_entry[];
void m_trap_entry(void);

/* The kernel data page (sscratch points at it) and the three table pages, each page aligned. */
static unsigned long kdata[KD_SIZE / 8] __attribute__((aligned(4096)));
static unsigned long root[512] __attribute__((aligned(4096)));
static unsigned long l1[512] __attribute__((aligned(4096)));
static unsigned long l0[512] __attribute__((aligned(4096)));
/* The frames behind the user pages: deliberately not where the user addresses are. */
static char pool[USER_PAGES * PAGE] __attribute__((aligned(4096)));

static unsigned long pte(unsigned long pa, unsigned long flags)
{
	return ((pa >> 12) << 10) | flags;
}

/* Maps one 4 KiB page in the 2 MiB region the single l0 table covers (0x8000_0000..). */
static void map(unsigned long va, unsigned long pa, unsigned long flags)
{
	l0[(va >> 12) & 0x1ff] = pte(pa, flags | PTE_V);
}

/* Wires a kernel page (identity, global) into TLB slot `slot`. */
static void wire(int slot, unsigned long pa, unsigned long flags)
{
	csr_write(CSR_STLBVPN, pa >> 12);
	csr_write(CSR_STLBPTE, pte(pa, flags | PTE_V | PTE_G | PTE_A | PTE_D));
	csr_write(CSR_STLBINDEX, slot);
}

int main(void)
{
	const unsigned long krw = PTE_R | PTE_W;

	root[(DRAM_BASE >> 30) & 0x1ff] = pte((unsigned long)l1, PTE_V);
	l1[(DRAM_BASE >> 21) & 0x1ff] = pte((unsigned long)l0, PTE_V);
	map((unsigned long)user_entry, (unsigned long)user_entry, PTE_R | PTE_X | PTE_U);
	for (unsigned long i = 0; i < USER_PAGES; i++)
		map(USER_VA + i * PAGE, (unsigned long)pool + i * PAGE, PTE_R | PTE_W | PTE_U);

	/* Slots 0-4: the refill handler's code, its data page and the table (it reads and updates PTEs). */
	csr_write(CSR_STLBFLUSH, 0);
	wire(0, (unsigned long)s_entry, PTE_R | PTE_X);
	wire(1, (unsigned long)kdata, krw);
	wire(2, (unsigned long)root, krw);
	wire(3, (unsigned long)l1, krw);
	wire(4, (unsigned long)l0, krw);

	csr_write(CSR_MTVEC, (unsigned long)m_trap_entry);
	csr_write(CSR_MEDELEG, (1UL << CAUSE_TLB_REFILL_FETCH) | (1UL << CAUSE_TLB_REFILL_LOAD) |
				       (1UL << CAUSE_TLB_REFILL_STORE) | (1UL << 8) | (1UL << 12) |
				       (1UL << 13) | (1UL << 15));
	csr_write(CSR_STVEC, (unsigned long)refill);
	csr_write(CSR_SSCRATCH, (unsigned long)kdata);
	csr_write(CSR_SATP, SATP_MODE_SV39 | (ASID << 44) | ((unsigned long)root >> 12));
	csr_clear(CSR_MSTATUS, MSTATUS_MPP);
	csr_set(CSR_MSTATUS, 1UL << MSTATUS_MPP_SHIFT);
	csr_write(CSR_MEPC, (unsigned long)s_entry);
	asm volatile("mret");
	return 1;
}

/* The S kernel's ecall: a0 status, a1 the user's sum (or scause), a2 stval, a3 sepc. */
void m_trap(unsigned long status, unsigned long a1, unsigned long a2, unsigned long a3)
{
	const unsigned long *refills = &kdata[KD_REFILLS / 8];

	unsigned long expect = 0;

	csr_write(CSR_SATP, 0);
	for (unsigned long i = 0; i < USER_PAGES; i++)
		expect += USER_ROUNDS * (i + 1);
	if (csr_read(CSR_MCAUSE) != 9 || status != DONE_OK) {
		console_puts("swtlb: unexpected trap in S: scause=");
		console_put_dec(a1);
		console_puts(" stval=");
		console_put_hex(a2, 16);
		console_puts(" sepc=");
		console_put_hex(a3, 16);
		console_puts(" mcause=");
		console_put_dec(csr_read(CSR_MCAUSE));
		console_puts("\nswtlb: FAIL\n");
		finisher_exit(1);
	}
	console_puts("swtlb: pages=");
	console_put_dec(USER_PAGES);
	console_puts(" rounds=");
	console_put_dec(USER_ROUNDS);
	console_puts(" tlb=");
	console_put_dec(SWTLB_ENTRIES);
	console_puts(" wired=5 refills: fetch=");
	console_put_dec(refills[0]);
	console_puts(" load=");
	console_put_dec(refills[1]);
	console_puts(" store=");
	console_put_dec(refills[2]);
	console_puts(" sum=");
	console_put_dec(a1);
	console_puts("\n");
	if (a1 != expect) {
		console_puts("swtlb: FAIL (expected sum ");
		console_put_dec(expect);
		console_puts(")\n");
		finisher_exit(1);
	}
	console_puts("swtlb: PASS\n");
	finisher_exit(0);
}
