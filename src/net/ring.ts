/*
 * A bounded single-producer single-consumer ring of Ethernet frames in a
 * SharedArrayBuffer: how frames move between a switch port and its NIC
 * without postMessage, so either side may later live in a worker thread.
 *
 * Layout (one SharedArrayBuffer, all little-endian int32):
 *
 *   header  [HEAD] frames written so far   (producer owns; Atomics.store)
 *           [TAIL] frames consumed so far  (consumer owns; Atomics.store)
 *           [DROPS_FULL] frames refused because the ring was full   (producer)
 *           [DROPS_SIZE] frames refused as empty or above MAX_FRAME (producer)
 *   slots   SLOTS x SLOT_BYTES: [length u32][frame bytes ...]
 *
 * HEAD and TAIL only grow (mod 2^32); HEAD - TAIL is the number of frames
 * waiting, never above the slot count. A producer writes the slot, then
 * publishes it by storing HEAD; a consumer reads it, then frees it by
 * storing TAIL — the Atomics stores order the plain byte copies around them.
 *
 * A producer that moves frames in bulk (the assigned NIC's DMA engine)
 * fills slots in place instead of handing push() a frame: reserve() how many
 * slots are free (two loads), copy each frame straight into `bytes` at
 * dataAt(k) and setLength(k, len), then commit(n) publishes all n with one
 * store of HEAD. One copy per frame, no view allocated, one atomic per batch.
 */

/** Largest frame a ring carries: 1514 bytes of Ethernet plus a VLAN tag (no FCS). */
export const MAX_FRAME = 1518;
/** Bytes per slot: the length word and the largest frame, rounded up to keep slots 8-byte aligned. */
const SLOT_BYTES = 4 + 1520;
const HEAD = 0;
const TAIL = 1;
const DROPS_FULL = 2;
const DROPS_SIZE = 3;
const HEADER_WORDS = 4;
const HEADER_BYTES = HEADER_WORDS * 4;
/** Slots in a ring when none is asked for: 256 frames, about 390 KiB. */
export const DEFAULT_RING_SLOTS = 256;
const MAX_RING_SLOTS = 65536;

export class FrameRing {
  readonly slots: number;
  /** The whole ring's bytes: a bulk producer copies frames into it at dataAt(k). */
  readonly bytes: Uint8Array;
  private readonly words: Int32Array;
  private readonly view: DataView;
  /** HEAD as the bulk producer's last reserve() read it (it owns HEAD, so it cannot move under it). */
  private reserved = 0;

  /** A ring over `buffer` (made by FrameRing.bufferFor, possibly on another thread). */
  constructor(readonly buffer: SharedArrayBuffer) {
    const slots = (buffer.byteLength - HEADER_BYTES) / SLOT_BYTES;
    if (!Number.isInteger(slots) || slots < 1) throw new Error(`ring: a ${buffer.byteLength}-byte buffer is not a frame ring`);
    this.slots = slots;
    this.words = new Int32Array(buffer, 0, HEADER_WORDS);
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
  }

  /** Shared memory for a ring of `slots` frames. */
  static bufferFor(slots = DEFAULT_RING_SLOTS): SharedArrayBuffer {
    if (!Number.isInteger(slots) || slots < 1 || slots > MAX_RING_SLOTS) throw new RangeError(`ring: ${slots} slots (1..${MAX_RING_SLOTS})`);
    return new SharedArrayBuffer(HEADER_BYTES + slots * SLOT_BYTES);
  }

  static create(slots = DEFAULT_RING_SLOTS): FrameRing {
    return new FrameRing(FrameRing.bufferFor(slots));
  }

  /** Frames waiting to be consumed. */
  get length(): number {
    return (Atomics.load(this.words, HEAD) - Atomics.load(this.words, TAIL)) | 0;
  }

  get dropsFull(): number {
    return Atomics.load(this.words, DROPS_FULL) >>> 0;
  }

  get dropsSize(): number {
    return Atomics.load(this.words, DROPS_SIZE) >>> 0;
  }

  /** Producer: copies the frame into the next slot; false (and a drop counted) when full, empty or too large. */
  push(frame: Uint8Array): boolean {
    if (frame.length === 0 || frame.length > MAX_FRAME) {
      Atomics.add(this.words, DROPS_SIZE, 1);
      return false;
    }
    const head = Atomics.load(this.words, HEAD);
    if (((head - Atomics.load(this.words, TAIL)) | 0) >= this.slots) {
      Atomics.add(this.words, DROPS_FULL, 1);
      return false;
    }
    const at = HEADER_BYTES + ((head >>> 0) % this.slots) * SLOT_BYTES;
    this.view.setUint32(at, frame.length, true);
    this.bytes.set(frame, at + 4);
    Atomics.store(this.words, HEAD, (head + 1) | 0);
    return true;
  }

  /**
   * Producer, in bulk: how many of the next `max` frames have a free slot
   * now (0 when the ring is full). Fill slots 0..n-1 (dataAt, setLength),
   * then commit(n) with n at most what this returned.
   */
  reserve(max: number): number {
    const head = Atomics.load(this.words, HEAD);
    this.reserved = head;
    const free = this.slots - ((head - Atomics.load(this.words, TAIL)) | 0);
    return free < max ? free : max;
  }

  /** Byte offset in `bytes` of the k-th reserved slot's frame data (MAX_FRAME bytes of room). */
  dataAt(k: number): number {
    return HEADER_BYTES + (((this.reserved + k) >>> 0) % this.slots) * SLOT_BYTES + 4;
  }

  /** The length of the frame copied into the k-th reserved slot (1..MAX_FRAME: the caller checked it). */
  setLength(k: number, len: number): void {
    this.view.setUint32(this.dataAt(k) - 4, len, true);
  }

  /** Publishes the first n reserved slots at once: the consumer sees them after this store. Reserve again before filling more. */
  commit(n: number): void {
    if (n <= 0) return;
    this.reserved = (this.reserved + n) | 0;
    Atomics.store(this.words, HEAD, this.reserved);
  }

  /**
   * Consumer: hands up to `max` waiting frames to `handler`, oldest first,
   * each as a view into the slot (valid only during the call), and frees
   * each slot after its call. Returns how many were handed over.
   */
  drain(handler: (frame: Uint8Array) => void, max = this.slots): number {
    let tail = Atomics.load(this.words, TAIL);
    let n = 0;
    while (n < max && ((Atomics.load(this.words, HEAD) - tail) | 0) > 0) {
      const at = HEADER_BYTES + ((tail >>> 0) % this.slots) * SLOT_BYTES;
      const len = this.view.getUint32(at, true);
      // A length the producer never writes means the memory was tampered with: hand over nothing past the slot.
      if (len >= 1 && len <= MAX_FRAME) handler(this.bytes.subarray(at + 4, at + 4 + len));
      tail = (tail + 1) | 0;
      Atomics.store(this.words, TAIL, tail);
      n++;
    }
    return n;
  }
}
