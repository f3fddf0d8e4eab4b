/*
 * Comlink speaks to an EventTarget-like endpoint; node:worker_threads speaks
 * EventEmitter. This adapter is the control plane's plumbing (create, pause,
 * resume, stop, registers, statistics) — never the exit path, which is the
 * run page and Atomics.
 */

import * as Comlink from "comlink";
import type { MessagePort, Worker } from "node:worker_threads";

type Endpoint = Parameters<typeof Comlink.wrap>[0] & Parameters<typeof Comlink.expose>[1];
type Handler = ((event: { data: unknown }) => void) | { handleEvent(event: { data: unknown }): void };

export function nodeEndpoint(port: MessagePort | Worker): Endpoint {
  const bound = new Map<Handler, (data: unknown) => void>();
  const endpoint = {
    postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void {
      port.postMessage(message, transfer as ArrayBuffer[] | undefined);
    },
    addEventListener(_type: string, handler: Handler): void {
      const listener = (data: unknown): void => {
        if (typeof handler === "function") handler({ data });
        else handler.handleEvent({ data });
      };
      port.on("message", listener);
      bound.set(handler, listener);
    },
    removeEventListener(_type: string, handler: Handler): void {
      const listener = bound.get(handler);
      if (listener === undefined) return;
      port.off("message", listener);
      bound.delete(handler);
    },
  };
  return endpoint as unknown as Endpoint;
}

/** Comlink.wrap over a node endpoint. */
export function comlinkWrap<T>(endpoint: Endpoint): Comlink.Remote<T> {
  return Comlink.wrap<T>(endpoint);
}
