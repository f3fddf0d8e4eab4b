/*
 * An I/O worker's side of a disk image: one open file descriptor per image
 * path for the thread's life, and the copy of one piece between the image
 * and machine memory (blk-io.ts and blk-vhost-worker.ts both move bytes
 * with it).
 */

import { openSync, readSync, writeSync } from "node:fs";

const fds = new Map<string, number>();

/** The thread's descriptor for the image at `path`, opened on first use. */
export function fdOf(path: string): number {
  let fd = fds.get(path);
  if (fd === undefined) {
    fd = openSync(path, "r+");
    fds.set(path, fd);
  }
  return fd;
}

/** One piece between the image at `pos` and machine memory; the image position after it. */
export function copyPiece(fd: number, read: boolean, mem: Uint8Array, off: number, len: number, pos: number): number {
  for (let done = 0; done < len; ) {
    const n = read ? readSync(fd, mem, off + done, len - done, pos) : writeSync(fd, mem, off + done, len - done, pos);
    if (n === 0) {
      // Past the image's end (it shrank under us): what a read finds there is zeros.
      if (read) mem.fill(0, off + done, off + len);
      else throw new Error(`blk-io: write at ${pos} made no progress`);
      return pos + len - done;
    }
    done += n;
    pos += n;
  }
  return pos;
}
