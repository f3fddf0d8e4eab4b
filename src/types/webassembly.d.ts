// The WebAssembly API popek uses: shared linear memory as machine RAM, and
// modules compiled at run time over it (the wasm block tier, src/machine/jit).
// Node provides it at run time; TypeScript only declares it in the DOM lib,
// which would bring in browser globals that do not exist here.
declare namespace WebAssembly {
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    grow(delta: number): number;
  }
  interface TableDescriptor {
    element: "anyfunc";
    initial: number;
  }
  class Table {
    constructor(descriptor: TableDescriptor);
    readonly length: number;
    grow(delta: number): number;
    set(index: number, value: Function): void;
  }
  /** Import object: module name, then field name, to a function, memory or table. */
  type Imports = Record<string, Record<string, Function | Memory | Table>>;
  class Module {
    constructor(bytes: Uint8Array);
  }
  function compile(bytes: Uint8Array): Promise<Module>;
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }
}
