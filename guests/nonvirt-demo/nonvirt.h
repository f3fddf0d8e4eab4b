/*
 * nonvirt.h: how nonvirt-demo touches mstatus. The plain build uses the
 * instructions --isa-variant nonvirt runs in U-mode without trapping
 * (src/machine/isa-variant.ts): csrr, csrw and csrc of mstatus. The
 * paravirtual build (-DPARAVIRT) replaces each with a POPK hypercall, popek's
 * SBI extension (src/hypervisor/nonvirt/popk.ts):
 *
 *   a7 = 0x504F504B ("POPK"), a6 = FID (0 read, 1 write, 2 set, 3 clear),
 *   a0 = CSR number, a1 = value  ->  a0 = error, a1 = the CSR's old value
 *
 * The immediate forms (csrsi/csrci) trap on the variant too, so both builds
 * use them as they are.
 */
#ifndef NONVIRT_H
#define NONVIRT_H

#define POPK_EID        0x504F504B
#define POPK_CSR_READ   0
#define POPK_CSR_WRITE  1
#define POPK_CSR_SET    2
#define POPK_CSR_CLEAR  3

#ifdef __ASSEMBLER__
/* a0 = mstatus by hypercall (clobbers a1, a6, a7). */
#define POPK_READ_MSTATUS_A0            \
	li	a7, POPK_EID;           \
	li	a6, POPK_CSR_READ;      \
	li	a0, CSR_MSTATUS;        \
	ecall;                          \
	mv	a0, a1
#else
#ifdef PARAVIRT
static inline unsigned long popk(unsigned long fid, unsigned long csr, unsigned long value)
{
	register unsigned long a0 asm("a0") = csr;
	register unsigned long a1 asm("a1") = value;
	register unsigned long a6 asm("a6") = fid;
	register unsigned long a7 asm("a7") = POPK_EID;
	asm volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7) : "memory");
	return a1;
}
static inline unsigned long mstatus_read(void) { return popk(POPK_CSR_READ, CSR_MSTATUS, 0); }
static inline void mstatus_write(unsigned long v) { popk(POPK_CSR_WRITE, CSR_MSTATUS, v); }
static inline void mstatus_clear(unsigned long bits) { popk(POPK_CSR_CLEAR, CSR_MSTATUS, bits); }
#else
static inline unsigned long mstatus_read(void)
{
	unsigned long v;
	asm volatile("csrr %0, mstatus" : "=r"(v) : : "memory");
	return v;
}
static inline void mstatus_write(unsigned long v) { asm volatile("csrw mstatus, %0" : : "r"(v) : "memory"); }
static inline void mstatus_clear(unsigned long bits) { asm volatile("csrc mstatus, %0" : : "r"(bits) : "memory"); }
#endif
#endif
#endif
