/*
 * A NIC back-end's attachment to the virtual network: one port of the
 * switch (or of a host endpoint). The NIC sends the frames its guest
 * transmits, and is handed each frame addressed to it.
 */

export interface SwitchPort {
  send(frame: Uint8Array): void;
  onReceive(handler: (frame: Uint8Array) => void): void;
}
