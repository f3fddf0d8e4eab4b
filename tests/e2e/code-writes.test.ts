/*
 * End to end: code that a hart has run hot (JIT-compiled) is rewritten by
 * someone else — a virtio-blk read (DMA; under --virt trap an I/O worker
 * thread), the device model's GET_ID answer (under trap, the main thread),
 * and the other hart — and after fence.i the hart must run the new code
 * (guests/code-writes). Under --virt trap each vCPU keeps its decoded code
 * across fence.i except the pages other threads marked as written
 * (src/machine/code-writes.ts), so a writer that forgot to mark shows here
 * as the old code running. (The DMA case races with the main thread, which
 * also marks the read once it hears of it: an I/O worker that did not mark
 * fails some runs, not all.)
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** c.li a0, imm (0..31) and c.jr ra, as the guest writes them (guests/code-writes/main.c). */
const cLiA0 = (imm: number): number => 0x4501 | (imm << 2);
const C_RET = 0x8082;

const POPEK = new URL("../../bin/popek.js", import.meta.url).pathname;
const GUEST = new URL("../../guests/bin/code-writes.elf", import.meta.url).pathname;

/** A disk whose sector 0 starts with c.li a0, 2; c.jr ra (what the guest expects the read to bring). */
function codeDisk(): string {
  const path = join(mkdtempSync(join(tmpdir(), "popek-codew-")), "disk.img");
  const bytes = new Uint8Array(64 * 1024);
  new DataView(bytes.buffer).setUint16(0, cLiA0(2), true);
  new DataView(bytes.buffer).setUint16(2, C_RET, true);
  writeFileSync(path, bytes);
  return path;
}

describe("code rewritten by DMA, by the device model or by another hart runs after fence.i", () => {
  const cases: [string, string[]][] = [
    ["natively", ["--virt", "none", "--harts", "2"]],
    ["--virt trap", ["--virt", "trap", "--vcpus", "2", "--exit-handler", "vcpu"]],
  ];
  for (const [name, flags] of cases) {
    it(name, () => {
      const r = spawnSync(
        process.execPath,
        [POPEK, "run", ...flags, "--bios", "none", GUEST, "--drive", `file=${codeDisk()},if=none,format=raw,id=d0`, "--device", "virtio-blk-device,drive=d0,serial=)E", "--timeout", "90"],
        { encoding: "utf8", timeout: 120_000 },
      );
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain("code-writes: virtio-blk read: the new code ran");
      expect(r.stdout).toContain("code-writes: virtio-blk get-id: the new code ran");
      expect(r.stdout).toContain("code-writes: hart 1's store: the new code ran");
      expect(r.stdout).toContain("code-writes: PASS");
      expect(r.status).toBe(0);
    }, 150_000);
  }
});
