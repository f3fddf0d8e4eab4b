/*
 * The IOMMU between a directly assigned device and machine memory, after
 * the RISC-V IOMMU specification's model (device context, G-stage page
 * table, fault causes), reduced to one device per context:
 *
 *   device context (DC): a few words of shared memory the device's owner
 *   programs — the hypervisor for a VM (from the VM's guest-physical map),
 *   the board natively — and the device's own thread reads:
 *
 *     [DC_TC]      tc.V (bit 0): the context is valid; without it every DMA is blocked
 *     [DC_MODE]    iohgatp.MODE: MODE_BARE (addresses are machine-physical) or MODE_SV39
 *     [DC_PPN_LO]  iohgatp.PPN: the G-stage root table's machine page number
 *     [DC_PPN_HI]
 *     [DC_GEN]     bumped by the owner after a change, as the IOTINVAL.GVMA
 *                  command would: the device drops its IOTLB
 *
 *   counters, written by the device's thread only (their own cache line):
 *     [DC_BLOCKED] DMAs blocked, [DC_LAST_CAUSE] the last one's cause,
 *     [DC_LAST_IOVA_LO/HI] its address, [DC_WALKS] G-stage walks, [DC_HITS] IOTLB hits
 *   Blocks and walks are stored as they happen (rare, and what a test or
 *   the owner asks about); hits, one per DMA of every frame, are counted in
 *   the device's own memory and stored by publish() once per batch, so the
 *   hot path has no locked instruction.
 *
 * The spec's G-stage for 39-bit guests is Sv39x4 (a 16 KiB root for 41-bit
 * guest-physical addresses). popek's guest-physical space fits in 39 bits,
 * so its G-stage root is a plain 4 KiB Sv39 table, and an address at or
 * above 2^39 is a guest-page fault. Leaves need V, U (every G-stage access
 * is a user access), R for a read, R and W for a write, A, and D for a
 * write (this IOMMU does not update A/D: it faults, as the spec allows);
 * superpages must be aligned; reserved bits 63:54 must be zero. Every walk
 * is bounded by its three levels.
 *
 * Fault causes are the spec's: 5/7 read/write access fault (the address is
 * not machine memory), 21/23 read/write guest-page fault (the G-stage table
 * refuses), 258 DDT entry not valid, 259 DDT entry misconfigured.
 */

import { DRAM_BASE, PAGE_SHIFT, PAGE_SIZE } from "../../machine/memlayout.ts";

const DC_TC = 0;
const DC_MODE = 1;
export const DC_PPN_LO = 2;
const DC_PPN_HI = 3;
const DC_GEN = 4;
const COUNTERS = 16; // a cache line of its own: the device writes these, the owner only reads
const DC_BLOCKED = COUNTERS;
const DC_LAST_CAUSE = COUNTERS + 1;
const DC_LAST_IOVA_LO = COUNTERS + 2;
const DC_LAST_IOVA_HI = COUNTERS + 3;
const DC_WALKS = COUNTERS + 4;
const DC_HITS = COUNTERS + 5;
const DC_WORDS = 32;

const TC_V = 1;
const MODE_BARE = 0;
/** The spec's Sv39x4 encoding; here a 4 KiB Sv39 root (see above). */
const MODE_SV39 = 8;

export const CAUSE_READ_ACCESS = 5;
export const CAUSE_WRITE_ACCESS = 7;
export const CAUSE_READ_GUEST_PAGE = 21;
export const CAUSE_WRITE_GUEST_PAGE = 23;
export const CAUSE_DDT_INVALID = 258;
const CAUSE_DDT_MISCONFIGURED = 259;

// Sv39 PTE bits (priv spec 4.4.1).
const PTE_V = 1 << 0;
const PTE_R = 1 << 1;
const PTE_W = 1 << 2;
const PTE_X = 1 << 3;
const PTE_U = 1 << 4;
const PTE_A = 1 << 6;
const PTE_D = 1 << 7;
const LEVELS = 3;
const TWO_22 = 4194304;
const TWO_32 = 4294967296;
const GPA_LIMIT = 2 ** 39;
/**
 * Entries of the direct-mapped IOTLB (a power of two): 4 MiB of reach, so a
 * driver's rings and a ring's worth of 1.5 KiB buffers (1024 of them: 1.5
 * MiB, on contiguous pages that do not collide) stay cached, and a walk is
 * paid once per page rather than every few frames. With 64 entries those
 * buffers missed at every page and the walk was a sixth of the device's time.
 */
const IOTLB_ENTRIES = 1024;

/** A device context's shared memory. */
export function newDeviceContext(): SharedArrayBuffer {
  return new SharedArrayBuffer(DC_WORDS * 4);
}

