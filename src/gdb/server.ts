/*
 * The stub's socket: QEMU's `-gdb tcp::PORT` (and `-s`, tcp::1234). The
 * listener stays open for the whole run, so a debugger can detach and
 * another attach; one is served at a time, a second is turned away. An
 * empty host means the loopback interface (QEMU listens on every
 * interface; a debugger can write guest memory, so popek does not unless
 * asked: tcp:0.0.0.0:PORT). Port 0 picks a free port, printed on stderr.
 */

import { createServer, type Server, type Socket } from "node:net";
import { ConfigError } from "../errors.ts";

/** The byte stream to one debugger (a socket; a test's fake). */
export interface GdbConnection {
  write(bytes: Buffer): void;
  close(): void;
}

/** What serves the debuggers that connect: the board's stub (stub.ts), a VM's (async-stub.ts). */
export interface GdbEndpoint {
  /** A debugger connected: it takes over if none is attached; otherwise false (the socket is closed). */
  connect(conn: GdbConnection): boolean;
  /** Bytes from the debugger on `conn`. */
  receive(conn: GdbConnection, bytes: Uint8Array): void;
  /** The connection went away (closed, reset) without a detach. */
  disconnected(conn: GdbConnection): void;
}

/** Where to listen. */
export interface GdbListen {
  readonly host: string;
  readonly port: number;
}

/** The -s shorthand's device. */
export const GDB_DEFAULT_DEVICE = "tcp::1234";

/** Parses `tcp:[HOST]:PORT` (QEMU's -gdb device); a ConfigError saying what is expected otherwise. */
export function parseGdbDevice(dev: string): GdbListen {
  const m = /^tcp:([^:]*):(\d{1,5})$/.exec(dev);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || port > 65535) throw new ConfigError(`--gdb: expected tcp::PORT or tcp:HOST:PORT (e.g. ${GDB_DEFAULT_DEVICE}), got '${dev}'`);
  return { host: m[1] === "" ? "127.0.0.1" : m[1], port };
}

/** A listening stub; close() ends the listener and any connection once what was sent to it is flushed. */
export interface GdbServer {
  /** The port it listens on (the chosen one, for port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** Listens for debuggers and hands their bytes to `stub`; a ConfigError when the address cannot be had. */
export async function listenGdb(where: GdbListen, stub: GdbEndpoint): Promise<GdbServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    const conn = { write: (bytes: Buffer) => void socket.write(bytes), close: () => void socket.end() };
    if (!stub.connect(conn)) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on("data", (bytes) => stub.receive(conn, bytes));
    socket.on("error", () => {}); // a reset is a disconnect, handled on close
    socket.on("close", () => {
      sockets.delete(socket);
      stub.disconnected(conn);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => reject(new ConfigError(`--gdb: cannot listen on ${where.host}:${where.port}: ${e.code ?? e.message}`)));
    server.listen({ host: where.host, port: where.port }, resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : where.port;
  return {
    port,
    async close(): Promise<void> {
      server.close();
      // The last reply (W: the guest exited) must reach the debugger before the process ends.
      await Promise.all([...sockets].map((s) => new Promise<void>((resolve) => s.end(resolve))));
      for (const s of sockets) s.destroy();
    },
  };
}
