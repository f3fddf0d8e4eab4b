/*
 * Block discovery for the wasm tier: the unit it compiles is a region, the
 * hot block and the blocks of the same page that control reaches from it
 * (branch targets and fall-throughs, jal targets, the continuation of a
 * block cut at its length limit), as far as the interpreter has run them.
 * One wasm function runs the whole region with the guest registers in
 * locals: a transition between its blocks is a jump inside the function,
 * not a return to the dispatcher and a load and store of every register
 * (wasm-compiler.ts). With one block per function, the dispatcher's own
 * function took 18% of the main thread's samples in a Linux boot.
 *
 * A slot the interpreter never reached keeps its block word at the page's
 * starting count (decoded-page.ts: it counts the slots jumps and branches
 * lead to, and every slot once, when it is first decoded), so a path never
 * taken is left out and ends the region there: it costs no compile, and if
 * it gets hot it becomes a region of its own.
 */

import { PAGE_SIZE } from "../memlayout.ts";
import { OP } from "../../isa/ops.ts";
import { scanBlock, type Insn } from "./block-compiler.ts";

/** Most blocks in one region, and most instructions (they bound a region's compile). */
const MAX_REGION_BLOCKS = 32;
const MAX_REGION_INSNS = 384;

/** One block of a region: its instructions, from page offset `start` to `end`. */
export interface RegionBlock {
  readonly start: number;
  readonly end: number;
  readonly insns: readonly Insn[];
}

const BRANCHES = new Set<number>([OP.beq, OP.bne, OP.blt, OP.bge, OP.bltu, OP.bgeu]);

/** The page offsets control may go to after `b` without leaving the page through a jalr. */
function successors(b: RegionBlock): number[] {
  const last = b.insns[b.insns.length - 1];
  if (BRANCHES.has(last.op)) return [last.po + last.imm, b.end];
  if (last.op === OP.jal) return [last.po + last.imm];
  if (last.op === OP.jalr) return [];
  return [b.end]; // cut at the length limit, or before an op this tier leaves to the interpreter
}

/**
 * The region entered at `entry` of the decoded page `dec` (frame at RAM
 * offset `frame`), breadth first from its entry block (blocks[0]; empty when
 * the entry's op is not in `ops`), taking in the blocks at the page offsets
 * `follow` accepts (the tier's: reached by the interpreter, and not the entry
 * of a region of their own).
 */
export function scanRegion(dec: Int32Array, u16: Uint16Array, frame: number, entry: number, ops: ReadonlySet<number>, follow: (po: number) => boolean): RegionBlock[] {
  const blocks: RegionBlock[] = [];
  const seen = new Set<number>([entry]);
  const queue = [entry];
  let insns = 0;
  for (let q = 0; q < queue.length && blocks.length < MAX_REGION_BLOCKS; q++) {
    const start = queue[q];
    const { insns: body, end } = scanBlock(dec, u16, frame, start, ops);
    if (body.length === 0 || (blocks.length > 0 && insns + body.length > MAX_REGION_INSNS)) continue;
    insns += body.length;
    const block = { start, end, insns: body };
    blocks.push(block);
    for (const t of successors(block)) {
      if (t < 0 || t >= PAGE_SIZE || seen.has(t) || !follow(t)) continue;
      seen.add(t);
      queue.push(t);
    }
  }
  return splitAtStarts(blocks);
}

/**
 * Cuts each block where another one starts (a jump into its middle), so
 * no instruction is compiled twice: the cut block falls through to that one.
 */
function splitAtStarts(blocks: RegionBlock[]): RegionBlock[] {
  const starts = new Set(blocks.map((b) => b.start));
  return blocks.map((b) => {
    const cut = b.insns.findIndex((i, k) => k > 0 && starts.has(i.po));
    return cut < 0 ? b : { start: b.start, end: b.insns[cut].po, insns: b.insns.slice(0, cut) };
  });
}
