/*
 * `--device assigned-nic,netdev=ID[,mac=]` on the command line: the driver
 * guest sends frames to a sink through the directly assigned NIC, natively
 * and deprivileged; bad options are one line each.
 */

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const POPEK = join(process.cwd(), "bin/popek.js");

function popek(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [POPEK, ...args], { encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const TX = ["run", "guests/bin/assigned-test.elf", "--netdev", "sink,id=s", "--device", "assigned-nic,netdev=s,mac=52:54:00:00:00:42", "--append", "tx 2000 64"];

describe("--device assigned-nic", () => {
  for (const virt of ["none", "trap"]) {
    it(`sends frames through the assigned NIC (--virt ${virt})`, () => {
      const r = popek(...TX, "--virt", virt);
      expect(r.stdout).toContain("anic: mac 52:54:00:00:00:42");
      expect(r.stdout).toContain("tx: sent 2000 frames of 64 bytes");
      expect(r.status).toBe(0);
    }, 120_000);
  }

  it("refuses a NIC on a netdev that does not exist, in one line", () => {
    const r = popek("run", "guests/bin/assigned-test.elf", "--device", "assigned-nic,netdev=n9");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe("popek: --device assigned-nic: no --netdev with id=n9\n");
  }, 60_000);

  it("refuses an unknown option and a bad MAC, in one line each", () => {
    const a = popek("run", "guests/bin/assigned-test.elf", "--netdev", "sink,id=s", "--device", "assigned-nic,netdev=s,queues=4");
    expect(a.status).not.toBe(0);
    expect(a.stderr).toMatch(/^popek: --device assigned-nic: .*queues.*\n$/);
    const b = popek("run", "guests/bin/assigned-test.elf", "--netdev", "sink,id=s", "--device", "assigned-nic,netdev=s,mac=zz");
    expect(b.status).not.toBe(0);
    expect(b.stderr).toBe("popek: --device assigned-nic: mac=zz is not six hex bytes like 52:54:00:12:34:56\n");
  }, 60_000);
});
