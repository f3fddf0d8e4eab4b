/*
 * Waiting on what a guest does, not on the clock. A test that must act
 * while a guest runs (pause it, kill a vCPU, read its memory) waits until
 * the guest has visibly reached that point — a pc, a counter, a line of
 * output — instead of sleeping a guessed number of milliseconds, which is
 * too short on a loaded machine and wasted time on an idle one.
 */

/** How long a condition may take before the test gives up: a hang-catcher, sized for a busy two-core host. */
const UNTIL_LIMIT_MS = 60_000;
/** How often the condition is looked at; the vCPU threads publish pc and counters after every slice. */
const POLL_MS = 5;

/**
 * Resolves once `condition()` is true; rejects with `waiting for WHAT`
 * after `limitMs`. The condition is read on the main thread's event loop,
 * so VM exits keep being served while the test waits.
 */
export async function until(what: string, condition: () => boolean, limitMs = UNTIL_LIMIT_MS): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`until: gave up after ${limitMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
