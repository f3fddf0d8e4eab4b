/*
 * Names from the RISC-V privileged specification: privilege levels, CSR
 * numbers, mstatus/mip bits, trap causes, Sv39 PTE bits. Each mask sits beside
 * the register it belongs to (xv6's riscv.h habit); logic never uses bare numbers.
 */

// Privilege levels (priv spec 1.2).
export const PRV_U = 0;
export const PRV_S = 1;
export const PRV_M = 3;

// ---- CSR numbers (priv spec 2.2) ----
export const CSR_FFLAGS = 0x001;
export const CSR_CYCLE = 0xc00;
export const CSR_TIME = 0xc01;
export const CSR_INSTRET = 0xc02;
export const CSR_HPMCOUNTER3 = 0xc03;
// ... up to hpmcounter31 = 0xc1f.

export const CSR_SSTATUS = 0x100;
export const CSR_SIE = 0x104;
export const CSR_STVEC = 0x105;
export const CSR_SCOUNTEREN = 0x106;
export const CSR_SENVCFG = 0x10a;
export const CSR_SSCRATCH = 0x140;
export const CSR_SEPC = 0x141;
export const CSR_SCAUSE = 0x142;
export const CSR_STVAL = 0x143;
export const CSR_SIP = 0x144;
export const CSR_STIMECMP = 0x14d;
export const CSR_SATP = 0x180;

export const CSR_MVENDORID = 0xf11;
export const CSR_MARCHID = 0xf12;
export const CSR_MIMPID = 0xf13;
export const CSR_MHARTID = 0xf14;
export const CSR_MCONFIGPTR = 0xf15;
export const CSR_MSTATUS = 0x300;
export const CSR_MISA = 0x301;
export const CSR_MEDELEG = 0x302;
export const CSR_MIDELEG = 0x303;
export const CSR_MIE = 0x304;
export const CSR_MTVEC = 0x305;
export const CSR_MCOUNTEREN = 0x306;
export const CSR_MENVCFG = 0x30a;
export const CSR_MCOUNTINHIBIT = 0x320;
export const CSR_MHPMEVENT3 = 0x323;
// ... up to mhpmevent31 = 0x33f.
export const CSR_MSCRATCH = 0x340;
export const CSR_MEPC = 0x341;
export const CSR_MCAUSE = 0x342;
export const CSR_MTVAL = 0x343;
export const CSR_MIP = 0x344;
export const CSR_PMPCFG0 = 0x3a0;
export const CSR_PMPADDR0 = 0x3b0;
export const CSR_MCYCLE = 0xb00;
export const CSR_MINSTRET = 0xb02;
export const CSR_MHPMCOUNTER3 = 0xb03;
// ... up to mhpmcounter31 = 0xb1f.

/** PMP entries implemented (QEMU virt has 16: pmpcfg0, pmpcfg2, pmpaddr0..15). */
export const PMP_ENTRIES = 16;

// ---- mstatus / sstatus (priv spec 3.1.6), low word ----
export const MSTATUS_SIE = 1 << 1;
export const MSTATUS_MIE = 1 << 3;
export const MSTATUS_SPIE = 1 << 5;
export const MSTATUS_MPIE = 1 << 7;
export const MSTATUS_SPP = 1 << 8;
export const MSTATUS_MPP_SHIFT = 11;
export const MSTATUS_MPP = 3 << MSTATUS_MPP_SHIFT;
export const MSTATUS_MPRV = 1 << 17;
export const MSTATUS_SUM = 1 << 18;
export const MSTATUS_MXR = 1 << 19;
export const MSTATUS_TVM = 1 << 20;
export const MSTATUS_TW = 1 << 21;
export const MSTATUS_TSR = 1 << 22;
/** mstatus high word: UXL (bits 33:32) = SXL (35:34) = 2, i.e. XLEN 64; read-only here. */
export const MSTATUS_HI_XLEN64 = 0x2 | (0x2 << 2);

export const MSTATUS_WRITABLE =
  MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP |
  MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;
/** The fields of mstatus that sstatus shows (priv spec 4.1.1). */
export const SSTATUS_VISIBLE = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR;
export const SSTATUS_WRITABLE = SSTATUS_VISIBLE;

// ---- interrupts: bit numbers in mip/mie, and interrupt cause codes ----
export const IRQ_S_SOFT = 1;
export const IRQ_M_SOFT = 3;
export const IRQ_S_TIMER = 5;
export const IRQ_M_TIMER = 7;
export const IRQ_S_EXT = 9;
export const IRQ_M_EXT = 11;
export const MIP_SSIP = 1 << IRQ_S_SOFT;
export const MIP_MSIP = 1 << IRQ_M_SOFT;
export const MIP_STIP = 1 << IRQ_S_TIMER;
export const MIP_MTIP = 1 << IRQ_M_TIMER;
export const MIP_SEIP = 1 << IRQ_S_EXT;
export const MIP_MEIP = 1 << IRQ_M_EXT;
/**
 * The board's first platform-local interrupt (priv spec 3.1.9: mip/mie bits 16
 * and up are for platform use): a directly assigned device posts it to a hart
 * from its own thread, with no interrupt controller in between
 * (src/devices/assigned-nic/). Delegable; the lowest priority, as AIA's
 * default order puts 16.
 */
