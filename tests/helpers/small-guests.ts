/*
 * Small guests built in the test itself (src/lab/program.ts): each does one
 * thing — print a lot, end one way — so a test names what it checks.
 * Flat images load at 0x8000_0000 in M-mode; S-mode kernels are ELFs linked
 * at 0x8020_0000 (they run behind firmware: OpenSBI natively, --bios hv
 * under the hypervisor).
 */

import { enc } from "../../src/isa/encode.ts";
import { Program } from "../../src/lab/program.ts";
import { buildElf } from "./elf-builder.ts";

const T0 = 5, T1 = 6, T2 = 7, A0 = 10, A1 = 11, A6 = 16, A7 = 17;
const UART = 0x1000_0000;
const FINISHER = 0x10_0000;

/** Prints `text` through the UART (a store per byte, the transmitter is always ready). */
function print(p: Program, text: string): void {
  p.li(T0, UART);
  for (const ch of new TextEncoder().encode(text)) p.li(A0, ch).word(enc.sb(A0, T0, 0));
}

/** Ends through the sifive_test finisher with `value` (0x5555 pass, code << 16 | 0x3333 fail, 0x7777 reset). */
function finish(p: Program, value: number): void {
  p.li(T1, FINISHER).li(A0, value).word(enc.sw(A0, T1, 0));
  p.word(enc.jal(0, 0)); // the store ends the run; never reached
}

/** Prints `line` `count` times (count 0: forever), then passes through the finisher. */
export function chattyGuest(line: string, count: number): Uint8Array {
  const p = new Program();
  p.li(T2, count);
  const loop = p.here;
  print(p, line);
  if (count > 0) {
    p.word(enc.addi(T2, T2, -1));
    p.word(enc.bne(T2, 0, loop - p.here));
  } else {
    p.word(enc.jal(0, loop - p.here));
  }
  finish(p, 0x5555);
  return p.image();
}

/** Prints "boot\n", then writes `value` to the finisher. */
export function finisherGuest(value: number): Uint8Array {
  const p = new Program();
  print(p, "boot\n");
  finish(p, value);
  return p.image();
}

const SBI_EID_SRST = 0x53525354;
const SBI_EID_LEGACY_PUTCHAR = 0x01;

/**
 * An S-mode kernel at 0x8020_0000: prints "boot\n" through SBI's legacy
 * putchar, then calls SRST system_reset(type, reason=0) (SBI spec 10.1):
 * type 0 shuts down, 1 reboots (cold).
 */
export function srstKernel(type: number): Uint8Array {
  const p = new Program();
  for (const ch of new TextEncoder().encode("boot\n")) p.li(A7, SBI_EID_LEGACY_PUTCHAR).li(A0, ch).word(enc.ecall());
  p.li(A7, SBI_EID_SRST).li(A6, 0).li(A0, type).li(A1, 0).word(enc.ecall());
  p.word(enc.jal(0, 0));
  const base = 0x8020_0000n;
  return buildElf({ entry: base, segments: [{ paddr: base, data: p.image(), flags: 7 }] });
}
