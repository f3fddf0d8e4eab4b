/*
 * A machine's devices, made from its device list: each created by its kind's
 * factory with only its interrupt line, the clock and a view of the
 * machine's guest memory, then mapped on the bus. Interrupt controllers that
 * drive harts are made first, so the others can be wired to the one that
 * takes device lines (the PLIC).
 */

import {
  NO_IRQ_LINE,
  type Clock,
  type DirectAttachment,
  type DeviceHost,
  type DeviceKind,
  type HartLines,
  type IrqLine,
  type MmioDevice,
} from "../devices/device.ts";
import { ConfigError } from "../errors.ts";
import { checkDeviceList, type DeviceSpec } from "./device-list.ts";
import type { Bus } from "./bus.ts";
import type { GuestMemoryView } from "./guest-memory-view.ts";

export interface DeviceWiring {
  readonly harts: HartLines;
  readonly clock: Clock;
  readonly memory: GuestMemoryView;
  readonly host: DeviceHost;
  /** Where the windows are mapped. */
  readonly bus: Bus;
  /** How this machine gives a directly assigned device its page, IOMMU context and interrupt lines (DeviceKind.assigned). */
  readonly direct?: (spec: DeviceSpec) => DirectAttachment;
}

export interface DeviceInstance {
  readonly spec: DeviceSpec;
  readonly device: MmioDevice;
}

export class DeviceSet {
  /** In the list's order. */
  readonly instances: readonly DeviceInstance[];
  /** The instances whose kind has a poll (DeviceKind.poll), each as a call. */
  private readonly pollers: (() => boolean)[] = [];

  constructor(
    readonly specs: readonly DeviceSpec[],
    wiring: DeviceWiring,
  ) {
    checkDeviceList(specs);
    const made = new Map<DeviceSpec, MmioDevice>();
    const base = { clock: wiring.clock, memory: wiring.memory };
    for (const spec of specs) {
      if (spec.kind.wiring === "harts") made.set(spec, spec.kind.create({ ...base, irq: NO_IRQ_LINE, harts: wiring.harts }, wiring.host));
    }
    const controller = specs.find((s) => s.kind.irqSource !== undefined);
    const lineOf = (spec: DeviceSpec): IrqLine => {
      if (spec.kind.wiring !== "source" || controller === undefined || spec.irq === undefined) return NO_IRQ_LINE;
      const device = made.get(controller);
      const source = controller.kind.irqSource;
      if (device === undefined || source === undefined) throw new ConfigError(`devices: ${controller.kind.name} must drive harts to take device lines`);
      return source(device, spec.irq);
    };
    const directOf = (spec: DeviceSpec): DirectAttachment | undefined => {
      if (spec.kind.assigned !== true) return undefined;
      if (wiring.direct === undefined) throw new ConfigError(`devices: this machine cannot assign ${spec.kind.name} directly`);
      return wiring.direct(spec);
    };
    for (const spec of specs) {
      if (spec.kind.wiring !== "harts") made.set(spec, spec.kind.create({ ...base, irq: lineOf(spec), direct: directOf(spec) }, wiring.host));
    }
    this.instances = specs.map((spec) => ({ spec, device: made.get(spec)! }));
    for (const i of this.instances) {
      if (i.device.size !== i.spec.kind.window) throw new Error(`devices: ${i.spec.kind.name} made a ${i.device.size}-byte window, its kind says ${i.spec.kind.window}`);
    }
    for (const i of this.instances) wiring.bus.map(i.spec.base, i.device);
    for (const i of this.instances) {
      const poll = i.spec.kind.poll;
      if (poll !== undefined) this.pollers.push(() => poll(i.device));
    }
  }

  /** Host console input to every device that takes it (DeviceKind.input; the UART is fed on its own). */
  input(bytes: Uint8Array): void {
    for (const i of this.instances) i.spec.kind.input?.(i.device, bytes);
  }

  /** Lets every device that polls finish work flagged off the main thread (DeviceKind.poll); whether any did some. */
  poll(): boolean {
    let worked = false;
    for (let i = 0; i < this.pollers.length; i++) if (this.pollers[i]()) worked = true;
    return worked;
  }

  /** Every device back to its power-on state (a board reset). */
  reset(): void {
    for (const i of this.instances) i.spec.kind.reset(i.device);
  }

  /** Resolves once no device has work in flight off the main thread (see DeviceKind.quiesce). */
  async quiesce(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.spec.kind.quiesce?.(i.device)));
  }

  /** The first device of a kind, if the machine has one. */
  find<D extends MmioDevice>(kind: DeviceKind<D>): D | undefined {
    const i = this.instances.find((x) => x.spec.kind === kind);
    return i === undefined ? undefined : (i.device as D);
  }

  /** The first device of a kind the machine cannot run without. */
  require<D extends MmioDevice>(kind: DeviceKind<D>): D {
    const d = this.find(kind);
    if (d === undefined) throw new ConfigError(`devices: this machine needs a ${kind.name}`);
    return d;
  }
}
