/*
 * `--netdev` and `--device ne2000` on the command line, in QEMU's words: the
 * NE2000 driver guest finds QEMU's user-network gateway (ARP, a DHCP lease,
 * a ping) through the card and the virtual network, natively and deprivileged.
 */

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const POPEK = join(process.cwd(), "bin/popek.js");

function popek(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [POPEK, ...args], { encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const GATEWAY = ["run", "guests/bin/ne2000-test.elf", "--netdev", "user,id=n0", "--device", "ne2000,netdev=n0", "--append", "gateway"];

describe("--netdev user with --device ne2000", () => {
  for (const virt of ["none", "trap"]) {
    it(`reaches the user gateway by ARP, DHCP and ping (--virt ${virt})`, () => {
      const r = popek(...GATEWAY, "--virt", virt);
      expect(r.stdout).toContain("gateway: 10.0.2.2 is at 52:55:0a:00:02:02");
      expect(r.stdout).toContain("dhcp: lease 10.0.2.15 router 10.0.2.2 dns 10.0.2.3");
      expect(r.stdout).toContain("ping: reply from 10.0.2.2");
      expect(r.status).toBe(0);
    }, 120_000);
  }

  it("refuses a NIC on a netdev that does not exist, in one line", () => {
    const r = popek("run", "guests/bin/ne2000-test.elf", "--device", "ne2000,netdev=n9");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe("popek: --device ne2000: no --netdev with id=n9\n");
  }, 60_000);

  it("refuses two NICs on one netdev", () => {
    const r = popek("run", "guests/bin/ne2000-test.elf", "--netdev", "user,id=n0", "--device", "ne2000,netdev=n0", "--device", "virtio-net-device,netdev=n0");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^popek: .*n0.*already used/);
  }, 60_000);
});
