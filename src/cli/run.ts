/*
 * `popek run`: boot an image on the native board (--virt none), QEMU style.
 */

import { ConfigError } from "../errors.ts";
import { Board, MAX_HARTS, type BootImages } from "../machine/board.ts";
import type { ClockKind } from "../machine/clock.ts";
import { readImageFile } from "../machine/image.ts";
import { runBoard, type RunResult } from "../machine/runner.ts";
import { attachConsole, stdoutSink } from "./console.ts";
import { parseChoice, parseCount, parseMemSize, parseSeconds } from "./options.ts";

export interface RunFlags {
  virt: string;
  harts?: string;
  mem: string;
  bios: string;
  kernel?: string;
  append?: string;
  initrd?: string;
  timeout?: string;
  clock: string;
}

export const VIRT_MODES = ["none"] as const;

/** Turns the command line into boot images and a board configuration. */
export function bootImagesFrom(image: string | undefined, flags: RunFlags): BootImages {
  if (image !== undefined && flags.kernel !== undefined) {
    throw new ConfigError("give the image either as IMAGE or as --kernel, not both");
  }
  const kernelPath = image ?? flags.kernel;
  const firmware = flags.bios === "none" ? undefined : readImageFile(flags.bios, "bios");
  if (kernelPath === undefined && firmware === undefined) {
    throw new ConfigError("nothing to run: give an IMAGE (or --kernel PATH, or --bios PATH)");
  }
  return {
    firmware,
    kernel: kernelPath === undefined ? undefined : readImageFile(kernelPath, "kernel"),
    initrd: flags.initrd === undefined ? undefined : readImageFile(flags.initrd, "initrd"),
    append: flags.append,
  };
}

export async function runCommand(image: string | undefined, flags: RunFlags): Promise<number> {
  parseChoice("--virt", flags.virt, VIRT_MODES);
  const harts = flags.harts === undefined ? 1 : parseCount("--harts", flags.harts, 1, MAX_HARTS);
  const memSize = parseMemSize(flags.mem);
  const clock = parseChoice<ClockKind>("--clock", flags.clock, ["real", "icount"]);
  const timeoutSeconds = flags.timeout === undefined ? undefined : parseSeconds("--timeout", flags.timeout);
  const images = bootImagesFrom(image, flags);

  const out = stdoutSink();
  const board = new Board({ harts, memSize, clock, output: out.write });
  board.boot(images);
  const console = attachConsole((bytes) => board.uart.receive(bytes));
  const flusher = setInterval(out.flush, 30);
  let result: RunResult;
  try {
    result = await runBoard(board, { timeoutSeconds, interrupted: console.quit });
  } finally {
    clearInterval(flusher);
    out.flush();
    console.close();
  }
  if (result.outcome === "timeout") process.stderr.write(`\npopek: timeout after ${timeoutSeconds} s\n`);
  return result.exitCode;
}
