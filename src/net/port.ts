/*
 * The seam between a NIC back-end and the virtual network: one port of a
 * switch. A NIC model (NE2000, virtio-net, ...) sends the frames its guest
 * transmits and is handed the frames addressed to it. Frames are whole
 * Ethernet frames without preamble or FCS (destination MAC first).
 *
 * A frame handed to a receive handler may be a view into shared ring memory:
 * it is valid only during the call, so a handler that keeps it copies it.
 */

export interface SwitchPort {
  /** Queues one frame for the network; a frame the network cannot take is dropped and counted there. */
  send(frame: Uint8Array): void;
  /** Sets the one function frames for this port are delivered to (a later call replaces it). */
  onReceive(handler: (frame: Uint8Array) => void): void;
}
