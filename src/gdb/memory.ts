/*
 * Memory as a debugged thread sees it, page by page: each page of the
 * virtual range translated on its own (`translate`: the thread's view,
 * src/machine/debug-walk.ts), then read or written through a memory view
 * in the addresses translate gives (physical on the board, guest-physical
 * in a VM). Only RAM: a debugger's read of a device register could have
 * effects (a UART's receive buffer), so MMIO fails as unmapped memory does.
 * GDB never sees its own ebreaks (breakpoints.ts).
 */

import { DEBUG_UNMAPPED } from "../machine/debug-walk.ts";
import { GUEST_OK, rangeInside, type GuestMemoryView } from "../machine/guest-memory-view.ts";
import { PAGE_SIZE } from "../machine/memlayout.ts";
import type { Breakpoints } from "./breakpoints.ts";

const U64 = (1n << 64n) - 1n;

/** A virtual address (any bigint, taken modulo 2^64) to a physical one, or DEBUG_UNMAPPED. */
export type DebugTranslate = (va: bigint) => number;

/** The int32 pair (lo, hi) of a 64-bit address, as the walks take it. */
export function addressPair(va: bigint): [number, number] {
  const v = va & U64;
  return [Number(v & 0xffff_ffffn) | 0, Number(v >> 32n) | 0];
}

/** Length of the piece of [at, at + rest) that lies in at's page. */
function inPage(at: bigint, rest: number): number {
  return Math.min(rest, PAGE_SIZE - Number(at & BigInt(PAGE_SIZE - 1)));
}

/**
 * Up to `length` bytes at `va`: fewer when the range runs into memory that
 * is not there (the protocol allows a short read), none when its first
 * byte is not.
 */
export function readDebugMemory(memory: GuestMemoryView, breakpoints: Breakpoints, translate: DebugTranslate, va: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const at = (va + BigInt(done)) & U64;
    const pa = translate(at);
    const chunk = out.subarray(done, done + inPage(at, length - done));
    if (pa === DEBUG_UNMAPPED || memory.copyOut(pa, chunk) !== GUEST_OK) break;
    breakpoints.hideIn(pa, chunk);
    done += chunk.length;
  }
  return out.subarray(0, done);
}

/** Writes `bytes` at `va`; false, writing nothing, when any byte is not RAM. The view forgets decoded code there. */
export function writeDebugMemory(memory: GuestMemoryView, breakpoints: Breakpoints, translate: DebugTranslate, va: bigint, bytes: Uint8Array): boolean {
  const pieces: { pa: number; bytes: Uint8Array }[] = [];
  let done = 0;
  while (done < bytes.length) {
    const at = (va + BigInt(done)) & U64;
    const pa = translate(at);
    const chunk = bytes.subarray(done, done + inPage(at, bytes.length - done));
    if (pa === DEBUG_UNMAPPED || !rangeInside(pa, chunk.length, memory.ramBase, memory.ramSize)) return false;
    pieces.push({ pa, bytes: chunk });
    done += chunk.length;
  }
  for (const p of pieces) {
    if (memory.copyIn(p.pa, p.bytes) !== GUEST_OK) return false;
    breakpoints.rewrittenAt(p.pa, p.bytes);
  }
  return true;
}
