/*
 * When the interpreter loop is warmed and optimised. V8 optimises runSlice
 * (12 KB of bytecode) after ~50,000 guest instructions, on a background
 * thread: 15-90 ms of TurboFan, and a second whole-function compile at the
 * next call after the on-stack replacement. A run that ends soon after
 * (hello.elf: 65,699 instructions) gains nothing from either, yet its exit
 * waits for them, as Node joins V8's worker threads before the process ends:
 * ~20 ms of `popek run hello.elf`'s wall time went there (issue 17).
 *
 * So a board's runner holds V8's optimising compiler off large functions
 * until the run has retired WARM_AFTER instructions: a short run stays in
 * V8's baseline tiers, and a long one is warmed first (interp-warmup.ts) and
 * then optimised once, with feedback from every path (fewer deopts). The hold
 * lowers V8's --max-optimized-bytecode-size, which V8 reads at each tier-up
 * decision; smaller functions (enterBlock, the compiled blocks) are
 * optimised as usual meanwhile. Only a thread's first run holds (its start;
 * later runs find runSlice optimised already). V8's flags are process-wide:
 * other threads' large functions wait too, for as long as that one start.
 */

import { setFlagsFromString } from "node:v8";

/**
 * Guest instructions a thread runs before its interpreter is warmed (the
 * board's runner and a vCPU's; each thread has its own V8 feedback). A
 * shorter run (hello.elf: 66,000) is spared the warm-up, which costs it
 * ~16 ms of CPU (the cold paths it compiles). Warmed at 20,000 instead:
 * no deopts on OpenSBI + kernel-mini, but hello paid the 16 ms.
 */
export const WARM_AFTER = 100_000;

/** Bytecode bytes above which V8 does not optimise a function while held (runSlice: ~12 KB). */
const HELD_MAX_BYTECODE = 4096;
/** V8's own default (flag-definitions.h: 60 * KB), restored on release. */
const V8_MAX_BYTECODE = 60 * 1024;

/** The user set the flag themselves (node --max-optimized-bytecode-size=N, or NODE_OPTIONS): theirs stands. */
const userSet = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].some((a) => /max[-_]optimized[-_]bytecode[-_]size/.test(a));

let held = false;
/** This thread has held once: its start is over. */
let spent = false;

/** Holds the optimising compiler off large functions until releaseTierUp, on a thread's first call only (and not if the user set the flag). */
export function holdTierUp(): void {
  if (spent || userSet) return;
  spent = true;
  setFlagsFromString(`--max-optimized-bytecode-size=${HELD_MAX_BYTECODE}`);
  held = true;
}

/** Lets V8 optimise large functions again (at their next tier-up decision); a no-op when not held. */
export function releaseTierUp(): void {
  if (!held) return;
  setFlagsFromString(`--max-optimized-bytecode-size=${V8_MAX_BYTECODE}`);
  held = false;
}
