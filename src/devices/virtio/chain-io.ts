/*
 * Moving bytes between a descriptor chain and the host: a chain's readable
 * (or writable) buffers form one byte stream, and these helpers copy a range
 * of it, or list where that range lies in machine memory (page by page, for
 * a worker that copies in place). Bounded by the chain, which the queue has
 * already checked against guest RAM.
 */

import { GUEST_OK, type GuestMemoryView } from "../../machine/guest-memory-view.ts";
import { PAGE_SIZE } from "../../machine/memlayout.ts";
import type { DescChain } from "./queue.ts";

/** Calls visit(gpa, len) for the pieces of [skip, skip + length) of the chain's readable or writable stream; stops early when visit returns false. */
export function forEachPiece(
  chain: DescChain,
  writable: boolean,
  skip: number,
  length: number,
  visit: (gpa: number, len: number) => boolean,
): boolean {
  const first = writable ? chain.firstWritable : 0;
  const end = writable ? chain.count : chain.firstWritable;
  let pos = 0;
  let left = length;
  for (let i = first; i < end && left > 0; i++) {
    const len = chain.len[i];
    if (pos + len > skip) {
      const from = Math.max(skip - pos, 0);
      const n = Math.min(len - from, left);
      if (!visit(chain.addr[i] + from, n)) return false;
      left -= n;
    }
    pos += len;
  }
  return left === 0;
}

/** Copies readable bytes [skip, skip + into.length) into `into`; false if the chain has fewer. */
export function gatherOut(mem: GuestMemoryView, chain: DescChain, skip: number, into: Uint8Array): boolean {
  let at = 0;
  return forEachPiece(chain, false, skip, into.length, (gpa, len) => {
    const ok = mem.copyOut(gpa, into.subarray(at, at + len)) === GUEST_OK;
    at += len;
    return ok;
  });
}

/** Copies `from` into writable bytes [skip, skip + from.length); false if the chain has fewer or a page cannot be written. */
export function scatterIn(mem: GuestMemoryView, chain: DescChain, skip: number, from: Uint8Array): boolean {
  let at = 0;
  return forEachPiece(chain, true, skip, from.length, (gpa, len) => {
    const ok = mem.copyIn(gpa, from.subarray(at, at + len)) === GUEST_OK;
    at += len;
    return ok;
  });
}

/**
 * Appends [machine offset, length] pairs for [skip, skip + length) of the
 * chain's stream to `out`, split at pages (a VM's frames need not be
 * contiguous) and merged where they are; unbacked pages are backed first on
 * the main thread. False if some piece is not writable guest RAM.
 */
export function machinePieces(mem: GuestMemoryView, chain: DescChain, writable: boolean, skip: number, length: number, out: number[]): boolean {
  return forEachPiece(chain, writable, skip, length, (gpa, len) => {
    // Most buffers lie in contiguous frames: one translation for the whole of it (a 64 KiB buffer would take 16).
    const whole = mem.translateForWrite(gpa, len);
    if (whole >= 0) {
      appendPiece(out, whole, len);
      return true;
    }
    for (let done = 0; done < len; ) {
      const n = Math.min(len - done, PAGE_SIZE - ((gpa + done) % PAGE_SIZE));
      const off = mem.translateForWrite(gpa + done, n);
      if (off < 0) return false;
      appendPiece(out, off, n);
      done += n;
    }
    return true;
  });
}

/** Appends [off, n] to `out`, merged into the last piece when it continues it. */
function appendPiece(out: number[], off: number, n: number): void {
  const last = out.length - 2;
  if (last >= 0 && out[last] + out[last + 1] === off) out[last + 1] += n;
  else out.push(off, n);
}
