/*
 * Addresses as the guest sees them, for a debugger: guest-virtual through
 * the GUEST's own page tables (its virtual satp and privilege, the virtual
 * CSR file) read from guest-physical memory — not the shadow tables the real
 * hart walks. The walk is src/machine/debug-walk.ts's (no A/D bits, no TLB,
 * nothing raised into the guest); only its memory differs. Any thread may
 * use it: the view never backs a page, and an unbacked table page is
 * unmapped here, as the guest would have no table there either.
 */

import type { CsrFile } from "../machine/csr.ts";
import { debugTranslateIn } from "../machine/debug-walk.ts";
import type { GuestMemoryView } from "../machine/guest-memory-view.ts";
import type { PteMemory } from "../machine/mmu.ts";

/** A guest's page-table memory: guest-physical addresses to offsets in machine memory. */
class GuestPteMemory implements PteMemory {
  readonly i32: Int32Array;
  constructor(private readonly view: GuestMemoryView) {
    this.i32 = new Int32Array(view.machine);
  }
  offsetOf(gpa: number): number {
    const off = this.view.translate(gpa, 8);
    return off < 0 ? -1 : off;
  }
}

export class GuestDebugWalk {
  private readonly mem: PteMemory;

  constructor(
    view: GuestMemoryView,
    private readonly csr: CsrFile,
  ) {
    this.mem = new GuestPteMemory(view);
  }

  /** The guest-physical address the guest reaches at `va` (an int32 pair) at its virtual privilege now, or DEBUG_UNMAPPED. */
  translate(lo: number, hi: number): number {
    return debugTranslateIn(this.csr, this.mem, lo, hi);
  }
}
