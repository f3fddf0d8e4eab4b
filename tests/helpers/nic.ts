/*
 * What the NIC end-to-end tests (tests/e2e/ne2000, virtio-net, assigned-nic)
 * share: a NIC test program on the virtual network, natively or under
 * --virt trap (the machine `bench io` measures, bench/nic-guest.ts), two of
 * them exchanging frames through one switch, and what such an exchange must
 * show.
 */

import { expect } from "vitest";
import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import { parseMac } from "../../src/net/ethernet.ts";
import { VirtualNetwork } from "../../src/net/netdevs.ts";
import { NIC_GUEST_MEM, runNicGuest, type NicGuestOptions, type NicGuestRun, type NicKind, type NicTrapRun } from "../../bench/nic-guest.ts";

/** Hang-catchers, sized for a loaded two-core host: a native board's run, a VM's. */
const NATIVE_TIMEOUT_S = 100;
const TRAP_TIMEOUT_S = 150;

type NicTestOptions<K extends NicKind> = Omit<NicGuestOptions<K>, "timeoutSeconds" | "mac"> & { readonly mac: string };

/** One NIC guest until it ends (bench/nic-guest.ts runNicGuest), with the tests' time-outs and the MAC in text. */
export function runNic<K extends NicKind>(opts: NicTestOptions<K> & { readonly mode: "trap" }): Promise<NicTrapRun<K>>;
export function runNic<K extends NicKind>(opts: NicTestOptions<K>): Promise<NicGuestRun<K>>;
export function runNic<K extends NicKind>(opts: NicTestOptions<K>): Promise<NicGuestRun<K>> {
  return runNicGuest({ ...opts, mac: parseMac(opts.mac), timeoutSeconds: opts.mode === "native" ? NATIVE_TIMEOUT_S : TRAP_TIMEOUT_S });
}

/** Two guests of `kind` with `macs` on one switch, both running `peer`: two boards, or two VMs on one hypervisor. */
export async function runPeers<K extends NicKind>(kind: K, mode: "native" | "trap", macs: readonly [string, string]): Promise<[NicGuestRun<K>, NicGuestRun<K>]> {
  const net = new VirtualNetwork();
  const hv = mode === "trap" ? new Hypervisor({ machineMemory: 3 * NIC_GUEST_MEM + 16 * 2 ** 20 }) : undefined;
  try {
    return await Promise.all([
      runNic({ kind, mode, net, netdev: "switch,id=a", mac: macs[0], append: "peer", hv }),
      runNic({ kind, mode, net, netdev: "switch,id=b", mac: macs[1], append: "peer", hv }),
    ]);
  } finally {
    net.close();
  }
}

/**
 * A peer run ends once each side has 20 frames from the other and has heard that the other has 20
 * of its own (guests/common/nic-loop.c peer): a side keeps resending until then, so either count
 * may pass 20 by however many resends the timing allowed. Both guests exit 0.
 */
export function expectPeered(runs: readonly [NicGuestRun<NicKind>, NicGuestRun<NicKind>], macs: readonly [string, string]): void {
  runs.forEach((run, i) => {
    const m = /peer: got (\d+) frames from ([0-9a-f:]+), it got (\d+) of ours/.exec(run.output);
    expect(m, run.output).not.toBeNull();
    expect(m![2]).toBe(macs[1 - i]);
    expect(Number(m![1])).toBeGreaterThanOrEqual(20);
    expect(Number(m![3])).toBeGreaterThanOrEqual(20);
  });
  expect(runs.map((r) => r.exitCode)).toEqual([0, 0]);
}
