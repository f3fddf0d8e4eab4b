/*
 * riscv.h: the names of everything a popek guest touches on QEMU's virt board.
 *
 * Board map (QEMU hw/riscv/virt.c, also src/machine/memlayout.ts):
 *
 *   0x0010_0000  sifive_test finisher (write to power off / exit)
 *   0x0200_0000  CLINT: msip[hart] at +4*hart, mtimecmp[hart] at +0x4000+8*hart,
 *                mtime at +0xbff8 (10 MHz)
 *   0x1000_0000  UART0, a 16550 with byte-wide registers
 *   0x8000_0000  RAM; -bios none enters here in M-mode, a0 = hartid, a1 = FDT
 *   0x8020_0000  where OpenSBI's fw_jump enters an S-mode kernel
 *
 * Usable from C and from assembly (.S): the C-only parts are fenced off.
 */
#ifndef GUESTS_RISCV_H
#define GUESTS_RISCV_H

#ifdef __ASSEMBLER__
#define UL(x) x
#else
#define UL(x) x##UL
#endif

#define DRAM_BASE          UL(0x80000000)
#define SBI_KERNEL_BASE    UL(0x80200000)
#define MAX_HARTS          8
#define STACK_SIZE         16384

/* 16550 UART (registers one byte apart). */
#define UART0_BASE         UL(0x10000000)
#define UART_THR           0          /* transmit holding register (write) */
#define UART_LSR           5          /* line status register */
#define UART_LSR_THRE      0x20       /* bit 5: THR empty, may write */

/* sifive_test finisher: 0x5555 = pass (exit 0), (code << 16) | 0x3333 = fail. */
#define FINISHER_BASE      UL(0x100000)
#define FINISHER_PASS      0x5555
#define FINISHER_FAIL      0x3333

/* CLINT (SiFive-compatible ACLINT). */
#define CLINT_BASE         UL(0x02000000)
#define CLINT_MSIP(hart)   (CLINT_BASE + 4 * (hart))
#define CLINT_MTIMECMP(h)  (CLINT_BASE + 0x4000 + 8 * (h))
#define CLINT_MTIME        (CLINT_BASE + 0xbff8)
#define MTIME_HZ           10000000

/* CSR numbers (priv spec table 2.2-2.5; Sstc adds stimecmp). */
#define CSR_SSTATUS        0x100
#define CSR_SIE            0x104
#define CSR_STVEC          0x105
#define CSR_SCOUNTEREN     0x106
#define CSR_SENVCFG        0x10a
#define CSR_SSCRATCH       0x140
#define CSR_SEPC           0x141
#define CSR_SCAUSE         0x142
#define CSR_STVAL          0x143
#define CSR_SIP            0x144
#define CSR_STIMECMP       0x14d
#define CSR_SATP           0x180
#define CSR_MSTATUS        0x300
#define CSR_MISA           0x301
#define CSR_MEDELEG        0x302
#define CSR_MIDELEG        0x303
#define CSR_MIE            0x304
#define CSR_MTVEC          0x305
#define CSR_MCOUNTEREN     0x306
#define CSR_MENVCFG        0x30a
#define CSR_MCOUNTINHIBIT  0x320
#define CSR_MSCRATCH       0x340
#define CSR_MEPC           0x341
#define CSR_MCAUSE         0x342
#define CSR_MTVAL          0x343
#define CSR_MIP            0x344
#define CSR_PMPCFG0        0x3a0
#define CSR_PMPADDR0       0x3b0
#define CSR_MCYCLE         0xb00
#define CSR_MINSTRET       0xb02
#define CSR_CYCLE          0xc00
#define CSR_TIME           0xc01
#define CSR_INSTRET        0xc02
#define CSR_MVENDORID      0xf11
#define CSR_MARCHID        0xf12
#define CSR_MIMPID         0xf13
#define CSR_MHARTID        0xf14

/* mstatus / sstatus fields (priv spec 3.1.6). */
#define MSTATUS_SIE        UL(0x2)
#define MSTATUS_MIE        UL(0x8)
#define MSTATUS_SPIE       UL(0x20)
#define MSTATUS_MPIE       UL(0x80)
#define MSTATUS_SPP        UL(0x100)
#define MSTATUS_MPP_SHIFT  11
#define MSTATUS_MPP        UL(0x1800)
#define MSTATUS_MPRV       UL(0x20000)
#define MSTATUS_SUM        UL(0x40000)
#define MSTATUS_MXR        UL(0x80000)
#define MSTATUS_UXL_SHIFT  32
#define MSTATUS_SXL_SHIFT  34
#define MSTATUS_XL_MASK    UL(3)
#define XLEN_64            2

/* Privilege levels as encoded in MPP / SPP. */
#define PRV_U              0
#define PRV_S              1
#define PRV_M              3

