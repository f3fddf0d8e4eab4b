/*
 * A switch port whose NIC lives in another thread (a directly assigned
 * NIC's worker). The frames still move through the port's two FrameRings in
 * shared memory; what a same-thread port does by a direct call — the switch
 * runs when the NIC sends, the NIC's handler runs when the switch delivers —
 * becomes a doorbell in shared memory, rung with Atomics.notify:
 *
 *   bell (Int32Array, one SharedArrayBuffer, each word on a cache line of its own)
 *     [TO_SWITCH] bumped by the NIC after it pushed frames    (the switch's thread waits on it)
 *     [TO_NIC]    bumped by the switch after it queued frames (the NIC's thread waits on it),
 *                 or after it drained frames while NEED_ROOM was set
 *     [NEED_ROOM] set by the NIC when the switch's ring was full: the switch
 *                 clears it and rings TO_NIC once it has taken frames, so a
 *                 NIC held by a full ring sleeps until there is room rather
 *                 than polling for it
 *
 * Both sides bump once per batch, not per frame. The switch's side waits
 * with Atomics.waitAsync (its thread is the main thread, which must never
 * block); the NIC's side may block in Atomics.wait. A waiter reads the word
 * before it looks at the ring and sleeps only while the word still holds
 * that value, so a ring written after the look always wakes it.
 */

import { FrameRing } from "./ring.ts";

const WORD_STRIDE = 16; // int32s per bell word: 64 bytes, so the two sides never share a line
const TO_SWITCH = 0;
const TO_NIC = WORD_STRIDE;
const NEED_ROOM = 2 * WORD_STRIDE;
const BELL_BYTES = 3 * WORD_STRIDE * 4;

/** What the NIC's thread needs to build its end: plain data and shared buffers (it crosses postMessage). */
export interface RemotePortHandle {
  readonly name: string;
  readonly toSwitch: SharedArrayBuffer;
  readonly toNic: SharedArrayBuffer;
  readonly bell: SharedArrayBuffer;
}

/** The switch's end of a cross-thread port: it listens for the NIC's bell and rings the NIC's. */
export class RemotePort {
  readonly toSwitch: FrameRing;
  readonly toNic: FrameRing;
  readonly handle: RemotePortHandle;
  private readonly bell: Int32Array;
  private listening = false;
  private closed = false;

  constructor(
    readonly name: string,
    /** Runs the switch (it drains toSwitch). */
    private readonly kick: () => void,
    slots: number,
    /** Unplugs the port from its switch. */
    private readonly unplug: () => void = () => {},
  ) {
    this.toSwitch = FrameRing.create(slots);
    this.toNic = FrameRing.create(slots);
    const bell = new SharedArrayBuffer(BELL_BYTES);
    this.bell = new Int32Array(bell);
    this.handle = { name, toSwitch: this.toSwitch.buffer, toNic: this.toNic.buffer, bell };
  }

  /** The switch queued frames for the NIC: ring its bell (once per pump). */
  deliver(): void {
    if (this.toNic.length === 0) return;
    Atomics.add(this.bell, TO_NIC, 1);
    Atomics.notify(this.bell, TO_NIC);
  }

  /** Starts serving the NIC's bell on this thread's event loop: every ring runs the switch. */
  listen(): void {
    if (this.listening || this.closed) return;
    this.listening = true;
    this.serve();
  }

  private serve(): void {
    if (this.closed) return;
    const seen = Atomics.load(this.bell, TO_SWITCH);
    if (this.toSwitch.length > 0) this.kick();
    // The NIC waits for room: it has some now (the switch took frames, or an endpoint's pump did).
    if (Atomics.load(this.bell, NEED_ROOM) !== 0 && this.toSwitch.length < this.toSwitch.slots) {
      Atomics.store(this.bell, NEED_ROOM, 0);
      Atomics.add(this.bell, TO_NIC, 1);
      Atomics.notify(this.bell, TO_NIC);
    }
    const wait = Atomics.waitAsync(this.bell, TO_SWITCH, seen);
    // Rung between the load and the wait: serve again, but from the event loop, so a NIC that rings
    // without pause cannot starve everything else on this thread.
    if (!wait.async) setImmediate(() => this.serve());
    else void wait.value.then(() => this.serve());
  }

  /** The NIC is gone: unplugs the port and stops listening (a pending wait is woken so nothing keeps waiting on the bell). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unplug();
    Atomics.add(this.bell, TO_SWITCH, 1);
    Atomics.notify(this.bell, TO_SWITCH);
  }
}

/** The NIC's end of a cross-thread port, on the NIC's own thread. */
export class WorkerPort {
  readonly toSwitch: FrameRing;
  readonly toNic: FrameRing;
  private readonly bell: Int32Array;

  constructor(handle: RemotePortHandle) {
    this.toSwitch = new FrameRing(handle.toSwitch);
    this.toNic = new FrameRing(handle.toNic);
    this.bell = new Int32Array(handle.bell);
    if (this.bell.length * 4 !== BELL_BYTES) throw new RangeError(`port ${handle.name}: a ${handle.bell.byteLength}-byte bell is not a port bell`);
  }

  /** Queues a frame for the switch; false when its ring is full (the NIC keeps it and tries again) or the frame is not one. */
  trySend(frame: Uint8Array): boolean {
    return this.toSwitch.push(frame);
  }

  /** Whether the switch's ring has room for one more frame. */
  get canSend(): boolean {
    return this.toSwitch.length < this.toSwitch.slots;
  }

  /**
   * The switch's ring was full: asks to be rung (TO_NIC) once the switch has
   * taken frames. Look at the ring again after this and before sleeping: a
   * switch that drained it just before the flag was set will not ring.
   */
  wantRoom(): void {
    Atomics.store(this.bell, NEED_ROOM, 1);
  }

  /** Tells the switch frames are waiting (once per batch). */
  ring(): void {
    Atomics.add(this.bell, TO_SWITCH, 1);
    Atomics.notify(this.bell, TO_SWITCH);
  }

  /** The bell's value now: pass it to sleep() after looking at the rings. */
  get seq(): number {
    return Atomics.load(this.bell, TO_NIC);
  }

  /** Blocks this thread until the switch rings after `seq` was read, or `ms` pass. */
  sleep(seq: number, ms: number): void {
    Atomics.wait(this.bell, TO_NIC, seq, ms);
  }
}
