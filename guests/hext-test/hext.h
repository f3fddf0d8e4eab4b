/* hext.h: the H extension's CSRs and bits (priv spec, "Hypervisor Extension"), for hext-test. */
#ifndef HEXT_TEST_H
#define HEXT_TEST_H

#define CSR_HSTATUS   0x600
#define CSR_HEDELEG   0x602
#define CSR_HIDELEG   0x603
#define CSR_HIE       0x604
#define CSR_HTVAL     0x643
#define CSR_HIP       0x644
#define CSR_HVIP      0x645
#define CSR_HGATP     0x680
#define CSR_VSSTATUS  0x200
#define CSR_VSTVEC    0x205
#define CSR_VSSCRATCH 0x240
#define CSR_VSATP     0x280

#define HSTATUS_GVA   (1UL << 6)
#define HSTATUS_SPV   (1UL << 7)
#define HSTATUS_SPVP  (1UL << 8)
#define MIP_VSSIP     (1UL << 2)
#define MISA_H        (1UL << 7)
#define HGATP_SV39X4  (8UL << 60)

/* Guest exits as run_guest reports them: the guest's a0..a5 at the trap, and scause. */
struct exit_regs {
	unsigned long a[6];
};

#ifndef __ASSEMBLER__
/* Enters the guest at `entry` (V=1; VS if vs, else VU) and returns scause of the first trap that reaches HS. */
unsigned long run_guest(void (*entry)(void), int vs, struct exit_regs *regs);
void vs_trap(void);
/* Guest snippets (hyp.S). */
void g_csr(void), g_gpf_load(void), g_gpf_store(void), g_gload(void), g_vinstr(void);
void g_vsfault(void), g_vsip(void), g_spin(void), g_vu_csr(void);
/* HLV.D / HSV.D / HFENCE.GVMA from HS. */
unsigned long hlv_d(unsigned long va);
void hsv_d(unsigned long va, unsigned long v);
void hfence_gvma(void);
#endif
#endif