/** The owner's side: programs a context (the hypervisor, the board). */
export class DeviceContextWriter {
  readonly words: Int32Array;
  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
  }

  /** Bare: the device's addresses are machine-physical (the native board: guest-physical is machine-physical). */
  bare(): void {
    this.program(MODE_BARE, 0);
  }

  /** G-stage translation through the Sv39 table at machine address `root`. */
  gStage(root: number): void {
    this.program(MODE_SV39, root / PAGE_SIZE);
  }

  /** tc.V = 0: every DMA of the device is blocked. */
  invalidate(): void {
    Atomics.store(this.words, DC_TC, 0);
    Atomics.add(this.words, DC_GEN, 1);
  }

  private program(mode: number, ppn: number): void {
    const w = this.words;
    Atomics.store(w, DC_TC, 0); // invalid while it changes
    Atomics.store(w, DC_MODE, mode);
    Atomics.store(w, DC_PPN_LO, ppn % TWO_32 | 0);
    Atomics.store(w, DC_PPN_HI, Math.floor(ppn / TWO_32));
    Atomics.store(w, DC_TC, TC_V);
    Atomics.add(w, DC_GEN, 1);
  }

  /** DMAs blocked so far. */
  get blocked(): number {
    return Atomics.load(this.words, DC_BLOCKED) >>> 0;
  }

  get lastCause(): number {
    return Atomics.load(this.words, DC_LAST_CAUSE);
  }

  get lastIova(): number {
    return (Atomics.load(this.words, DC_LAST_IOVA_HI) >>> 0) * TWO_32 + (Atomics.load(this.words, DC_LAST_IOVA_LO) >>> 0);
  }

  get walks(): number {
    return Atomics.load(this.words, DC_WALKS) >>> 0;
  }

  /** IOTLB hits, as of the device's last batch. */
  get hits(): number {
    return Atomics.load(this.words, DC_HITS) >>> 0;
  }
}

/**
 * The device's side: translates its DMA addresses to offsets in machine
 * memory (whose first byte is machine address DRAM_BASE), one page at a
 * time, caching translations in an IOTLB. No allocation per access.
 */
export class Iommu {
  private readonly dc: Int32Array;
  private readonly ptes: Int32Array;
  private readonly machineSize: number;
  private gen = -1;
  private readonly tags = new Float64Array(IOTLB_ENTRIES).fill(-1);
  /** Machine offset of each cached page, and whether writes may use it. */
  private readonly frames = new Float64Array(IOTLB_ENTRIES);
  private readonly writable = new Uint8Array(IOTLB_ENTRIES);
  /** IOTLB hits so far (DC_HITS lags until publish()). */
  private hits = 0;

  /** `machineBytes`: how much of `machine` DMA may reach (its tail may hold state no device may touch). */
  constructor(dcBuffer: SharedArrayBuffer, machine: SharedArrayBuffer, machineBytes: number) {
    if (!Number.isInteger(machineBytes) || machineBytes <= 0 || machineBytes > machine.byteLength) {
      throw new RangeError(`iommu: ${machineBytes} DMA-reachable bytes in a ${machine.byteLength}-byte machine memory`);
    }
    this.dc = new Int32Array(dcBuffer);
    this.ptes = new Int32Array(machine);
    this.machineSize = machineBytes;
  }

  /**
   * Machine offset of the byte at `iova`, for an access that stays within
   * its page; -1 when the IOMMU blocks it (counted, with its cause).
   */
  translate(iova: number, write: boolean): number {
    const gen = Atomics.load(this.dc, DC_GEN);
    if (gen !== this.gen) {
      this.tags.fill(-1);
      this.gen = gen;
    }
    if (!(iova >= 0) || !Number.isSafeInteger(iova)) return this.block(write ? CAUSE_WRITE_GUEST_PAGE : CAUSE_READ_GUEST_PAGE, 0);
    const page = Math.floor(iova / PAGE_SIZE);
    const slot = page & (IOTLB_ENTRIES - 1);
    const offsetInPage = iova - page * PAGE_SIZE;
    if (this.tags[slot] === page && (!write || this.writable[slot] === 1)) {
      this.hits++;
      return this.frames[slot] + offsetInPage;
    }
    if ((Atomics.load(this.dc, DC_TC) & TC_V) === 0) return this.block(CAUSE_DDT_INVALID, iova);
    const mode = Atomics.load(this.dc, DC_MODE);
    let pa: number;
    let canWrite = true;
    if (mode === MODE_BARE) {
      pa = page * PAGE_SIZE;
    } else if (mode === MODE_SV39) {
      const leaf = this.walk(page, write);
      if (leaf < 0) return this.block(write ? CAUSE_WRITE_GUEST_PAGE : CAUSE_READ_GUEST_PAGE, iova);
      pa = Math.floor(leaf / 2) * PAGE_SIZE;
      canWrite = leaf % 2 === 1;
    } else {
      return this.block(CAUSE_DDT_MISCONFIGURED, iova);
    }
    const off = pa - DRAM_BASE;
    if (off < 0 || off + PAGE_SIZE > this.machineSize) return this.block(write ? CAUSE_WRITE_ACCESS : CAUSE_READ_ACCESS, iova);
    this.tags[slot] = page;
    this.frames[slot] = off;
    this.writable[slot] = canWrite ? 1 : 0;
    return off + offsetInPage;
  }

