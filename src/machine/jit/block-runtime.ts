/*
 * What a compiled block may call besides the hart: the 64-bit helpers the
 * interpreter uses for sll/srl/sra/mul (src/isa/alu64.ts), passed in as one
 * object because a `new Function` body cannot import. One shared instance,
 * so every call site sees one shape.
 */

import { mul64, r64, sar64, shl64, shr64 } from "../../isa/alu64.ts";

export interface BlockRuntime {
  readonly r64: Int32Array;
  readonly mul64: typeof mul64;
  readonly shl64: typeof shl64;
  readonly shr64: typeof shr64;
  readonly sar64: typeof sar64;
}

export const BLOCK_RUNTIME: BlockRuntime = Object.freeze({ r64, mul64, shl64, shr64, sar64 });
