/*
 * Boots images on the native board in-process and collects what they print:
 * the end-to-end tests' way to run a guest without spawning the CLI.
 */

import { Board, type BootImages } from "../../src/machine/board.ts";
import type { ClockKind } from "../../src/machine/clock.ts";
import { readImageFile } from "../../src/machine/image.ts";
import type { MmuMode } from "../../src/machine/swtlb.ts";
import type { IsaVariant } from "../../src/machine/isa-variant.ts";
import { runBoard, type RunResult } from "../../src/machine/runner.ts";

export interface BootOutcome extends RunResult {
  readonly output: string;
  readonly board: Board;
}

export interface BootOptions {
  readonly harts?: number;
  readonly memSize?: number;
  readonly clock?: ClockKind;
  readonly timeoutSeconds?: number;
  readonly input?: string;
  readonly mmu?: MmuMode;
  readonly isaVariant?: IsaVariant;
  /** The harts implement the H extension (BoardConfig.h). */
  readonly h?: boolean;
}

export async function bootImages(images: BootImages, opts: BootOptions = {}): Promise<BootOutcome> {
  let output = "";
  const board = new Board({
    harts: opts.harts ?? 1,
    memSize: opts.memSize ?? 128 * 2 ** 20,
    clock: opts.clock ?? "real",
    output: (b) => (output += String.fromCharCode(b)),
    mmu: opts.mmu,
    isaVariant: opts.isaVariant,
    h: opts.h,
  });
  board.boot(images);
  if (opts.input !== undefined) board.uart.receive(new TextEncoder().encode(opts.input));
  const r = await runBoard(board, { timeoutSeconds: opts.timeoutSeconds ?? 30 });
  return { ...r, output, board };
}

/** Boots one image the way `popek run IMAGE` does. */
export function bootFile(path: string, opts: BootOptions = {}): Promise<BootOutcome> {
  return bootImages({ kernel: readImageFile(path, "kernel") }, opts);
}
