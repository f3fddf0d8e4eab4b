/*
 * A switch port for tests: keeps what the NIC sends, and delivers frames to
 * it on demand (or straight back, as a loopback cable).
 */

import type { SwitchPort } from "../../../src/net/port.ts";

export class TestPort implements SwitchPort {
  readonly sent: Uint8Array[] = [];
  private handler: ((frame: Uint8Array) => void) | undefined;

  constructor(private readonly loopback = false) {}

  send(frame: Uint8Array): void {
    this.sent.push(frame.slice());
    if (this.loopback) this.deliver(frame.slice());
  }

  onReceive(handler: (frame: Uint8Array) => void): void {
    this.handler = handler;
  }

  /** A frame from the network to the NIC. */
  deliver(frame: Uint8Array): void {
    this.handler?.(frame);
  }
}
