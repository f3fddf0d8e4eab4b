/*
 * The directory of write-protected guest page-table pages
 * (--shadow-coherence wp, shadow-mmu.ts): for each machine frame that holds
 * a guest page table the shadow was filled from, where in the guest-virtual
 * space that table was used — so that a guest store into entry i of it
 * knows which shadow entries to zap — and how many stores it took since a
 * walk last went through it (KVM's write-flooding count).
 *
 * A table is "used" at a level (2 = root, 1, 0 = leaf table) for a region
 * of guest-virtual pages starting at `vpn` (27-bit VPN, a multiple of the
 * region's size), by the shadow spaces in a 32-bit slot mask. Entry i of it
 * then maps VPNs vpn + i * 512^level .. + 512^level. One table can be used
 * in several places (a kernel table shared by every process's root is one
 * use with many slots; a self-referencing table, several uses), up to
 * USES_MAX; shadow-mmu.ts zaps what an evicted use covered.
 *
 * Open addressing with linear probing over one Int32Array in the shadow's
 * shared buffer (shadow-state.ts), so the vCPU thread and the main thread
 * see the same directory; like the rest of the shadow, one thread at a time
 * touches it. No allocation: every operation returns a word index.
 *
 *   header   D_FILLED (live + removed entries, for the load limit)
 *   entries  PT_DIR_ENTRIES x ENTRY_WORDS:
 *            [E_KEY] machine frame index + 1; 0 empty, REMOVED a tombstone
 *            [E_WRITES] stores emulated since the last walk through it
 *            [E_USES] uses recorded, then USES_MAX x [U_LEVEL, U_VPN, U_SLOTS]
 */

/** Entries in the directory: write-protected tables per vCPU. A full directory is emptied with the shadow (shadow-mmu.ts). */
const PT_DIR_ENTRIES = 1024;
/** Distinct (level, region) uses kept per table. */
export const USES_MAX = 4;
const HEADER_WORDS = 16;
const ENTRY_WORDS = 16;
export const PT_DIR_WORDS = HEADER_WORDS + PT_DIR_ENTRIES * ENTRY_WORDS;

const D_FILLED = 0;
const E_KEY = 0;
export const E_WRITES = 1;
export const E_USES = 2;
const E_USE0 = 4;
const USE_WORDS = 3;
export const U_LEVEL = 0;
export const U_VPN = 1;
export const U_SLOTS = 2;
const REMOVED = -1;
/** Probing gives up above this many filled entries (three quarters): the caller starts over. */
const LOAD_LIMIT = (PT_DIR_ENTRIES * 3) / 4;

/** The word index of the entry for machine frame `frame`, or -1. */
export function dirFind(dir: Int32Array, frame: number): number {
  const key = frame + 1;
  for (let probe = 0, i = hash(frame); probe < PT_DIR_ENTRIES; probe++, i = (i + 1) & (PT_DIR_ENTRIES - 1)) {
    const e = HEADER_WORDS + i * ENTRY_WORDS;
    const k = dir[e + E_KEY];
    if (k === key) return e;
    if (k === 0) return -1;
  }
  return -1;
}

/** A new, empty entry for `frame` (not in the directory), or -1 when the directory is full. */
export function dirInsert(dir: Int32Array, frame: number): number {
  if (dir[D_FILLED] >= LOAD_LIMIT) return -1;
  for (let i = hash(frame); ; i = (i + 1) & (PT_DIR_ENTRIES - 1)) {
    const e = HEADER_WORDS + i * ENTRY_WORDS;
    const k = dir[e + E_KEY];
    if (k !== 0 && k !== REMOVED) continue;
    if (k === 0) dir[D_FILLED]++;
    dir.fill(0, e, e + ENTRY_WORDS);
    dir[e + E_KEY] = frame + 1;
    return e;
  }
}

/** Removes an entry (a tombstone keeps later probes going). */
export function dirRemove(dir: Int32Array, e: number): void {
  dir.fill(0, e, e + ENTRY_WORDS);
  dir[e + E_KEY] = REMOVED;
}

export function dirClear(dir: Int32Array): void {
  dir.fill(0);
}

/** Word index of use `k` of entry `e` (read U_LEVEL, U_VPN, U_SLOTS from it). */
export function useAt(e: number, k: number): number {
  return e + E_USE0 + k * USE_WORDS;
}

/** The use of entry `e` at (level, vpn), or -1. */
export function findUse(dir: Int32Array, e: number, level: number, vpn: number): number {
  for (let k = 0; k < dir[e + E_USES]; k++) {
    const u = useAt(e, k);
    if (dir[u + U_LEVEL] === level && dir[u + U_VPN] === vpn) return u;
  }
  return -1;
}

/** Appends a use (the caller made room: fewer than USES_MAX). */
export function addUse(dir: Int32Array, e: number, level: number, vpn: number, slotMask: number): void {
  const u = useAt(e, dir[e + E_USES]++);
  dir[u + U_LEVEL] = level;
  dir[u + U_VPN] = vpn;
  dir[u + U_SLOTS] = slotMask;
}

/** Drops the oldest use (the caller zapped what it covered), making room for one more. */
export function dropOldestUse(dir: Int32Array, e: number): void {
  const n = dir[e + E_USES];
  dir.copyWithin(useAt(e, 0), useAt(e, 1), useAt(e, n));
  dir[e + E_USES] = n - 1;
}

function hash(frame: number): number {
  return Math.imul(frame, 0x9e3779b1) >>> 22; // the top 10 bits: PT_DIR_ENTRIES = 2^10
}
