/*
 * branchy: a generated guest with many short-lived code paths, for `popek bench cpu`.
 *
 * cpubench spends its time in a few hot loops, where a block JIT wins however
 * much each compile costs. Booting a kernel is the opposite: thousands of
 * distinct paths, each run a few dozen times. branchy is that shape in
 * miniature: BLOCKS straight-line blocks laid end to end, each
 *
 *   addi a0, a0, k      ; k differs per block, so no two blocks are alike
 *   xori a1, a0, m
 *   add  a2, a2, a1
 *   andi a3, a2, 1
 *   beq  a3, zero, +8   ; data-dependent: both paths are taken over the rounds
 *   addi a4, a4, 1
 *
 * run ROUNDS times (past the JIT's compile threshold of 32 visits, so blocks
 * are compiled and then used only a little), then a write to the sifive_test
 * finisher ends the run with status 0, on popek and on QEMU (-bios none) alike.
 * Its code is ~800 KB of 32-bit instructions at 0x80000000: a flat binary.
 */

import { enc } from "../src/isa/encode.ts";
import { TEST_BASE } from "../src/machine/memlayout.ts";

export const BRANCHY_BLOCKS = 32_768;
export const BRANCHY_ROUNDS = 48;

const A0 = 10, A1 = 11, A2 = 12, A3 = 13, A4 = 14, S0 = 8, S1 = 9, T0 = 5;
const FINISHER_PASS = 0x5555;

/** The guest as a flat binary image for 0x80000000. */
export function branchyImage(blocks = BRANCHY_BLOCKS, rounds = BRANCHY_ROUNDS): Uint8Array {
  const words: number[] = [
    enc.lui(S0, TEST_BASE >>> 12),
    enc.addi(S1, 0, rounds),
  ];
  const loop = words.length;
  for (let b = 0; b < blocks; b++) {
    // Immediates vary with the block number and stay within 12 signed bits.
    words.push(
      enc.addi(A0, A0, ((b * 37) % 2001) - 1000),
      enc.xori(A1, A0, (b * 101) % 2047),
      enc.add(A2, A2, A1),
      enc.andi(A3, A2, 1),
      enc.beq(A3, 0, 8),
      enc.addi(A4, A4, 1),
    );
  }
  // One round done: count down, and back to the first block (too far for a branch: jal).
  words.push(enc.addi(S1, S1, -1), enc.beq(S1, 0, 8));
  words.push(enc.jal(0, (loop - words.length) * 4));
  words.push(enc.lui(T0, FINISHER_PASS >>> 12), enc.addi(T0, T0, FINISHER_PASS & 0xfff), enc.sw(T0, S0, 0));
  words.push(enc.jal(0, 0));
  const image = new Uint8Array(words.length * 4);
  const view = new DataView(image.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w, true));
  return image;
}
