/*
 * Guest output on the host's stdout. Two things a pipe asks for:
 *
 * - Nothing the guest printed may be lost. When stdout is a pipe, Node
 *   queues writes the reader has not taken yet; `process.exit` would drop
 *   them. The CLI drains stdout (drainStdout) before it exits.
 * - A reader that goes away (`popek run GUEST | head -1`) makes the next
 *   write fail with EPIPE. That ends the run quietly, as it ends `yes | head`
 *   (whose writer dies of SIGPIPE): no stack trace, exit status 141
 *   (128 + SIGPIPE), which is what a shell reports for such a writer.
 */

/** Exit status of a run whose stdout reader went away: 128 + SIGPIPE, as a shell reports a writer killed by it. */
export const EXIT_STDOUT_CLOSED = 141;

let watching = false;
let closed = false;
const onClosed = new Set<() => void>();

/** Turns EPIPE on stdout into "the reader is gone" (once, for the whole process). */
export function watchStdout(): void {
  if (watching) return;
  watching = true;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    if (closed) return;
    closed = true;
    for (const f of onClosed) f();
  });
}

/** True once stdout's reader has gone away. */
export function stdoutClosed(): boolean {
  return closed;
}

/** Resolves once every queued write to stdout has reached the reader (or the reader has gone). */
export function drainStdout(): Promise<void> {
  const out = process.stdout;
  if (closed || out.destroyed || out.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      onClosed.delete(done);
      resolve();
    };
    onClosed.add(done);
    // Write callbacks run in order: this one runs once everything queued before it is written.
    out.write(new Uint8Array(0), done);
  });
}

interface GuestSink {
  readonly write: (byte: number) => void;
  readonly flush: () => void;
  /** Stops watching for a closed reader (the run is over). */
  readonly close: () => void;
}

/**
 * Guest bytes to stdout, batched so a chatty guest does not make one write
 * per byte (a line, a full buffer or flush() sends them). `readerGone` runs
 * once if stdout's reader goes away; bytes after that are dropped.
 */
export function stdoutSink(readerGone: () => void = () => {}): GuestSink {
  watchStdout();
  onClosed.add(readerGone);
  let buf = new Uint8Array(4096);
  let len = 0;
  const flush = (): void => {
    if (len === 0) return;
    if (!closed) process.stdout.write(buf.slice(0, len));
    len = 0;
  };
  return {
    write(byte: number): void {
      if (len === buf.length) {
        flush();
        buf = new Uint8Array(4096);
      }
      buf[len++] = byte;
      if (byte === 0x0a) flush();
    },
    flush,
    close: () => onClosed.delete(readerGone),
  };
}
