// The one WebAssembly API popek uses (shared linear memory as machine RAM).
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
}
