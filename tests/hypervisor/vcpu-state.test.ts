/*
 * The vCPU thread's state machine (src/hypervisor/vcpu-state.ts): one
 * transition function over typed events. The HSM rules it must keep: a
 * thread reaches Stopped only through Stopping (where it publishes STOPPED
 * after its last write), and leaves Stopped only by taking a hart_start.
 */

import { describe, expect, it } from "vitest";
import * as V from "../../src/hypervisor/vcpu-state.ts";

const PARKABLE: V.ParkableState[] = [
  { kind: "running" },
  { kind: "waiting" },
  { kind: "suspended" },
  { kind: "stopping" },
  { kind: "stopped" },
];
const STATES: V.VcpuState[] = [...PARKABLE, ...PARKABLE.map((then) => ({ kind: "paused", then }) as const), { kind: "finished", reason: "" }];
const EVENTS: V.VcpuEvent[] = [
  V.SLICE_DONE,
  V.WFI,
  V.SUSPEND,
  V.HART_STOP,
  V.PARKED,
  V.STARTED,
  V.WOKEN,
  V.IDLE,
  V.PAUSE,
  V.RESUME,
  V.VM_STOP,
  { kind: "fatal", reason: "paging" },
];

/** The next state, or "bug" where the event cannot happen in the state. */
function next(state: V.VcpuState, event: V.VcpuEvent): V.VcpuState | "bug" {
  try {
    return V.transition(state, event);
  } catch {
    return "bug";
  }
}

describe("vCPU state machine", () => {
  it.each<[V.VcpuState["kind"], V.VcpuEvent, V.VcpuState["kind"]]>([
    ["running", V.SLICE_DONE, "running"],
    ["running", V.WFI, "waiting"],
    ["running", V.SUSPEND, "suspended"],
    ["running", V.HART_STOP, "stopping"],
    ["stopping", V.PARKED, "stopped"],
    ["stopped", V.STARTED, "running"],
    ["waiting", V.WOKEN, "running"],
    ["suspended", V.WOKEN, "running"],
  ])("%s --%o--> %s", (from, event, to) => {
    const state = STATES.find((s) => s.kind === from)!;
    expect(V.transition(state, event).kind).toBe(to);
  });

  it("pause parks any live state and resume returns to it; a second pause changes nothing", () => {
    for (const state of PARKABLE) {
      const paused = V.transition(state, V.PAUSE);
      expect(paused).toEqual({ kind: "paused", then: state });
      expect(V.transition(paused, V.PAUSE)).toBe(paused);
      expect(V.transition(paused, V.IDLE)).toBe(paused);
      expect(V.transition(paused, V.RESUME)).toBe(state);
    }
  });

  it("vm-stop and fatal finish from every state; finished stays finished", () => {
    for (const state of STATES.filter((s) => s.kind !== "finished")) {
      expect(V.transition(state, V.VM_STOP)).toEqual({ kind: "finished", reason: "" });
      expect(V.transition(state, { kind: "fatal", reason: "paging" })).toEqual({ kind: "finished", reason: "paging" });
    }
    const done: V.VcpuState = { kind: "finished", reason: "x" };
    for (const event of EVENTS) expect(V.transition(done, event)).toBe(done);
  });

  it("an event a state cannot receive is a bug, not a guess", () => {
    expect(() => V.transition(V.STOPPED, V.SLICE_DONE)).toThrow(/"slice-done" cannot happen in state "stopped"/);
    expect(() => V.transition(V.RUNNING, V.STARTED)).toThrow(/cannot happen/);
    expect(() => V.transition(V.STOPPING, V.STARTED)).toThrow(/cannot happen/);
    expect(() => V.transition(V.RUNNING, V.RESUME)).toThrow(/cannot happen/);
  });

  it("HSM: Stopped is entered only from Stopping (after the last write), and left only by a start (or pause, or the VM's end)", () => {
    for (const state of STATES) {
      for (const event of EVENTS) {
        const to = next(state, event);
        if (to === "bug" || state.kind === "paused") continue;
        if (to.kind === "stopped" && state.kind !== "stopped") expect([state.kind, event.kind]).toEqual(["stopping", "parked"]);
        if (state.kind === "stopped" && to.kind !== "stopped") expect(["started", "pause", "vm-stop", "fatal"]).toContain(event.kind);
      }
    }
  });
});
