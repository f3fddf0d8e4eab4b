/*
 * The host side of the UART: guest output to stdout, host input to the
 * guest. When stdin is a terminal it is put in raw mode, so keys go to the
 * guest as they are typed; Ctrl-A x quits, as with QEMU's -nographic.
 */

const CTRL_A = 0x01;

export interface HostConsole {
  /** True once the user asked to quit. */
  readonly quit: () => boolean;
  close(): void;
}

export function attachConsole(deliver: (bytes: Uint8Array) => void): HostConsole {
  const stdin = process.stdin;
  let quit = false;
  let escape = false;
  const raw = stdin.isTTY === true;
  const onData = (chunk: Buffer): void => {
    if (!raw) {
      deliver(new Uint8Array(chunk));
      return;
    }
    const pass: number[] = [];
    for (const b of chunk) {
      if (escape) {
        escape = false;
        if (b === 0x78 /* x */) quit = true;
        else pass.push(b); // Ctrl-A Ctrl-A sends one Ctrl-A; other keys pass through
      } else if (b === CTRL_A) escape = true;
      else pass.push(b);
    }
    if (pass.length > 0) deliver(Uint8Array.from(pass));
  };
  if (raw) stdin.setRawMode(true);
  stdin.on("data", onData);
  stdin.on("error", () => {});
  return {
    quit: () => quit,
    close(): void {
      stdin.off("data", onData);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
    },
  };
}
