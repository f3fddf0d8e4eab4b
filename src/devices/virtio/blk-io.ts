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
}

const fds = new Map<string, number>();

function fdOf(path: string): number {
  let fd = fds.get(path);
  if (fd === undefined) {
    fd = openSync(path, "r+");
    fds.set(path, fd);
  }
  return fd;
}

/** Serves one request; resolves with the bytes moved. */
export default function blkIo(task: BlkIoTask): number {
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
