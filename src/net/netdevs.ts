/*
 * The `--netdev` kinds, in one registry the command-line parser consults:
 * a netdev spec in, the SwitchPort a NIC back-end attaches to out.
 *
 *   user,id=ID                   QEMU's user network: a private switch with the
 *                                10.0.2.2 gateway (ARP, ICMP echo, DHCP 10.0.2.15)
 *   switch,id=ID[,name=LAN][,user=on]
 *                                the lab's shared L2 switch LAN (default "lan"):
 *                                every NIC on it, of every VM, meets the others;
 *                                user=on puts the gateway on it too
 *   sink,id=ID                   a private switch with a frame sink (counts frames, bytes)
 *   source,id=ID,size=N,pps=R    a private switch with a frame source (N-byte frames, R per second)
 *
 * One VirtualNetwork holds every switch and endpoint of a run; each netdev
 * id serves one NIC, as in QEMU.
 */

import { ConfigError } from "../errors.ts";
import { parseMac } from "./ethernet.ts";
import type { SwitchPort } from "./port.ts";
import type { RemotePort } from "./remote-port.ts";
import { FrameSink } from "./sink.ts";
import { FrameSource } from "./source.ts";
import { Switch } from "./switch.ts";
import { UserGateway } from "./user.ts";

/** A parsed `--netdev KIND,id=ID,key=value,...`. */
export interface NetdevSpec {
  readonly kind: string;
  readonly id: string;
  readonly options: Readonly<Record<string, string>>;
}

const NETDEV_KINDS = ["user", "switch", "sink", "source"] as const;
type NetdevKind = (typeof NETDEV_KINDS)[number];

/** Options each kind takes besides id. */
const KIND_OPTIONS: Record<NetdevKind, readonly string[]> = {
  user: [],
  switch: ["name", "user"],
  sink: [],
  source: ["size", "pps", "mac"],
};

/** The MAC a source endpoint sends from unless told otherwise (a locally administered address). */
const SOURCE_MAC = "52:55:0a:00:02:fe";

/** `user,id=n0` to a spec; a ConfigError naming the problem otherwise. */
export function parseNetdev(text: string): NetdevSpec {
  const [kind, ...rest] = text.split(",");
  const options: Record<string, string> = {};
  for (const kv of rest) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new ConfigError(`--netdev ${text}: "${kv}" is not key=value`);
    const key = kv.slice(0, eq);
    if (key in options) throw new ConfigError(`--netdev ${text}: ${key} given twice`);
    options[key] = kv.slice(eq + 1);
  }
  const { id, ...others } = options;
  if (id === undefined || id === "") throw new ConfigError(`--netdev ${text}: needs id=`);
  const spec = { kind, id, options: others };
  checkNetdev(spec);
  return spec;
}

function isKind(kind: string): kind is NetdevKind {
  return (NETDEV_KINDS as readonly string[]).includes(kind);
}

/** Refuses an unknown kind or option, with one line naming it. */
function checkNetdev(spec: NetdevSpec): void {
  if (!isKind(spec.kind)) throw new ConfigError(`--netdev ${spec.kind}: unknown kind (${NETDEV_KINDS.join(", ")})`);
  for (const key of Object.keys(spec.options)) {
    if (!KIND_OPTIONS[spec.kind].includes(key)) throw new ConfigError(`--netdev ${spec.kind},id=${spec.id}: unknown option ${key}`);
  }
}

function positive(spec: NetdevSpec, key: string, fallback: number): number {
  const text = spec.options[key];
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) throw new ConfigError(`--netdev ${spec.kind},id=${spec.id}: ${key}=${text} is not a positive number`);
  return v;
}

export class VirtualNetwork {
  readonly switches = new Map<string, Switch>();
  readonly gateways = new Map<string, UserGateway>();
  readonly sinks = new Map<string, FrameSink>();
  readonly sources = new Map<string, FrameSource>();
  private readonly used = new Set<string>();
  private readonly remotes: RemotePort[] = [];

  /** The shared switch called `name`, made on first use. */
  switchNamed(name: string): Switch {
    let sw = this.switches.get(name);
    if (sw === undefined) {
      sw = new Switch(name);
      this.switches.set(name, sw);
    }
    return sw;
  }

  /** The port a NIC given `netdev=spec.id` attaches to; each id serves one NIC. */
  attach(spec: NetdevSpec): SwitchPort {
    return this.switchFor(spec).attach(spec.id);
  }

  /** The same, for a NIC whose back-end runs in another thread (remote-port.ts); close() ends its listening. */
  attachRemote(spec: NetdevSpec): RemotePort {
    const port = this.switchFor(spec).attachRemote(spec.id);
    this.remotes.push(port);
    return port;
  }

  /** The switch the NIC given `netdev=spec.id` plugs into, with the netdev's endpoint on it. */
  private switchFor(spec: NetdevSpec): Switch {
    checkNetdev(spec);
    if (this.used.has(spec.id)) throw new ConfigError(`--netdev id=${spec.id}: already used by another NIC`);
    this.used.add(spec.id);
    const kind = spec.kind as NetdevKind;
    if (kind === "switch") {
      const sw = this.switchNamed(spec.options.name ?? "lan");
      const user = spec.options.user ?? "off";
      if (user !== "on" && user !== "off") throw new ConfigError(`--netdev switch,id=${spec.id}: user=${user} (on or off)`);
      if (user === "on" && !this.gateways.has(sw.name)) this.gateways.set(sw.name, new UserGateway(sw.attach("user")));
      return sw;
    }
    // The other kinds: a private switch between the NIC and one endpoint.
    const sw = this.switchNamed(`${kind}:${spec.id}`);
    if (kind === "user") this.gateways.set(sw.name, new UserGateway(sw.attach("user")));
    else if (kind === "sink") this.sinks.set(spec.id, new FrameSink(sw.attach("sink")));
    else this.sources.set(spec.id, this.source(spec, sw));
    return sw;
  }

  private source(spec: NetdevSpec, sw: Switch): FrameSource {
    let mac: Uint8Array;
    try {
      mac = parseMac(spec.options.mac ?? SOURCE_MAC);
    } catch (e) {
      throw new ConfigError(`--netdev source,id=${spec.id}: ${(e as Error).message}`);
    }
    try {
      return new FrameSource(sw.attach("source"), { size: positive(spec, "size", 64), pps: positive(spec, "pps", 1000), mac });
    } catch (e) {
      if (e instanceof RangeError) throw new ConfigError(`--netdev source,id=${spec.id}: ${e.message}`);
      throw e;
    }
  }

  /** Starts every source's timer. */
  start(): void {
    for (const s of this.sources.values()) s.start();
  }

  /** Stops every source's timer and every cross-thread port's listening. */
  close(): void {
    for (const s of this.sources.values()) s.stop();
    for (const p of this.remotes) p.close();
  }
}

/**
 * `--device ne2000,netdev=ID[,mac=xx:..]`: the card's port on the netdev and
 * its MAC (undefined: the board's default for its slot), for
 * boardDevices({ ne2000: [...] }).
 */
export function nicCard(net: VirtualNetwork, netdev: NetdevSpec, mac?: string): { port: SwitchPort; mac?: Uint8Array } {
  let bytes: Uint8Array | undefined;
  if (mac !== undefined) {
    try {
      bytes = parseMac(mac);
    } catch (e) {
      throw new ConfigError(`--device ne2000,netdev=${netdev.id}: ${(e as Error).message}`);
    }
  }
  return { port: net.attach(netdev), mac: bytes };
}
