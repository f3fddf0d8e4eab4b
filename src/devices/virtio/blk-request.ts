/*
 * What a virtio-blk request asks for (virtio 1.2 §5.2.6), read from its
 * descriptor chain and checked before any byte moves: a 16-byte header
 * (type, reserved, sector), data buffers, and one status byte the device
 * writes last. One reader for every thread that takes requests: the main
 * thread (blk.ts) and a vhost worker that pops the ring itself
 * (blk-vhost-worker.ts), so both judge a chain by the same rules.
 *
 * A chain without a header or a status byte breaks the layout (VirtqError:
 * the device stops); a read or write of part-sectors or past the disk's end
 * is merely wrong (IOERR); an unknown type is UNSUPP.
 */

import { gatherOut, forEachPiece } from "./chain-io.ts";
import { VirtqError } from "./errors.ts";
import type { DescChain } from "./queue.ts";
import type { GuestMemoryView } from "../../machine/guest-memory-view.ts";

export const SECTOR_SIZE = 512;
export const HEADER_SIZE = 16;

/** Request types (§5.2.6). */
const T_IN = 0;
const T_OUT = 1;
const T_FLUSH = 4;
const T_GET_ID = 8;

/** What the request is, once read: I/O on the image, GET_ID, or a status alone. */
export const REQ_READ = 0;
const REQ_WRITE = 1;
export const REQ_FLUSH = 2;
export const REQ_GET_ID = 3;
/** Answered with a status byte and nothing else (REQ_IOERR: out of range; REQ_UNSUPP: unknown type). */
export const REQ_IOERR = 4;
export const REQ_UNSUPP = 5;
export type BlkRequestKind = typeof REQ_READ | typeof REQ_WRITE | typeof REQ_FLUSH | typeof REQ_GET_ID | typeof REQ_IOERR | typeof REQ_UNSUPP;

/** Reads one request at a time; its fields describe the last one read (no allocation per request). */
export class BlkRequestReader {
  kind: BlkRequestKind = REQ_UNSUPP;
  /** Byte offset in the image (READ, WRITE). */
  offset = 0;
  /** Data bytes: what READ fills, WRITE takes; GET_ID's room. */
  length = 0;
  /** Guest-physical address of the status byte (the chain's last writable byte). */
  statusAt = 0;
  private readonly header = new Uint8Array(HEADER_SIZE);
  private readonly view = new DataView(this.header.buffer);

  constructor(private readonly capacityBytes: number) {}

  /** Reads and checks the request in `chain`; throws a VirtqError when the chain cannot be a virtio-blk request. */
  read(mem: GuestMemoryView, chain: DescChain): void {
    if (chain.readableBytes < HEADER_SIZE || chain.writableBytes < 1) throw new VirtqError("request-malformed", "virtio-blk: no header or no status byte");
    gatherOut(mem, chain, 0, this.header);
    const type = this.view.getUint32(0, true);
    const sector = this.view.getUint32(12, true) * 2 ** 32 + this.view.getUint32(8, true);
    this.statusAt = statusAddress(chain);
    const dataIn = chain.writableBytes - 1;
    const dataOut = chain.readableBytes - HEADER_SIZE;
    this.offset = 0;
    this.length = 0;
    if (type === T_GET_ID) {
      this.kind = REQ_GET_ID;
      this.length = dataIn;
      return;
    }
    if (type === T_FLUSH) {
      this.kind = REQ_FLUSH;
      return;
    }
    if (type !== T_IN && type !== T_OUT) {
      this.kind = REQ_UNSUPP;
      return;
    }
    const length = type === T_IN ? dataIn : dataOut;
    const offset = sector * SECTOR_SIZE;
    if (length % SECTOR_SIZE !== 0 || offset + length > this.capacityBytes) {
      this.kind = REQ_IOERR;
      return;
    }
    this.kind = type === T_IN ? REQ_READ : REQ_WRITE;
    this.offset = offset;
    this.length = length;
  }
}

/** The request's last writable byte: where its status goes. */
function statusAddress(chain: DescChain): number {
  let at = 0;
  forEachPiece(chain, true, chain.writableBytes - 1, 1, (gpa) => {
    at = gpa;
    return true;
  });
  return at;
}
