/*
 * hext-test: the H extension from a hypervisor's side, bare metal.
 *
 * M-mode (main) opens PMP, delegates the guest's traps to HS and drops to
 * HS-mode (hs_main), the "hypervisor". It builds a G-stage table (Sv39x4:
 * guest physical RAM one to one in a 1 GiB leaf, GPA 0xC000_0000 to a frame
 * of its own, GPA 0xD000_0000 unmapped) and runs small guest snippets in VS
 * and VU (hyp.S): CSR substitution, guest-page faults with htval and GVA, a
 * load through the G-stage, a virtual-instruction exception, the guest's own
 * Sv39 table with a page fault delegated to VS by hedeleg, HLV/HSV, a virtual
 * interrupt delegated by hideleg and one left to HS, and HFENCE.GVMA after
 * a remap. Each line it prints is deterministic, so the output is compared
 * byte for byte with QEMU's (-cpu rv64,h=true); it ends with PASS or FAIL.
 */
#include "riscv.h"
#include "console.h"
#include "hext.h"

#define GPA_DATA   0xc0000000UL
#define GPA_NONE   0xd0000000UL
#define GUEST_VA   0x40000000UL

/* The G-stage root is 16 KiB (2048 entries) and 16 KiB aligned; the level-1/0 tables for GPA_DATA. */
static unsigned long groot[2048] __attribute__((aligned(16384)));
static unsigned long gl1[512] __attribute__((aligned(4096)));
static unsigned long gl0[512] __attribute__((aligned(4096)));
/* The guest's own Sv39 tables (guest physical = machine physical for RAM). */
static unsigned long vroot[512] __attribute__((aligned(4096)));
static unsigned long vl1[512] __attribute__((aligned(4096)));
static unsigned long vl0[512] __attribute__((aligned(4096)));
/* Frames behind GPA_DATA, before and after the remap. */
static unsigned long frame_a[512] __attribute__((aligned(4096)));
static unsigned long frame_b[512] __attribute__((aligned(4096)));

static int failures;
/* misa, read in M-mode (it is an M-level CSR). */
static unsigned long misa;

static unsigned long pte(unsigned long pa, unsigned long flags)
{
	return ((pa >> 12) << PTE_PPN_SHIFT) | flags | PTE_V;
}

/* 0x and the value's hex digits, no leading zeros. */
static void put_hex(unsigned long v)
{
	int digits = 1;
	while (digits < 16 && (v >> (4 * digits)) != 0)
		digits++;
	console_put_hex(v, digits);
}

static void line(const char *what, unsigned long v)
{
	console_puts(" ");
	console_puts(what);
	console_puts("=");
	put_hex(v);
}

/* Prints "name: k=v ..." and checks the exit's scause. */
static void check(const char *name, unsigned long scause, unsigned long want)
{
	console_puts(name);
	console_puts(":");
	line("scause", scause);
	if (scause != want) {
		console_puts(" (expected ");
		put_hex(want);
		console_puts(")");
		failures++;
	}
}

static void expect(const char *what, unsigned long got, unsigned long want)
{
	line(what, got);
	if (got != want) {
		console_puts(" (expected ");
		put_hex(want);
		console_puts(")");
		failures++;
	}
}

static void map_gstage(unsigned long frame)
{
	gl0[(GPA_DATA >> 12) & 0x1ff] = pte(frame, PTE_R | PTE_W | PTE_U | PTE_A | PTE_D);
}

