/*
 * A direct-mapped, ASID-tagged TLB of 4 KiB pages whose frames are in RAM.
 * The key is vpn + asid * 2^27 (a Sv39 VPN has 27 bits), so a satp write
 * that switches ASID needs no flush; a global mapping is entered under the
 * ASID that first used it and refilled under another. The value is the RAM
 * offset of the frame, so a hit turns an address into a typed-array index.
 *
 * The hart keeps one TLB per access kind (fetch, load, store) and per
 * translation context (S, U), so permissions are checked only at fill time:
 * a store entry exists only for pages that are writable and already dirty.
 */

const TLB_BITS = 10;
export const TLB_ENTRIES = 1 << TLB_BITS;
export const TLB_MASK = TLB_ENTRIES - 1;
/** asid * ASID_KEY_STRIDE + vpn is an entry's key. */
export const ASID_KEY_STRIDE = 1 << 27;
const GLOBAL = -1;
/** 2 MiB regions listed for a full flush to clear one by one; past that it clears them all. */
const REGION_LIST = 1024;

/** A TLB's two lookup arrays when they live in a shared area (jit/wasm-arena.ts), `addr` the key array's byte offset there. */
export interface TlbArrays {
  readonly addr: number;
  readonly key: Float64Array;
  readonly ramOffset: Int32Array;
}

export class Tlb {
  readonly key: Float64Array;
  readonly ramOffset: Int32Array;
  /** Byte offset of `key` in RAM's memory, ramOffset right after it (the wasm block tier probes them there); -1 for own arrays. */
  readonly addr: number;
  /** The entry's ASID, or GLOBAL; used only by sfence.vma. */
  private readonly asid = new Int32Array(TLB_ENTRIES);
  /** The entry's leaf size as a VPN shift (0, or 9/18 for a 4 KiB part of a superpage); used only by sfence.vma. */
  private readonly span = new Uint8Array(TLB_ENTRIES);
  /** Superpage parts filled since the last full flush: when 0, sfence.vma va has one slot to drop. */
  private superpageFills = 0;
  /**
   * The slots of those fills (the first TLB_ENTRIES of them): sfence.vma va
   * visits only these instead of the whole TLB. A kernel maps itself with
   * superpages, so without the list every sfence.vma va scanned 1,024 slots
   * in each of six TLBs (~10% of a Linux boot's time).
   */
  private readonly superSlots = new Int32Array(TLB_ENTRIES);
  /**
   * The 2 MiB regions (vpn >>> 9) and 1 GiB regions (vpn >>> 18) that
   * superpage parts were filled from since the last full flush: sfence.vma va
   * of an address outside all of them (a 4 KiB mapping: user pages, the
   * fixmap a booting kernel flushes tens of thousands of times) has no
   * superpage part to look for. Without them, once a kernel's superpages had
   * filled more than TLB_ENTRIES parts every such flush scanned all slots of
   * six TLBs (~11% of a Linux boot's main thread).
   */
  private readonly megaRegions = new Uint8Array(1 << 18);
  private readonly gigaRegions = new Uint8Array(1 << 9);
  /** The marked 2 MiB regions (the first REGION_LIST of them), so a full flush clears only those. */
  private readonly megaList = new Int32Array(REGION_LIST);
  private megaCount = 0;
  /** A part of a leaf larger than 1 GiB was filled (not in Sv39): every sfence.vma va scans. */
  private hugeFilled = false;
  /** Whether any entry was filled since the last full flush (an empty TLB has nothing to flush). */
  private live = false;
  fills = 0;

  constructor(arrays?: TlbArrays) {
    this.key = arrays?.key ?? new Float64Array(TLB_ENTRIES);
    this.ramOffset = arrays?.ramOffset ?? new Int32Array(TLB_ENTRIES);
    this.addr = arrays?.addr ?? -1;
    this.key.fill(-1);
  }

  fill(vpn: number, asid: number, global: boolean, ramOffset: number, spanShift = 0): void {
    const i = vpn & TLB_MASK;
    this.key[i] = vpn + asid * ASID_KEY_STRIDE;
    this.ramOffset[i] = ramOffset;
    this.asid[i] = global ? GLOBAL : asid;
    this.span[i] = spanShift;
    if (spanShift !== 0) {
      if (this.superpageFills < TLB_ENTRIES) this.superSlots[this.superpageFills] = i;
      this.superpageFills++;
      this.markRegion(vpn, spanShift);
    }
    this.live = true;
    this.fills++;
  }

  flushAll(): void {
    if (!this.live) return;
    this.key.fill(-1);
    if (this.superpageFills !== 0) this.clearRegions();
    this.superpageFills = 0;
    this.live = false;
  }

  /** sfence.vma rs1=va: drops the entries that could hold the page, whatever their ASID. */
  flushPage(vpn: number): void {
    if (!this.live) return;
    this.key[vpn & TLB_MASK] = -1;
    if (this.superpageFills !== 0 && this.inSuperpageRegion(vpn)) this.flushSuperpageParts(vpn, GLOBAL, true);
  }

  /** sfence.vma rs2=asid: drops that ASID's non-global entries. */
  flushAsid(asid: number): void {
    if (!this.live) return;
    for (let i = 0; i < TLB_ENTRIES; i++) if (this.asid[i] === asid) this.key[i] = -1;
  }

  /** sfence.vma rs1=va, rs2=asid. */
  flushPageAsid(vpn: number, asid: number): void {
    if (!this.live) return;
    const i = vpn & TLB_MASK;
    if (this.asid[i] === asid) this.key[i] = -1;
    if (this.superpageFills !== 0 && this.inSuperpageRegion(vpn)) this.flushSuperpageParts(vpn, asid, false);
  }

  private markRegion(vpn: number, spanShift: number): void {
    if (spanShift > 18) {
      this.hugeFilled = true;
    } else if (spanShift === 18) {
      this.gigaRegions[vpn >>> 18] = 1;
    } else {
      const r = vpn >>> 9;
      if (this.megaRegions[r] !== 0) return;
      this.megaRegions[r] = 1;
      if (this.megaCount < REGION_LIST) this.megaList[this.megaCount] = r;
      this.megaCount++;
    }
  }

  private inSuperpageRegion(vpn: number): boolean {
    return this.megaRegions[vpn >>> 9] !== 0 || this.gigaRegions[vpn >>> 18] !== 0 || this.hugeFilled;
  }

  private clearRegions(): void {
    if (this.megaCount <= REGION_LIST) for (let k = 0; k < this.megaCount; k++) this.megaRegions[this.megaList[k]] = 0;
    else this.megaRegions.fill(0);
    this.megaCount = 0;
    this.gigaRegions.fill(0);
    this.hugeFilled = false;
  }

  /**
   * A superpage is cached as 4 KiB parts in many slots; sfence.vma of any
   * address in it must drop them all (priv spec 4.2.1: entries holding the
   * leaf PTE for that address).
   */
  private flushSuperpageParts(vpn: number, asid: number, anyAsid: boolean): void {
    const listed = this.superpageFills <= TLB_ENTRIES;
    const count = listed ? this.superpageFills : TLB_ENTRIES;
    for (let k = 0; k < count; k++) {
      // A listed slot may have been refilled since (with a 4 KiB page, or another superpage part): the checks below still hold.
      const i = listed ? this.superSlots[k] : k;
      const shift = this.span[i];
      if (shift === 0 || this.key[i] < 0 || (!anyAsid && this.asid[i] !== asid)) continue;
      if ((this.key[i] % ASID_KEY_STRIDE) >>> shift === vpn >>> shift) this.key[i] = -1;
    }
  }
}
