/*
 * The numbers virtio-blk's threads exchange about a request: the status
 * byte the driver reads, and the completion word a worker sets for the
 * main thread.
 */

/** virtio-blk status values (virtio 1.2 §5.2.6). */
export const S_OK = 0;
export const S_IOERR = 1;
export const S_UNSUPP = 2;

/**
 * Values of a completion word (BlkIoTask.done): 0 while the request is in
 * flight; OK or ERROR when the main thread is to return it to the driver;
 * PUSHED_* when its worker already has (blk-used.ts) and only the device's
 * bookkeeping is left.
 */
export const DONE_PENDING = 0;
export const DONE_OK = 1;
export const DONE_ERROR = 2;
export const DONE_PUSHED_OK = 3;
export const DONE_PUSHED_ERROR = 4;
