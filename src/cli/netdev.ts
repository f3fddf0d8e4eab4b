/*
 * From a --netdev to the switch port a NIC attaches to: the one place where
 * the command line meets the virtual network (src/net/). Kinds the network
 * does not provide yet are refused with a clear line.
 */

import { ConfigError } from "../errors.ts";
import type { SwitchPort } from "../net/port.ts";

export interface Netdev {
  /** `user`, `switch`, ... (QEMU's netdev type). */
  readonly type: string;
  readonly id: string;
  /** The other key=value pairs of the option. */
  readonly options: ReadonlyMap<string, string>;
}

/** The port for a netdev a NIC names (called once per NIC). */
export function netdevPort(nd: Netdev): SwitchPort {
  switch (nd.type) {
    case "user":
    case "switch":
      throw new ConfigError(`--netdev ${nd.type},id=${nd.id}: the virtual network (src/net) is not part of this build yet`);
    default:
      throw new ConfigError(`--netdev ${nd.type}: unknown netdev type (popek takes user, switch)`);
  }
}
