/*
 * HTIF (Spike's host-target interface), as riscv-tests programs use it: the
 * program writes a 64-bit command into its `tohost` word and the host, which
 * knows the symbol from the ELF, polls the word, acts and clears it.
 *
 *   tohost bits  63:56 device  55:48 command  47:0 payload
 *   device 0 (syscall proxy), payload odd   end of the test: exit code = payload >> 1
 *   device 1 (console), command 1           print the payload's low byte; the
 *                                           host acknowledges in fromhost
 *   anything else                           ignored (cleared)
 *
 * One implementation for both worlds: the native board polls it between
 * slices over its physical memory, the hypervisor polls it on the main
 * thread over a VM's guest-physical memory (see src/hypervisor/vm-htif.ts).
 * Either way it sees guest memory only through a GuestMemoryView, narrowed
 * to the two word accesses HTIF makes (HtifMemory).
 */

import { FAULT_OUTSIDE, FAULT_UNBACKED, type GuestMemoryView } from "./guest-memory-view.ts";

/** 32-bit little-endian words of guest memory at guest-physical addresses. */
export interface HtifMemory {
  /** The word at gpa (4-aligned), or undefined where there is no RAM (or none backed yet: it reads zero). */
  readWord(gpa: number): number | undefined;
  writeWord(gpa: number, value: number): void;
}

/**
 * HTIF's words over a machine's guest-memory view. Polling must not back a
 * page the program has never touched (it reads zero, as the program would
 * see it); a write is only ever made to a word the program uses.
 */
export function htifMemoryOf(view: GuestMemoryView): HtifMemory {
  return {
    readWord: (gpa) => {
      const off = view.translate(gpa, 4);
      if (off === FAULT_OUTSIDE) return undefined;
      return off === FAULT_UNBACKED ? 0 : view.readU32(gpa) | 0;
    },
    writeWord: (gpa, value) => void view.writeU32(gpa, value >>> 0),
  };
}

/** The addresses of a program's HTIF words, from its ELF symbols; undefined without a `tohost`. */
export interface HtifSymbols {
  readonly tohost: number;
  readonly fromhost: number | undefined;
}

export function htifSymbols(symbols: ReadonlyMap<string, number>): HtifSymbols | undefined {
  const tohost = symbols.get("tohost");
  // riscv-test-env aligns both words to 8 bytes; a misaligned symbol is not an HTIF word.
  if (tohost === undefined || tohost % 8 !== 0) return undefined;
  const fromhost = symbols.get("fromhost");
  return { tohost, fromhost: fromhost !== undefined && fromhost % 8 === 0 ? fromhost : undefined };
}

const DEVICE_SYSCALL = 0;
const DEVICE_CONSOLE = 1;
const CONSOLE_PUTCHAR = 1;
const EXIT_CODES = 256;

/**
 * Looks at tohost once: returns the test's exit code if the program asked
 * to end, else undefined (a console byte goes to `output`).
 */
export function pollHtif(mem: HtifMemory, at: HtifSymbols, output: (byte: number) => void): number | undefined {
  const lo = mem.readWord(at.tohost);
  const hi = mem.readWord(at.tohost + 4);
  if (lo === undefined || hi === undefined || (lo === 0 && hi === 0)) return undefined;
  const device = hi >>> 24;
  const command = (hi >>> 16) & 0xff;
  let exitCode: number | undefined;
  if (device === DEVICE_SYSCALL && (lo & 1) === 1) {
    // payload >> 1, of which a process exit status keeps the low 8 bits (as Spike's does).
    exitCode = (lo >>> 1) % EXIT_CODES;
  } else if (device === DEVICE_CONSOLE && command === CONSOLE_PUTCHAR) {
    output(lo & 0xff);
    if (at.fromhost !== undefined) {
      mem.writeWord(at.fromhost, 1);
      mem.writeWord(at.fromhost + 4, (DEVICE_CONSOLE << 24) | (CONSOLE_PUTCHAR << 16));
    }
  }
  mem.writeWord(at.tohost, 0);
  mem.writeWord(at.tohost + 4, 0);
  return exitCode;
}
