/*
 * A block back-end's I/O worker (one of a piscina pool, as QEMU's thread
 * pool serves AIO): blocking file reads and writes that copy straight
 * between the disk image and guest memory. Machine memory is a shared
 * WebAssembly.Memory, so the worker reads and writes the guest's pages in
 * place; the main thread has already translated and bounds-checked every
 * piece, and gives machine offsets only.
 *
 * Runs in a worker thread (workers/blk-io-boot.js loads it): no state but
 * open file descriptors, one per image path.
 */

import { fsyncSync, openSync, readSync, writeSync } from "node:fs";

export interface BlkIoTask {
  readonly op: "read" | "write" | "flush";
  readonly path: string;
  readonly machine: SharedArrayBuffer;
  /** Byte offset in the image. */
  readonly offset: number;
  /** [machine offset, length] pairs, in order: the request's data buffers. */
  readonly pieces: readonly number[];
  /**
   * Where to say "done" without a message (absent: the result message
   * only): Int32 word `slot` of `done` becomes DONE_OK or DONE_ERROR as the
   * I/O ends, and word 0 of `doorbell` is bumped and notified, so the main
   * thread's service loop finishes the request on its next round or wakes
   * for it, instead of waiting for its event loop to take the message.
   */
  readonly done?: SharedArrayBuffer;
  readonly slot?: number;
  readonly doorbell?: SharedArrayBuffer;
}

/** Values of a completion word (BlkIoTask.done): 0 while the request is in flight. */
export const DONE_PENDING = 0;
export const DONE_OK = 1;
export const DONE_ERROR = 2;

const fds = new Map<string, number>();

function fdOf(path: string): number {
  let fd = fds.get(path);
  if (fd === undefined) {
    fd = openSync(path, "r+");
    fds.set(path, fd);
  }
  return fd;
}

/** Serves one request; resolves with the bytes moved, and flags its completion word when it has one. */
export default function blkIo(task: BlkIoTask): number {
  let moved: number;
  try {
    moved = serve(task);
  } catch (e) {
    signal(task, DONE_ERROR);
    throw e;
  }
  signal(task, DONE_OK);
  return moved;
}

function signal(task: BlkIoTask, value: number): void {
  if (task.done === undefined || task.slot === undefined) return;
  Atomics.store(new Int32Array(task.done), task.slot, value);
  if (task.doorbell === undefined) return;
  const bell = new Int32Array(task.doorbell);
  Atomics.add(bell, 0, 1);
  Atomics.notify(bell, 0);
}

function serve(task: BlkIoTask): number {
  const fd = fdOf(task.path);
  if (task.op === "flush") {
    fsyncSync(fd);
    return 0;
  }
  const mem = new Uint8Array(task.machine);
  let pos = task.offset;
  for (let i = 0; i < task.pieces.length; i += 2) {
    const off = task.pieces[i];
    const len = task.pieces[i + 1];
    for (let done = 0; done < len; ) {
      const n = task.op === "read" ? readSync(fd, mem, off + done, len - done, pos) : writeSync(fd, mem, off + done, len - done, pos);
      if (n === 0) {
        // Past the image's end (it shrank under us): what a read finds there is zeros.
        if (task.op === "read") mem.fill(0, off + done, off + len);
        else throw new Error(`blk-io: write at ${pos} made no progress`);
        pos += len - done;
        break;
      }
      done += n;
      pos += n;
    }
  }
  return pos - task.offset;
}
