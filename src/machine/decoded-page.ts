/*
 * The layout of a decoded page: what the interpreter (hart-loop.ts), the
 * hart's decoder (hart.ts), RAM (physmem.ts) and the block tier (jit/) all
 * index into. Defined once here so none of them imports another for it.
 *
 * A decoded page is one Int32Array per RAM page:
 *
 *   words [0, PAGE_SIZE)                 two words per 2-byte instruction slot
 *                                        (word0, imm; see src/isa/ops.ts), at
 *                                        the slot's byte offset
 *   words [PAGE_SIZE, +4)                the sentinel: always 0 (undecoded), read
 *                                        as the slots at byte offsets PAGE_SIZE
 *                                        and PAGE_SIZE + 2 (where execution falls
 *                                        off the page's end)
 *   words [BLOCK_ENTRY_BASE, +PAGE_SIZE/2 + 2) one block word per slot, at
 *                                        BLOCK_ENTRY_BASE + byte offset / 2
 *                                        (the last two, for the sentinel's
 *                                        offsets, always 0):
 *
 *      < 0   a hot counter: the interpreter adds one each time a jump or
 *            branch (or the start of a run, hart-loop.ts, as after the
 *            slot's first decode) leads it to the slot; at -1 the block
 *            starting there is compiled
 *        0   nothing to do (not compilable here, or the tier is off)
 *      > 0   the id of the compiled block that starts at this slot
 *
 * so the interpreter pays one typed-array load and compare per jump or
 * branch, and none for staying on the page: running off its end reads the sentinel,
 * whose undecoded op sends the loop to fetch the next page. Only jumps and
 * taken branches check their target against the page bounds.
 */

import { PAGE_SIZE } from "./memlayout.ts";

/** Two int32 words per 2-byte instruction slot: the predecoded part of a page. */
const DECODED_WORDS_PER_PAGE = PAGE_SIZE;
/** The zero words after the slots: the slots at byte offsets PAGE_SIZE and PAGE_SIZE + 2. */
const SENTINEL_WORDS = 4;
/** Word index in a decoded page where the per-slot block words start. */
export const BLOCK_ENTRY_BASE = DECODED_WORDS_PER_PAGE + SENTINEL_WORDS;
/** Block words that hold a slot's hot counter or block id (the sentinel's two stay 0). */
export const BLOCK_ENTRY_WORDS = PAGE_SIZE / 2;
/** Words in a decoded page: predecoded slots, the sentinel, then one block word per 2-byte slot and the sentinel's two. */
export const DECODED_PAGE_WORDS = BLOCK_ENTRY_BASE + BLOCK_ENTRY_WORDS + SENTINEL_WORDS / 2;
/**
 * Times the interpreter reaches a slot before the block starting there is
 * compiled (PhysMem's default). Compiling a block (new Function, then V8's
 * own lazy compile) costs about as much as interpreting it a few hundred to a
 * thousand times, and a compiled block saves a fraction of each run, so a
 * block first pays off after ~1000 runs: compile at that count, and no block
 * costs more than twice what the better choice would have (the ski-rental
 * bound). At 32, code that runs a few dozen times (a kernel boot) paid the
 * compile and never won it back: branchy (bench cpu) ran 9x slower than with
 * the JIT off; hot loops (cpubench) run the same either way.
 *
 * The real cost is higher than the new Function: a new block runs in V8's
 * baseline tier, slower than the interpreter, until TurboFan (on a
 * background thread, queued behind every other new block) optimises it.
 * Measured on Debian's Linux 6.12 to /init (1.12 G instructions, --clock
 * icount, main-thread CPU): 18.7 s at 1024, 13.2 s at 16384, 14.3 s with the
 * JIT off; the first half of that boot: 9.5 s at 1024, 8.7 s at 4096, 7.9 s
 * at 16384. Hot loops compile within microseconds either way.
 */
export const HOT_THRESHOLD = 16384;

/** Word in a decoded page that holds the block word of the slot at byte offset `po`. */
export function entryWord(po: number): number {
  return BLOCK_ENTRY_BASE + (po >>> 1);
}
