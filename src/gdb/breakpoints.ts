/*
 * Software breakpoints (Z0/z0), planted the way a debugger plants them in
 * real hardware's RAM: the instruction's first bytes become ebreak (4 bytes)
 * or c.ebreak (2 bytes, GDB's kind 2 for a compressed instruction), and the
 * hart, with dcsr.ebreak* set (src/machine/dcsr.ts), halts on it instead of
 * trapping. The original bytes come back on removal. Writes go through the
 * board's memory view, which forgets decoded and compiled code there.
 *
 * A breakpoint is planted at the physical address its virtual address had
 * when it was inserted (GDB inserts them on every resume, so a remapping
 * between stops is seen). Reads see the original bytes, and writes over a
 * breakpoint change what is restored, so GDB never sees its own ebreaks.
 */

import type { GuestMemoryView } from "../machine/guest-memory-view.ts";
import { GUEST_OK } from "../machine/guest-memory-view.ts";

/** ebreak and c.ebreak, little-endian (GDB's breakpoint kinds 4 and 2 for RISC-V). */
const EBREAK: Readonly<Record<number, readonly number[]>> = {
  4: [0x73, 0x00, 0x10, 0x00],
  2: [0x02, 0x90],
};

interface Planted {
  readonly pa: number;
  readonly original: Uint8Array;
}

export class Breakpoints {
  /** By virtual address (as GDB names them). */
  private readonly planted = new Map<bigint, Planted>();

  constructor(private readonly memory: GuestMemoryView) {}

  /** Whether GDB's breakpoint kind is one this target plants. */
  static knownKind(kind: number): boolean {
    return EBREAK[kind] !== undefined;
  }

  /** Plants one at `va` (physical `pa`); false when pa is not RAM. Inserting one twice is harmless. */
  insert(va: bigint, pa: number, kind: number): boolean {
    if (this.planted.has(va)) return true;
    const bytes = EBREAK[kind];
    const original = new Uint8Array(bytes.length);
    if (this.memory.copyOut(pa, original) !== GUEST_OK) return false;
    if (this.memory.copyIn(pa, Uint8Array.from(bytes)) !== GUEST_OK) return false;
    this.planted.set(va, { pa, original });
    return true;
  }

  /** Restores the original bytes at `va`; false when no breakpoint is there. */
  remove(va: bigint): boolean {
    const p = this.planted.get(va);
    if (p === undefined) return false;
    this.memory.copyIn(p.pa, p.original);
    this.planted.delete(va);
    return true;
  }

  /** Removes every breakpoint (the debugger detached or went away). */
  removeAll(): void {
    for (const va of [...this.planted.keys()]) this.remove(va);
  }

  /** Whether a breakpoint is planted at physical address `pa` (a halt there is the debugger's). */
  plantedAt(pa: number): boolean {
    for (const p of this.planted.values()) if (p.pa === pa) return true;
    return false;
  }

  /** The physical addresses of every planted breakpoint (a VM's vCPUs look them up: src/hypervisor/debug-breakpoints.ts). */
  plantedAddresses(): number[] {
    return [...this.planted.values()].map((p) => p.pa);
  }

  /** `bytes` were just read from physical `pa`: put the original bytes back where breakpoints sit. */
  hideIn(pa: number, bytes: Uint8Array): void {
    for (const p of this.planted.values()) overlap(pa, bytes.length, p, (i, j) => (bytes[i] = p.original[j]));
  }

  /** `bytes` were just written at physical `pa`: they become what is restored, and the ebreaks stay. */
  rewrittenAt(pa: number, bytes: Uint8Array): void {
    for (const p of this.planted.values()) {
      let touched = false;
      overlap(pa, bytes.length, p, (i, j) => {
        p.original[j] = bytes[i];
        touched = true;
      });
      if (touched) this.memory.copyIn(p.pa, Uint8Array.from(EBREAK[p.original.length]));
    }
  }
}

/** Calls `each(i, j)` for every byte i of [pa, pa + length) that is byte j of breakpoint p. */
function overlap(pa: number, length: number, p: Planted, each: (i: number, j: number) => void): void {
  for (let j = 0; j < p.original.length; j++) {
    const i = p.pa + j - pa;
    if (i >= 0 && i < length) each(i, j);
  }
}
