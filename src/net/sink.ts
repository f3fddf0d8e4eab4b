/*
 * A host endpoint that swallows frames and counts them: the far end of a
 * transmit benchmark.
 */

import type { SwitchPort } from "./port.ts";

export class FrameSink {
  frames = 0;
  bytes = 0;

  constructor(port: SwitchPort) {
    port.onReceive((f) => {
      this.frames++;
      this.bytes += f.length;
    });
  }

  reset(): void {
    this.frames = 0;
    this.bytes = 0;
  }
}
