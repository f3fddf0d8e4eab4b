/*
 * Guest images: what `--bios` and `--kernel` name. An ELF is loaded by its
 * program headers; anything else is a flat binary placed at the board's
 * default address and entered at its first byte (QEMU's
 * load_image_targphys fallback). placeImage copies an image into RAM after
 * checking that every byte of it lands inside RAM.
 */

import { readFileSync } from "node:fs";
import { ConfigError, GuestImageError } from "../errors.ts";
import { isElf, parseElf } from "./elf.ts";

interface GuestImageChunk {
  /** Physical address of the first byte. */
  readonly addr: number;
  readonly data: Uint8Array;
  /** Bytes occupied in memory (>= data.length); the tail is zeroed. */
  readonly memSize: number;
}

export interface GuestImage {
  /** Physical address the hart starts at (ELF: e_entry; flat: the load address). */
  readonly entry: number;
  /**
   * Lowest physical address the image occupies. QEMU enters a `-kernel` ELF
   * here rather than at e_entry (hw/riscv/boot.c riscv_load_kernel: "use low
   * address not ELF entry point"), so the board picks which one it wants.
   */
  readonly lowestAddr: number;
  readonly chunks: GuestImageChunk[];
  readonly symbols: ReadonlyMap<string, number>;
  readonly kind: "elf" | "flat";
}

/** Largest address a JS number holds exactly. */
const ADDR_LIMIT = 2 ** 53;

function hex(v: number): string {
  return `0x${v.toString(16)}`;
}

/**
 * Interpret `bytes` as an ELF (when it starts with the ELF magic) or as a flat
 * binary at defaultBase. `what` ("kernel", "bios") prefixes error messages.
 */
export function loadGuestImage(bytes: Uint8Array, defaultBase: number, what = "image"): GuestImage {
  if (isElf(bytes)) return elfImage(bytes, what);
  if (bytes.length === 0) throw new GuestImageError(`${what}: image is empty (0 bytes)`);
  if (!Number.isSafeInteger(defaultBase) || defaultBase < 0 || defaultBase + bytes.length > ADDR_LIMIT) {
    throw new GuestImageError(`${what}: flat image base ${hex(defaultBase)} is not a valid address`);
  }
  return {
    entry: defaultBase,
    lowestAddr: defaultBase,
    chunks: [{ addr: defaultBase, data: bytes, memSize: bytes.length }],
    symbols: new Map(),
    kind: "flat",
  };
}

function elfImage(bytes: Uint8Array, what: string): GuestImage {
  try {
    const elf = parseElf(bytes);
    const chunks = elf.segments.map((s) => ({ addr: s.paddr, data: s.data, memSize: s.memSize }));
    const lowestAddr = chunks.reduce((low, c) => Math.min(low, c.addr), Infinity);
    return { entry: elf.entry, lowestAddr, chunks, symbols: elf.symbols, kind: "elf" };
  } catch (e) {
    if (e instanceof GuestImageError) throw new GuestImageError(`${what}: ${e.message}`);
    throw e;
  }
}

/**
 * Copy every chunk into `ram` (which holds physical [ramBase, ramBase +
 * ram.length)) and zero each chunk's tail up to memSize. All chunks are
 * checked before any byte is written, so a bad image leaves RAM untouched.
 */
export function placeImage(image: GuestImage, ram: Uint8Array, ramBase: number, what: string): void {
  const ramEnd = ramBase + ram.length;
  for (const c of image.chunks) {
    const end = c.addr + c.memSize;
    if (c.memSize < c.data.length) {
      throw new GuestImageError(`${what}: segment at ${hex(c.addr)} has more file bytes than memory bytes`);
    }
    if (c.addr < ramBase || end > ramEnd) {
      // Below RAM no amount of memory helps; above it, more might.
      const hint = c.addr >= ramBase ? " (try --mem)" : "";
      throw new GuestImageError(
        `${what}: segment ${hex(c.addr)}-${hex(end)} lies outside RAM ${hex(ramBase)}-${hex(ramEnd)}${hint}`,
      );
    }
  }
  for (const c of image.chunks) {
    const off = c.addr - ramBase;
    ram.set(c.data, off);
    ram.fill(0, off + c.data.length, off + c.memSize);
  }
}

/** Why a file could not be read, in words, for the errno codes a user can cause. */
const READ_ERRORS: ReadonlyMap<string, string> = new Map([
  ["ENOENT", "no such file"],
  ["EISDIR", "is a directory"],
  ["EACCES", "permission denied"],
  ["EPERM", "permission denied"],
  ["ENOTDIR", "a path component is not a directory"],
  ["ELOOP", "too many symbolic links"],
]);

/** Read a whole image file; user-caused failures become ConfigError(`what: cannot read PATH: reason`). */
export function readImageFile(path: string, what: string): Uint8Array {
  try {
    const buf = readFileSync(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    const code = e instanceof Error && "code" in e && typeof e.code === "string" ? e.code : undefined;
    const reason = code === undefined ? undefined : READ_ERRORS.get(code);
    if (reason !== undefined) throw new ConfigError(`${what}: cannot read ${path}: ${reason}`);
    throw e;
  }
}
