/*
 * Addresses as a debugger sees them: what the hart would reach, virtual
 * through its current satp when it translates, physical otherwise — as
 * QEMU's gdbstub reads memory. The walk is the debugger's, not the hart's:
 * it sets no A/D bits, fills no TLB and raises nothing into the guest, and
 * it ignores the leaf's R/W/X/U permissions (a debugger may look at any
 * mapped byte, a breakpoint goes into execute-only code). Sv39 only, as
 * walkSv39 (mmu.ts); bounded by its three levels.
 */

import type { CsrFile } from "./csr.ts";
import type { Hart } from "./hart.ts";
import type { PteMemory } from "./mmu.ts";
import * as R from "./riscv.ts";

const TWO_22 = 4194304;
const TWO_32 = 4294967296;

/** No translation for the address: unmapped, non-canonical, or a PTE outside RAM. */
export const DEBUG_UNMAPPED = -1;

/**
 * The physical address of the virtual address (lo, hi) (an int32 pair) for
 * hart `h` at its current privilege, or DEBUG_UNMAPPED. M-mode and Bare
 * satp are untranslated: a physical address must be below 2^53. A hart in
 * a virtualised mode (H extension, V=1) is left untranslated too: its
 * guest's two-stage view is not modelled here.
 */
export function debugTranslate(h: Hart, lo: number, hi: number): number {
  return debugTranslateIn(h.csr, h.env.mem, lo, hi);
}

/**
 * debugTranslate for the hart whose CSRs are `c`, its page tables read from
 * `mem`: a hypervisor's view of its guest, with the guest's virtual CSR file
 * and guest-physical memory (the result is then guest-physical).
 */
export function debugTranslateIn(c: CsrFile, mem: PteMemory, lo: number, hi: number): number {
  if (c.priv === R.PRV_M || c.virt !== 0 || c.hi[R.CSR_SATP] >>> 28 !== R.SATP_MODE_SV39) {
    return hi < 0 || hi >= 0x20_0000 ? DEBUG_UNMAPPED : hi * TWO_32 + (lo >>> 0);
  }
  const rootPpn = (c.hi[R.CSR_SATP] & R.SATP_HI_PPN_MASK) * TWO_32 + (c.lo[R.CSR_SATP] >>> 0);
  return walkQuietly(mem, rootPpn, lo, hi);
}

/** A read-only Sv39 walk (priv spec 4.3.2 steps 1-6, without the permission checks and step 7's A/D update). */
function walkQuietly(mem: PteMemory, rootPpn: number, lo: number, hi: number): number {
  // Bits 63:39 must equal bit 38 (priv spec 4.4.1).
  if (((hi << 25) >> 25) !== hi) return DEBUG_UNMAPPED;
  const vpn = [(lo >>> 12) & 0x1ff, (lo >>> 21) & 0x1ff, ((hi & 0x7f) << 2) | (lo >>> 30)];
  let table = rootPpn * 4096;
  for (let level = 2; level >= 0; level--) {
    const off = mem.offsetOf(table + vpn[level] * 8);
    if (off < 0) return DEBUG_UNMAPPED;
    const pteLo = mem.i32[off >>> 2];
    const pteHi = mem.i32[(off >>> 2) + 1];
    if ((pteLo & R.PTE_V) === 0 || ((pteLo & R.PTE_R) === 0 && (pteLo & R.PTE_W) !== 0)) return DEBUG_UNMAPPED;
    if ((pteHi & R.PTE_HI_RESERVED) !== 0) return DEBUG_UNMAPPED;
    const ppn = (pteHi & 0x3f_ffff) * TWO_22 + (pteLo >>> 10);
    if ((pteLo & (R.PTE_R | R.PTE_X)) === 0) {
      table = ppn * 4096;
      continue;
    }
    // A superpage leaf keeps the low VPN fields of the address; a misaligned one maps nothing (step 6).
    const span = level === 2 ? 1 << 18 : level === 1 ? 1 << 9 : 1;
    if (ppn % span !== 0) return DEBUG_UNMAPPED;
    const inPage = level === 2 ? vpn[1] * 512 + vpn[0] : level === 1 ? vpn[0] : 0;
    return (ppn + inPage) * 4096 + (lo & 0xfff);
  }
  return DEBUG_UNMAPPED;
}
