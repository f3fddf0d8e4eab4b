/*
 * From a --netdev to the switch port a NIC attaches to: the one place where
 * the command line meets the virtual network (src/net/netdevs.ts, whose
 * registry knows the kinds and refuses unknown ones with a clear line).
 */

import { VirtualNetwork } from "../net/netdevs.ts";
import type { SwitchPort } from "../net/port.ts";
import type { RemotePort } from "../net/remote-port.ts";

export interface Netdev {
  /** `user`, `switch`, ... (QEMU's netdev type). */
  readonly type: string;
  readonly id: string;
  /** The other key=value pairs of the option. */
  readonly options: ReadonlyMap<string, string>;
}

/** Ports on `net` for the netdevs NICs name (each netdev serves one NIC). */
export function netdevPorts(net: VirtualNetwork): (nd: Netdev) => SwitchPort {
  return (nd) => net.attach({ kind: nd.type, id: nd.id, options: Object.fromEntries(nd.options) });
}

/** Cross-thread ports on `net` for the netdevs assigned NICs name (their back-ends run in worker threads). */
export function netdevRemotePorts(net: VirtualNetwork): (nd: Netdev) => RemotePort {
  return (nd) => net.attachRemote({ kind: nd.type, id: nd.id, options: Object.fromEntries(nd.options) });
}

/** A run's network when the caller keeps none (each call, its own). */
export function freshNetdevPorts(): (nd: Netdev) => SwitchPort {
  return netdevPorts(new VirtualNetwork());
}
