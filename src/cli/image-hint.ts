/*
 * A hint for a user who hands `popek run` a text file (a README, a script,
 * the C source) as the image. Anything that is not an ELF runs as a flat
 * binary at the load address, as QEMU's loader does; text decodes as
 * illegal or meaningless instructions, so the guest traps or spins silently
 * until --timeout. One stderr line says so, and the run goes on as QEMU's
 * would (a flat image may be anything).
 */

import { isElf } from "../machine/elf.ts";

/** How much of the file is looked at. */
const LOOK_BYTES = 4096;

/** The line to print when `bytes` (read from `path`) is not an ELF but text; undefined otherwise. */
export function textImageNote(path: string, bytes: Uint8Array): string | undefined {
  if (bytes.length === 0 || isElf(bytes)) return undefined;
  let text: string;
  try {
    // Streaming: a UTF-8 sequence cut by the end of the look is held back, not an error.
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, LOOK_BYTES), { stream: true });
  } catch {
    return undefined; // not UTF-8: machine code, or data
  }
  // Tabs and line ends aside, machine code is full of control bytes; text has none.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return undefined;
  return `popek: ${path} is text, not an ELF: it runs as a flat binary at its load address (as QEMU would), where text is no RISC-V program`;
}