  /** Stores the hit count for the owner (the device calls it once per batch). */
  publish(): void {
    Atomics.store(this.dc, DC_HITS, this.hits | 0);
  }

  /**
   * The G-stage walk (priv spec 4.3.2, with the IOMMU's G-stage rules above)
   * for guest page `page`: the machine page number times two, plus one if
   * writes are allowed; -1 for a guest-page fault.
   */
  private walk(page: number, write: boolean): number {
    Atomics.add(this.dc, DC_WALKS, 1);
    if (page * PAGE_SIZE >= GPA_LIMIT) return -1;
    let table = (Atomics.load(this.dc, DC_PPN_HI) >>> 0) * TWO_32 + (Atomics.load(this.dc, DC_PPN_LO) >>> 0);
    for (let level = LEVELS - 1; level >= 0; level--) {
      const vpn = Math.floor(page / 2 ** (9 * level)) % 512;
      const off = table * PAGE_SIZE - DRAM_BASE + vpn * 8;
      if (off < 0 || off + 8 > this.machineSize) return -1;
      const lo = Atomics.load(this.ptes, off >>> 2);
      const hi = Atomics.load(this.ptes, (off >>> 2) + 1);
      if ((lo & PTE_V) === 0 || (hi & 0xffc0_0000) !== 0) return -1;
      const ppn = (hi & 0x3f_ffff) * TWO_22 + (lo >>> 10);
      if ((lo & (PTE_R | PTE_W | PTE_X)) === 0) {
        table = ppn;
        continue;
      }
      // A leaf.
      if ((lo & PTE_W) !== 0 && (lo & PTE_R) === 0) return -1; // W without R is reserved
      if ((lo & PTE_U) === 0 || (lo & PTE_R) === 0 || (lo & PTE_A) === 0) return -1;
      if (write && ((lo & PTE_W) === 0 || (lo & PTE_D) === 0)) return -1;
      const span = 2 ** (9 * level);
      if (ppn % span !== 0) return -1; // a misaligned superpage
      const frame = ppn + (page % span);
      const writes = (lo & PTE_W) !== 0 && (lo & PTE_D) !== 0;
      return frame * 2 + (writes ? 1 : 0);
    }
    return -1;
  }

  private block(cause: number, iova: number): number {
    const dc = this.dc;
    Atomics.add(dc, DC_BLOCKED, 1);
    Atomics.store(dc, DC_LAST_CAUSE, cause);
    Atomics.store(dc, DC_LAST_IOVA_LO, iova % TWO_32 | 0);
    Atomics.store(dc, DC_LAST_IOVA_HI, Math.floor(iova / TWO_32) | 0);
    return -1;
  }
}

/**
 * A G-stage table in machine memory, written by the device's owner: guest
 * page -> machine frame, each leaf V|R|W|U|A|D (never X: devices do not
 * fetch). Table frames come from `alloc` (zeroed machine frames).
 */
export class GStageTable {
  readonly root: number;
  private readonly i32: Int32Array;

  constructor(
    machine: SharedArrayBuffer,
    private readonly alloc: () => number,
  ) {
    this.i32 = new Int32Array(machine);
    this.root = alloc();
  }

  /** Maps the guest page at `gpa` to the machine frame at `frame` (both page-aligned). */
  map(gpa: number, frame: number): void {
    const page = gpa / PAGE_SIZE;
    let table = this.root;
    for (let level = LEVELS - 1; level > 0; level--) {
      const word = (table - DRAM_BASE + (Math.floor(page / 2 ** (9 * level)) % 512) * 8) >>> 2;
      const lo = this.i32[word];
      if ((lo & PTE_V) === 0) {
        const next = this.alloc();
        writePte(this.i32, word, next >>> PAGE_SHIFT, PTE_V);
        table = next;
      } else {
        table = ((this.i32[word + 1] & 0x3f_ffff) * TWO_22 + (lo >>> 10)) * PAGE_SIZE;
      }
    }
    const word = (table - DRAM_BASE + (page % 512) * 8) >>> 2;
    writePte(this.i32, word, frame / PAGE_SIZE, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D);
  }
}

/** A PTE: high word first, so a walk on another thread never sees a valid half-written entry. */
function writePte(i32: Int32Array, word: number, ppn: number, flags: number): void {
  Atomics.store(i32, word + 1, Math.floor(ppn / TWO_22));
  Atomics.store(i32, word, ((ppn % TWO_22) << 10) | flags);
}
