/*
 * A window on the exit path for tools that check the hypervisor against the
 * native board (the lockstep check, src/lab/lockstep.ts). The VM calls it on
 * the main thread, synchronously, while the vCPU waits: once when an exit is
 * found posted (registers, pc and the exit record as the vCPU left them) and
 * once just before the vCPU is resumed (pc and registers as the hypervisor
 * answers; a result register may still travel in the mailbox, see
 * runpage.ts EXIT_RESULT_REG). An exit that stops the VM is never "served".
 * Only exits that cross to the main thread are seen, so a checker runs the
 * VM with --exit-handler main.
 */

import type { RunPage } from "./runpage.ts";

export interface ExitObserver {
  exitPosted(hart: number, page: RunPage): void;
  exitServed(page: RunPage): void;
}
