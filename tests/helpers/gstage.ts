/*
 * A G-stage (Sv39x4) table builder for H-extension tests: the hypervisor's
 * guest-physical -> machine map, as an HS-mode kernel would build it (priv
 * spec, H chapter): a 16 KiB root of 2048 entries, then Sv39's levels.
 * Leaves get U set (G-stage leaves must have it) unless told otherwise.
 */

import { PAGE_SIZE } from "../../src/machine/memlayout.ts";
import * as R from "../../src/machine/riscv.ts";
import { HGATP_MODE_SV39X4 } from "../../src/machine/hext-defs.ts";
import type { HartHarness } from "./hart-harness.ts";

export class GStageTables {
  private next: number;
  readonly root: number;

  /** poolBase must be 16 KiB aligned: the root comes first. */
  constructor(private readonly t: HartHarness, poolBase: number) {
    if (poolBase % (4 * PAGE_SIZE) !== 0) throw new RangeError("GStageTables: the root must be 16 KiB aligned");
    this.next = poolBase;
    this.root = this.alloc(4);
  }

  private alloc(pages = 1): number {
    const pa = this.next;
    this.next += pages * PAGE_SIZE;
    for (let i = 0; i < pages * PAGE_SIZE; i += 8) this.t.write64(pa + i, 0n);
    return pa;
  }

  /** hgatp for this root: MODE Sv39x4, a VMID. */
  hgatp(vmid = 0): bigint {
    return (BigInt(HGATP_MODE_SV39X4) << 60n) | (BigInt(vmid) << 44n) | BigInt(this.root / PAGE_SIZE);
  }

  /** Maps gpa -> pa at a level (0: 4 KiB, 1: 2 MiB); flags without V (added), U added unless noUser. */
  map(gpa: number, pa: number, flags: number, level = 0, noUser = false): void {
    let table = this.root;
    for (let l = 2; l > level; l--) {
      const idx = l === 2 ? Math.floor(gpa / 2 ** 30) : Math.floor(gpa / 2 ** (12 + 9 * l)) % 512;
      const at = table + idx * 8;
      const pte = this.t.read64(at);
      if ((pte & BigInt(R.PTE_V)) === 0n) {
        const child = this.alloc();
        this.t.write64(at, (BigInt(child / PAGE_SIZE) << 10n) | BigInt(R.PTE_V));
        table = child;
      } else table = Number(pte >> 10n) * PAGE_SIZE;
    }
    const idx = level === 2 ? Math.floor(gpa / 2 ** 30) : Math.floor(gpa / 2 ** (12 + 9 * level)) % 512;
    const leaf = flags | R.PTE_V | (noUser ? 0 : R.PTE_U);
    this.t.write64(table + idx * 8, (BigInt(Math.floor(pa / PAGE_SIZE)) << 10n) | BigInt(leaf));
  }
}
