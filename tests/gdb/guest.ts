/*
 * The small guest the stub's tests debug, built with the encoder: a loop
 * that counts t0 up to `count` (and t2 by threes), then an ebreak of the
 * guest's own, which its M-mode handler counts in s1 and steps over, then
 * an exit through the finisher with status 7.
 */

import { enc } from "../../src/isa/encode.ts";
import { Program } from "../../src/lab/program.ts";
import { Board } from "../../src/machine/board.ts";
import { DRAM_BASE } from "../../src/machine/memlayout.ts";
import * as R from "../../src/machine/riscv.ts";
import { REG } from "../../src/isa/regnames.ts";

const { t0, t1, t2, t3, t4, t5, s1, a0 } = REG;
const FINISHER = 0x10_0000;
export const EXIT_STATUS = 7;

export interface LoopGuest {
  readonly image: Uint8Array;
  /** Addresses of the loop's first instruction (addi t0), its second (addi t2), its bne, and the guest's ebreak. */
  readonly loop: number;
  readonly loopSecond: number;
  readonly branch: number;
  readonly ebreak: number;
  /** The trap handler (mtvec), and where the jal at the entry leads, past it. */
  readonly handler: number;
  readonly start: number;
}

export function loopGuest(count: number): LoopGuest {
  const p = new Program();
  p.word(0); // jal over the handler, patched below
  const handler = p.here;
  p.word(enc.addi(s1, s1, 1));
  p.word(enc.csrrs(t4, R.CSR_MEPC, 0));
  p.word(enc.addi(t4, t4, 4));
  p.word(enc.csrrw(0, R.CSR_MEPC, t4));
  p.word(enc.mret());
  const start = p.here;
  p.patch(0, enc.jal(0, start));
  p.li(t3, DRAM_BASE + handler);
  p.word(enc.csrrw(0, R.CSR_MTVEC, t3));
  p.li(t1, count);
  const loop = p.here;
  p.word(enc.addi(t0, t0, 1));
  p.word(enc.addi(t2, t2, 3));
  const branch = p.here;
  p.word(enc.bne(t0, t1, loop - p.here));
  const ebreak = p.here;
  p.word(enc.ebreak());
  p.li(t5, FINISHER);
  p.li(a0, (EXIT_STATUS << 16) | 0x3333);
  p.word(enc.sw(a0, t5, 0));
  p.word(enc.jal(0, 0));
  const at = (off: number): number => DRAM_BASE + off;
  return { image: p.image(), loop: at(loop), loopSecond: at(loop + 4), branch: at(branch), ebreak: at(ebreak), handler: at(handler), start: at(start) };
}

/** A booted board running `image` (flat, M-mode at 0x8000_0000); blocks compile after a few visits. */
export function bootedBoard(image: Uint8Array, harts = 1): Board {
  const board = new Board({ harts, memSize: 2 ** 22, clock: "icount", output: () => {}, hotThreshold: 4 });
  board.boot({ kernel: image });
  return board;
}