static void hs_main(void)
{
	struct exit_regs r;
	unsigned long c;
	const unsigned long rwxu = PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D;

	console_puts("hext-test: misa.H=");
	console_put_dec((misa & MISA_H) != 0);
	console_puts("\n");

	/* G-stage: RAM one to one (1 GiB leaf), GPA_DATA -> frame_a. */
	groot[DRAM_BASE >> 30] = pte(DRAM_BASE, rwxu);
	groot[GPA_DATA >> 30] = pte((unsigned long)gl1, 0);
	gl1[(GPA_DATA >> 21) & 0x1ff] = pte((unsigned long)gl0, 0);
	map_gstage((unsigned long)frame_a);
	frame_a[0] = 0x1111222233334444UL;
	frame_b[0] = 0x5555666677778888UL;
	csr_write(CSR_HGATP, HGATP_SV39X4 | ((unsigned long)groot >> 12));
	csr_write(CSR_VSATP, 0);
	csr_write(CSR_VSTVEC, (unsigned long)vs_trap);
	hfence_gvma();

	csr_write(CSR_VSSCRATCH, 0xabcd);
	csr_write(CSR_VSSTATUS, 0);
	c = run_guest(g_csr, 1, &r);
	check("vs-csr", c, 10);
	expect("vsstatus.SIE", r.a[0] & 2, 0);
	expect("old-vsscratch", r.a[2], 0xabcd);
	expect("vsscratch", csr_read(CSR_VSSCRATCH), 0x5a5a);
	expect("SPV", (csr_read(CSR_HSTATUS) & HSTATUS_SPV) != 0, 1);
	expect("SPVP", (csr_read(CSR_HSTATUS) & HSTATUS_SPVP) != 0, 1);
	console_puts("\n");

	c = run_guest(g_gpf_load, 1, &r);
	check("gpf-load", c, 21);
	expect("stval", csr_read(CSR_STVAL), GPA_NONE);
	expect("htval", csr_read(CSR_HTVAL), GPA_NONE >> 2);
	expect("GVA", (csr_read(CSR_HSTATUS) & HSTATUS_GVA) != 0, 1);
	console_puts("\n");
	c = run_guest(g_gpf_store, 1, &r);
	check("gpf-store", c, 23);
	expect("stval", csr_read(CSR_STVAL), GPA_NONE + 8);
	expect("htval", csr_read(CSR_HTVAL), (GPA_NONE + 8) >> 2);
	console_puts("\n");

	c = run_guest(g_gload, 1, &r);
	check("g-stage-load", c, 10);
	expect("value", r.a[0], frame_a[0]);
	expect("GVA", (csr_read(CSR_HSTATUS) & HSTATUS_GVA) != 0, 0);
	console_puts("\n");

	c = run_guest(g_vinstr, 1, &r);
	check("virtual-instruction", c, 22);
	expect("sepc-is-guest", csr_read(CSR_SEPC) == (unsigned long)g_vinstr, 1);
	console_puts("\n");

	/* The guest's own Sv39 table: RAM one to one (1 GiB), GUEST_VA -> GPA_DATA, GUEST_VA + 4K unmapped. */
	vroot[DRAM_BASE >> 30] = pte(DRAM_BASE, PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
	vroot[GUEST_VA >> 30] = pte((unsigned long)vl1, 0);
	vl1[0] = pte((unsigned long)vl0, 0);
	vl0[0] = pte(GPA_DATA, PTE_R | PTE_W | PTE_A | PTE_D);
	csr_write(CSR_VSATP, SATP_MODE_SV39 | (1UL << 44) | ((unsigned long)vroot >> 12));
	csr_write(CSR_HEDELEG, 1UL << 13);
	c = run_guest(g_vsfault, 1, &r);
	check("vs-page-fault", c, 10);
	expect("value", r.a[0], frame_a[0]);
	expect("vscause", r.a[3], 13);
	expect("vstval", r.a[4], GUEST_VA + 0x1000);
	console_puts("\n");

	console_puts("hlv-hsv:");
	expect("hlv.d", hlv_d(GUEST_VA), frame_a[0]);
	hsv_d(GUEST_VA + 8, 0x0123456789abcdefUL);
	expect("hsv.d", frame_a[1], 0x0123456789abcdefUL);
	console_puts("\n");

	/* A virtual supervisor software interrupt: to VS when hideleg delegates it, else to HS. */
	csr_write(CSR_VSATP, 0);
	csr_write(CSR_HIDELEG, MIP_VSSIP);
	csr_write(CSR_HVIP, MIP_VSSIP);
	csr_write(CSR_VSSTATUS, 0);
	c = run_guest(g_vsip, 1, &r);
	check("vs-interrupt", c, 10);
	expect("vscause", r.a[3], (1UL << 63) | 1);
	console_puts("\n");
	csr_write(CSR_HIDELEG, 0);
	csr_write(CSR_HIE, MIP_VSSIP);
	c = run_guest(g_spin, 1, &r);
	check("hs-interrupt", c, (1UL << 63) | 2);
	csr_write(CSR_HVIP, 0);
	csr_write(CSR_HIE, 0);
	console_puts("\n");

	/* (A supervisor CSR from VU is a virtual-instruction exception by the spec's list, illegal on QEMU: not compared here.) */
	c = run_guest(g_vu_csr, 0, &r);
	check("vu-hypervisor-csr", c, 22);
	expect("SPVP", (csr_read(CSR_HSTATUS) & HSTATUS_SPVP) != 0, 0);
	console_puts("\n");

	/* Remap GPA_DATA; HFENCE.GVMA makes the guest see the new frame. */
	map_gstage((unsigned long)frame_b);
	hfence_gvma();
	c = run_guest(g_gload, 1, &r);
	check("hfence-remap", c, 10);
	expect("value", r.a[0], frame_b[0]);
	console_puts("\n");

	console_puts(failures == 0 ? "hext-test: PASS\n" : "hext-test: FAIL\n");
	finisher_exit(failures == 0 ? 0 : 1);
}

int main(void)
{
	misa = csr_read(0x301);
	if ((misa & MISA_H) == 0) {
		console_puts("hext-test: this hart has no H extension (popek: --cpu rv64,h=true)\nhext-test: FAIL\n");
		finisher_exit(1);
	}
	csr_write(CSR_PMPADDR0, PMPADDR_ALL);
	csr_write(CSR_PMPCFG0, PMPCFG_R | PMPCFG_W | PMPCFG_X | PMPCFG_A_NAPOT);
	/* The guest's exceptions go to HS: misaligned..page faults, ecall from U/VS, guest-page faults, virtual instruction. */
	csr_write(CSR_MEDELEG, 0xb1ffUL | (1UL << 10) | (0xfUL << 20));
	csr_write(CSR_MIDELEG, (1UL << 1) | (1UL << 5) | (1UL << 9));
	csr_clear(CSR_MSTATUS, MSTATUS_MPP);
	csr_set(CSR_MSTATUS, 1UL << MSTATUS_MPP_SHIFT);
	csr_write(CSR_MEPC, (unsigned long)hs_main);
	asm volatile("mret");
	return 1;
}
