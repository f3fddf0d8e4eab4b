/*
 * The block tier's switch when no configuration sets it (HartOptions.jit,
 * BoardConfig.jit): on, unless the environment says POPEK_JIT=0 — a way to
 * compare with the interpreter alone without changing a command line.
 */

/** Whether the environment leaves the block tier on (POPEK_JIT is not "0"). */
export function jitByEnvironment(): boolean {
  return globalThis.process?.env?.POPEK_JIT !== "0";
}

/** Whether the environment leaves the wasm block tier on (POPEK_WASM is not "0"); blocks are JS where it is off. */
export function wasmByEnvironment(): boolean {
  return globalThis.process?.env?.POPEK_WASM !== "0";
}
