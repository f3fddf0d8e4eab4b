/*
 * Names for trap causes in traces (priv spec table 3.6, plus the lab's
 * software-TLB refills, riscv.ts): what `popek trace` prints beside a number.
 */

import * as R from "../machine/riscv.ts";

const CAUSE_NAMES: ReadonlyMap<number, string> = new Map([
  [R.CAUSE_FETCH_ACCESS, "fetch access fault"],
  [R.CAUSE_ILLEGAL_INSTRUCTION, "illegal instruction"],
  [R.CAUSE_BREAKPOINT, "breakpoint"],
  [R.CAUSE_MISALIGNED_LOAD, "misaligned load"],
  [R.CAUSE_LOAD_ACCESS, "load access fault"],
  [R.CAUSE_MISALIGNED_STORE, "misaligned store"],
  [R.CAUSE_STORE_ACCESS, "store access fault"],
  [R.CAUSE_ECALL_U, "ecall from U"],
  [R.CAUSE_ECALL_S, "ecall from S"],
  [R.CAUSE_ECALL_M, "ecall from M"],
  [R.CAUSE_FETCH_PAGE_FAULT, "fetch page fault"],
  [R.CAUSE_LOAD_PAGE_FAULT, "load page fault"],
  [R.CAUSE_STORE_PAGE_FAULT, "store page fault"],
  [R.CAUSE_TLB_REFILL_FETCH, "TLB refill (fetch)"],
  [R.CAUSE_TLB_REFILL_LOAD, "TLB refill (load)"],
  [R.CAUSE_TLB_REFILL_STORE, "TLB refill (store)"],
]);

/** A cause as a trace shows it: -1 is an interrupt exit (the vCPU asked for a pending interrupt to be injected). */
export function causeName(cause: number): string {
  if (cause === -1) return "interrupt";
  return CAUSE_NAMES.get(cause) ?? `cause ${cause}`;
}