/* mie / mip / sie / sip bits = interrupt cause numbers. */
#define IRQ_S_SOFT         1
#define IRQ_M_SOFT         3
#define IRQ_S_TIMER        5
#define IRQ_M_TIMER        7
#define IRQ_S_EXT          9
#define IRQ_M_EXT          11
#define MIP_SSIP           (UL(1) << IRQ_S_SOFT)
#define MIP_MSIP           (UL(1) << IRQ_M_SOFT)
#define MIP_STIP           (UL(1) << IRQ_S_TIMER)
#define MIP_MTIP           (UL(1) << IRQ_M_TIMER)

/* mcause / scause exception codes (priv spec table 3.6). */
#define CAUSE_MISALIGNED_FETCH   0
#define CAUSE_FETCH_ACCESS       1
#define CAUSE_ILLEGAL_INSN       2
#define CAUSE_BREAKPOINT         3
#define CAUSE_MISALIGNED_LOAD    4
#define CAUSE_LOAD_ACCESS        5
#define CAUSE_MISALIGNED_STORE   6
#define CAUSE_STORE_ACCESS       7
#define CAUSE_ECALL_U            8
#define CAUSE_ECALL_S            9
#define CAUSE_ECALL_M            11
#define CAUSE_FETCH_PAGE_FAULT   12
#define CAUSE_LOAD_PAGE_FAULT    13
#define CAUSE_STORE_PAGE_FAULT   15
#define CAUSE_INTERRUPT          (UL(1) << 63)

/* misa: MXL in bits 63:62, one bit per extension letter. */
#define MISA_MXL_SHIFT     62
#define MISA_EXT(letter)   (UL(1) << ((letter) - 'A'))

/* mcounteren / scounteren bits. */
#define COUNTEREN_CY       UL(0x1)
#define COUNTEREN_TM       UL(0x2)
#define COUNTEREN_IR       UL(0x4)

/* menvcfg.STCE enables Sstc's stimecmp (Sstc spec, bit 63). */
#define MENVCFG_STCE       (UL(1) << 63)

/* PMP: one NAPOT entry covering everything, R|W|X (priv spec 3.7). */
#define PMPCFG_R           0x1
#define PMPCFG_W           0x2
#define PMPCFG_X           0x4
#define PMPCFG_A_NAPOT     0x18
#define PMPADDR_ALL        UL(0x3fffffffffffff)

/* Sv39 (priv spec 4.4). */
#define SATP_MODE_SV39     (UL(8) << 60)
#define PAGE_SHIFT         12
#define PAGE_SIZE          (UL(1) << PAGE_SHIFT)
#define PTE_V              UL(0x001)
#define PTE_R              UL(0x002)
#define PTE_W              UL(0x004)
#define PTE_X              UL(0x008)
#define PTE_U              UL(0x010)
#define PTE_G              UL(0x020)
#define PTE_A              UL(0x040)
#define PTE_D              UL(0x080)
#define PTE_PPN_SHIFT      10

#ifdef __ASSEMBLER__
/*
 * CLEAR_BSS: zero [__bss_start, __bss_end) a doubleword at a time (the
 * link scripts align both to 16). Clobbers t0, t1 and the local labels 1, 2.
 */
.macro CLEAR_BSS
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:
.endm
#endif

#ifndef __ASSEMBLER__

/* CSR access by number: "i" prints the number, which the assembler accepts. */
#define csr_read(csr) ({ unsigned long __v; \
	__asm__ volatile ("csrr %0, %1" : "=r"(__v) : "i"(csr) : "memory"); __v; })
#define csr_write(csr, val) \
	__asm__ volatile ("csrw %0, %1" :: "i"(csr), "r"((unsigned long)(val)) : "memory")
#define csr_set(csr, bits) \
	__asm__ volatile ("csrs %0, %1" :: "i"(csr), "r"((unsigned long)(bits)) : "memory")
#define csr_clear(csr, bits) \
	__asm__ volatile ("csrc %0, %1" :: "i"(csr), "r"((unsigned long)(bits)) : "memory")
#define csr_swap(csr, val) ({ unsigned long __v; \
	__asm__ volatile ("csrrw %0, %1, %2" : "=r"(__v) : "i"(csr), \
			  "r"((unsigned long)(val)) : "memory"); __v; })

static inline unsigned long mmio_read64(unsigned long addr)
{
	return *(volatile unsigned long *)addr;
}

static inline void mmio_write64(unsigned long addr, unsigned long v)
{
	*(volatile unsigned long *)addr = v;
}

static inline unsigned int mmio_read32(unsigned long addr)
{
	return *(volatile unsigned int *)addr;
}

static inline void mmio_write32(unsigned long addr, unsigned int v)
{
	*(volatile unsigned int *)addr = v;
}

static inline unsigned long mtime_now(void)
{
	return mmio_read64(CLINT_MTIME);
}

#endif /* __ASSEMBLER__ */
#endif /* GUESTS_RISCV_H */