export const IRQ_POSTED = 16;
export const MIP_POSTED = 1 << IRQ_POSTED;
/** Supervisor-level interrupts (and the posted one): the only ones mideleg may delegate. */
export const S_INTERRUPTS = MIP_SSIP | MIP_STIP | MIP_SEIP | MIP_POSTED;
export const ALL_INTERRUPTS = S_INTERRUPTS | MIP_MSIP | MIP_MTIP | MIP_MEIP;
/** Bits of mip software may write through mip (priv spec 3.1.9); STIP only without Sstc's STCE. */
export const MIP_WRITABLE = MIP_SSIP | MIP_STIP | MIP_SEIP;
/** Order in which simultaneous interrupts are taken (priv spec 3.1.9). */
export const IRQ_PRIORITY: readonly number[] = [IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER, IRQ_POSTED];

// ---- exception causes (priv spec table 3.6) ----
// 0: instruction address misaligned, which IALIGN=16 (the C extension) never raises.
export const CAUSE_FETCH_ACCESS = 1;
export const CAUSE_ILLEGAL_INSTRUCTION = 2;
export const CAUSE_BREAKPOINT = 3;
export const CAUSE_MISALIGNED_LOAD = 4;
export const CAUSE_LOAD_ACCESS = 5;
export const CAUSE_MISALIGNED_STORE = 6;
export const CAUSE_STORE_ACCESS = 7;
export const CAUSE_ECALL_U = 8;
export const CAUSE_ECALL_S = 9;
export const CAUSE_ECALL_M = 11;
export const CAUSE_FETCH_PAGE_FAULT = 12;
export const CAUSE_LOAD_PAGE_FAULT = 13;
export const CAUSE_STORE_PAGE_FAULT = 15;
/**
 * --mmu swtlb's TLB refill exceptions (swtlb.ts), one per access kind, in the
 * range the priv spec's cause table designates for custom use (24–31).
 * xtval holds the virtual address that missed.
 */
export const CAUSE_TLB_REFILL_FETCH = 24;
export const CAUSE_TLB_REFILL_LOAD = 25;
export const CAUSE_TLB_REFILL_STORE = 26;
/** Exceptions medeleg can delegate: all defined ones but ecall from M (priv spec 3.1.8), and the swtlb refills. */
export const MEDELEG_WRITABLE = 0xb3ff | (7 << CAUSE_TLB_REFILL_FETCH);

// ---- mtvec / stvec ----
// Mode 0 is direct: every trap enters at the base.
export const TVEC_MODE_VECTORED = 1;

// ---- menvcfg (priv spec 3.1.18) ----
export const ENVCFG_FIOM = 1;
/** menvcfg.STCE is bit 63: bit 31 of the high word. Sstc: enables stimecmp. */
export const MENVCFG_HI_STCE = 1 << 31;

// ---- counter enables (mcounteren / scounteren) ----
export const COUNTEREN_CY = 1 << 0;
export const COUNTEREN_TM = 1 << 1;
export const COUNTEREN_IR = 1 << 2;

// ---- --mmu swtlb's TLB-write CSRs (swtlb.ts): S-mode custom read/write space 0x5C0–0x5FF ----
/** The entry to write: VPN (VA bits 38:12) in bits 26:0, ASID in bits 47:32. Set by hardware on a refill. */
export const CSR_STLBVPN = 0x5c0;
/** The entry's PPN and flags, in Sv39 leaf-PTE format (PPN bits 53:10, D A G U X W R V in 7:0). */
export const CSR_STLBPTE = 0x5c1;
/** A write puts {stlbvpn, stlbpte} in the slot it names (value mod the TLB size); reads give the last slot written. */
export const CSR_STLBINDEX = 0x5c2;
/** A write (any value) puts {stlbvpn, stlbpte} in a slot the hardware chooses, never a wired one; reads give the next. */
export const CSR_STLBRANDOM = 0x5c3;
/** A write of 0 empties the TLB; of a virtual address, drops that page's entries (every ASID). */
export const CSR_STLBFLUSH = 0x5c4;

// ---- satp (priv spec 4.1.11), high word ----
export const SATP_MODE_BARE = 0;
export const SATP_MODE_SV39 = 8;
/** ASID is satp bits 59:44: bits 27:12 of the high word. */
export const SATP_HI_ASID_SHIFT = 12;
export const SATP_ASID_MASK = 0xffff;
/** PPN is satp bits 43:0: 32 bits of the low word and 12 of the high. */
export const SATP_HI_PPN_MASK = 0xfff;

// ---- Sv39 page-table entries (priv spec 4.3.1, 4.4.1) ----
export const PTE_V = 1 << 0;
export const PTE_R = 1 << 1;
export const PTE_W = 1 << 2;
export const PTE_X = 1 << 3;
export const PTE_U = 1 << 4;
export const PTE_G = 1 << 5;
export const PTE_A = 1 << 6;
export const PTE_D = 1 << 7;
/** PTE bits 63:54 (reserved, PBMT, N) must be zero without Svpbmt/Svnapot: bits 31:22 of the high word. */
export const PTE_HI_RESERVED = 0xffc0_0000 | 0;

// ---- misa: MXL=2 (RV64) in bits 63:62; extensions A, C, I, M, S, U ----
export const MISA_HI = 2 << 30;
export const MISA_LO =
  (1 << 0) /* A */ | (1 << 2) /* C */ | (1 << 8) /* I */ | (1 << 12) /* M */ | (1 << 18) /* S */ | (1 << 20) /* U */;

/** The ISA string the device tree advertises. */
export const ISA_STRING = "rv64imac_zicsr_zifencei_sstc";
/** The same with the H extension (`--cpu rv64,h=true`); single letters go in canonical order, h after c. */
export const ISA_STRING_H = "rv64imach_zicsr_zifencei_sstc";
