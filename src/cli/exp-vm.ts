/*
 * An experiment file's VM in popek run's words: each VM becomes the flags a
 * user would type (`--vcpus 2 --wait spin --device ne2000,netdev=n0 ...`),
 * so an experiment boots exactly what `popek run` boots. Links and host
 * endpoints become --netdev words on the VMs whose NICs they name.
 */

import { existsSync } from "node:fs";
import { ConfigError } from "../errors.ts";
import type { EndpointSpec, Experiment, VmSpec } from "../lab/experiment-schema.ts";
import type { RunRecord } from "../lab/results.ts";
import { VirtualNetwork } from "../net/netdevs.ts";
import type { SwitchPort } from "../net/port.ts";
import type { RemotePort } from "../net/remote-port.ts";
import { boardDevicesFrom } from "./devices.ts";
import type { Netdev } from "./netdev.ts";
import type { RunFlags } from "./run-flags.ts";

/** The flags `popek run` would be given for this VM, with the netdevs its links and endpoints add. */
export function vmFlags(vm: VmSpec, experiment: Experiment): RunFlags {
  return {
    virt: vm.virt,
    ...(vm.virt !== "none" ? { vcpus: String(vm.vcpus) } : { harts: String(vm.vcpus) }),
    mem: vm.mem,
    bios: vm.firmware,
    kernel: vm.kernel,
    append: vm.append,
    initrd: vm.initrd,
    clock: "real",
    wait: vm.wait,
    exitHandler: vm.handler,
    mmu: vm.mmu,
    pin: vm.pin,
    device: vm.devices,
    netdev: [...vm.netdevs, ...generatedNetdevs(vm.name, experiment)],
    drive: vm.drives,
    global: vm.globals,
  };
}

/** --netdev words for this VM's NICs named in links (a switch LAN per link) and endpoints. */
function generatedNetdevs(vmName: string, e: Experiment): string[] {
  const mine = (ref: string) => ref.split(".")[0] === vmName;
  const id = (ref: string) => ref.slice(ref.indexOf(".") + 1);
  const out: string[] = [];
  e.links.forEach((link, i) => {
    for (const ref of link) if (mine(ref)) out.push(`switch,id=${id(ref)},name=link${i}`);
  });
  for (const ep of e.endpoints) if (mine(ep.nic)) out.push(endpointNetdev(ep, id(ep.nic)));
  return out;
}

function endpointNetdev(ep: EndpointSpec, id: string): string {
  return ep.kind === "sink" ? `sink,id=${id}` : `source,id=${id},size=${ep.size},pps=${ep.rate}`;
}

/**
 * Refuses, before anything runs, image paths that do not exist (`FILE: vms[0].kernel: expected
 * an existing file, found "x"`) and device words popek run would refuse (`FILE: vms[0]: --device ...`).
 */
export function checkVms(file: string, e: Experiment): void {
  e.vms.forEach((vm, i) => {
    for (const key of ["image", "kernel", "initrd", "firmware"] as const) {
      const path = vm[key];
      if (path === undefined || (key === "firmware" && (path === "hv" || path === "none"))) continue;
      if (!existsSync(path)) throw new ConfigError(`${file}: vms[${i}].${key}: expected an existing file, found "${path}"`);
    }
    try {
      // The devices are built (and dropped) on a network of their own, as a run would build them.
      const net = new VirtualNetwork();
      boardDevicesFrom(vmFlags(vm, e), vmPorts(vm.name, net), vmRemotePorts(vm.name, net));
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`${file}: vms[${i}]: ${err.message}`);
      throw err;
    }
  });
}

/** A VM's netdevs on the run's network: ids are per VM in the file, VM.ID on the network. */
export function vmPorts(vmName: string, net: VirtualNetwork): (nd: Netdev) => SwitchPort {
  return (nd) => net.attach({ kind: nd.type, id: `${vmName}.${nd.id}`, options: Object.fromEntries(nd.options) });
}

/** The same for a device whose "hardware" runs in a thread of its own (an assigned NIC): a cross-thread port. */
export function vmRemotePorts(vmName: string, net: VirtualNetwork): (nd: Netdev) => RemotePort {
  return (nd) => net.attachRemote({ kind: nd.type, id: `${vmName}.${nd.id}`, options: Object.fromEntries(nd.options) });
}

/** What the runs were (charts group by it whatever the sweep varied). */
export function runConfig(e: Experiment): RunRecord["config"] {
  const joined = (values: string[]) => [...new Set(values)].join("+") || "-";
  const trap = e.vms.filter((v) => v.virt !== "none");
  const nics = e.vms.flatMap((v) => v.devices.map(nicKind).filter((k): k is string => k !== undefined));
  return {
    virt: joined(e.vms.map((v) => v.virt)),
    wait: trap.length === 0 ? "native" : joined(trap.map((v) => v.wait)),
    handler: trap.length === 0 ? "native" : joined(trap.map((v) => v.handler)),
    vcpus: e.vms.reduce((s, v) => s + v.vcpus, 0),
    nic: joined(nics) === "-" ? "none" : joined(nics),
  };
}

/** The NIC model a --device word names, if it is a NIC. */
function nicKind(device: string): string | undefined {
  const head = device.split(",")[0];
  if (head === "ne2000") return "ne2000";
  if (head === "virtio-net-device") return "virtio";
  return undefined;
}
