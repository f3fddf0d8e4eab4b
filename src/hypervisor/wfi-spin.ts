/*
 * A guest spinning through wfi, and how the hypervisor stops it from eating
 * a host core (KVM's pause-loop exiting, for wfi).
 *
 * A wfi ends at once when an interrupt is pending and enabled in mie, even
 * if mstatus.MIE/sstatus.SIE keep it from being taken (priv spec 3.3.3). A
 * guest that waits for a flag in memory with `while (!flag) wfi();` while
 * such an interrupt stays pending therefore spins. Debian's OpenSBI 1.1
 * parks every secondary hart that way: sbi_hsm_hart_wait waits for
 * HSM START_PENDING with MSIP still pending from the cold-boot wake-up
 * (the IPI is cleared only after the wait), for as long as Linux takes to
 * bring the hart up: seconds. On hardware that hart spins on its own core;
 * a vCPU spinning so takes a host core, and with `--exit-handler main` a
 * main-thread round trip per turn, from the vCPUs doing the work (1.46 M
 * wfi exits in one two-vCPU Linux boot on 2 host cores).
 *
 * The detector: the same wfi ending at once again and again, few
 * instructions apart and with nothing else between them — no other exit,
 * no interrupt delivered — SPIN_STREAK times in a row. The last condition
 * tells a spin from an idle loop that is working: a guest kernel whose timer
 * is always due when it idles (a slow guest's clock runs on the host's time)
 * meets its wfi with the interrupt pending every time, but takes it in
 * between, and sleeping there only delays it (a one-vCPU Linux boot took 4×
 * as long before this condition). Then each such wfi sleeps
 * before it completes, a window that starts at FIRST_SLEEP_MS and doubles
 * up to MAX_SLEEP_MS; a wake-up of the vCPU (an interrupt line rising, an
 * IPI, a control request) ends the sleep early. The guest sees only a wfi
 * that took longer — its wake-up latency is not architectural — and a flag
 * written by another hart is seen at most MAX_SLEEP_MS late. Any wfi that
 * really waits, or a different wfi, or a long stretch of work between two,
 * ends the streak and resets the window.
 */

/** Spinning wfis in a row before the first sleep: a guest leaving its loop soon never sleeps. */
const SPIN_STREAK = 32;
/** Two wfis further apart than this many retired instructions are not one spin loop. */
const SPIN_GAP_INSTRUCTIONS = 4096;
/** The first sleep, in ms (about a futex wake-up's granularity). */
const FIRST_SLEEP_MS = 0.05;
/** The longest sleep, in ms: a hart spinning until another hart writes a flag sees it this late at most. */
const MAX_SLEEP_MS = 1;

export class WfiSpinDetector {
  private streak = 0;
  private lastPc = -1;
  private lastInstret = 0;
  private lastEvents = 0;
  private sleepMs = FIRST_SLEEP_MS;

  /**
   * One wfi executed at `pc` (the pc after it) with `instret` retired and
   * `events` exits (this wfi's own included) and delivered interrupts counted
   * so far; `endsAtOnce`: an interrupt is already pending and enabled in mie.
   * Returns how long the vCPU should sleep before the wfi completes, in ms (0: not at all).
   */
  observe(pc: number, instret: number, events: number, endsAtOnce: boolean): number {
    const sameLoop = endsAtOnce && pc === this.lastPc && instret - this.lastInstret <= SPIN_GAP_INSTRUCTIONS && events - this.lastEvents <= 1;
    this.lastPc = endsAtOnce ? pc : -1;
    this.lastInstret = instret;
    this.lastEvents = events;
    if (!sameLoop) {
      this.streak = 0;
      this.sleepMs = FIRST_SLEEP_MS;
      return 0;
    }
    if (++this.streak < SPIN_STREAK) return 0;
    const ms = this.sleepMs;
    this.sleepMs = Math.min(MAX_SLEEP_MS, ms * 2);
    return ms;
  }
}
