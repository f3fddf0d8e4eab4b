/*
 * A host endpoint that swallows frames and counts them: the far end of a
 * transmit benchmark. It also notes when the first and the last frame came
 * (performance.now(), ms), so a rate can cover the traffic itself rather
 * than the boot before it or the idle after it.
 */

import type { SwitchPort } from "./port.ts";

export class FrameSink {
  frames = 0;
  bytes = 0;
  /** When the first frame came, ms (performance.now()); 0 before it. */
  firstAt = 0;
  /** When the last frame came, ms. */
  lastAt = 0;
  /** Bytes of the first frame (a rate over firstAt..lastAt counts the bytes after it). */
  firstBytes = 0;

  constructor(port: SwitchPort) {
    port.onReceive((f) => {
      const now = performance.now();
      if (this.frames === 0) {
        this.firstAt = now;
        this.firstBytes = f.length;
      }
      this.lastAt = now;
      this.frames++;
      this.bytes += f.length;
    });
  }

  reset(): void {
    this.frames = 0;
    this.bytes = 0;
    this.firstAt = 0;
    this.lastAt = 0;
    this.firstBytes = 0;
  }
}
