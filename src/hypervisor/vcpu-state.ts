/*
 * The vCPU thread's life as one explicit state machine (as Firecracker's
 * vcpu thread is): the runner (vcpu-runner.ts) performs the activity of the
 * state it is in and reports what happened as a typed event; `transition`
 * alone decides the next state. No other flag says what the thread is doing.
 *
 *                      started (took START_PENDING)
 *        ┌─────────────────────────────────────────────┐
 *        │                                             ▼
 *     Stopped ◀── parked ── Stopping ◀── hart-stop ── Running ── wfi ──▶ Waiting
 *                           (publishes                  ▲  │               │
 *                            STOPPED)                   │  └─ suspend ─▶ Suspended
 *                                                       └──── woken ───────┘
 *
 *   any state ── pause ──▶ Paused(then) ── resume ──▶ then
 *   any state ── vm-stop | fatal ──▶ Finished
 *   any state ── idle ──▶ the same state (a bounded wait ended; look again)
 *
 * Stopping exists so that publishing STOPPED is a step of its own, taken
 * only after the Running activity has written the vCPU's last pc and
 * registers: from that store on, a hart_start may write them (peers.ts).
 */

export type ParkableState =
  /** Guest code runs, one slice at a time. */
  | { readonly kind: "running" }
  /** wfi: sleeping until a virtual interrupt is pending (it may end early, as the spec allows). */
  | { readonly kind: "waiting" }
  /** HSM hart_suspend: sleeping until an interrupt is pending; HSM state SUSPENDED meanwhile. */
  | { readonly kind: "suspended" }
  /** HSM hart_stop accepted (STOP_PENDING): the thread has written its last register and now publishes STOPPED. */
  | { readonly kind: "stopping" }
  /** HSM STOPPED: parked until a hart_start has written the new registers and published START_PENDING. */
  | { readonly kind: "stopped" };

export type VcpuState =
  | ParkableState
  /** The control plane paused the thread at a slice boundary; `then` is where resume returns. */
  | { readonly kind: "paused"; readonly then: ParkableState }
  /** The loop has ended; `reason` is why this vCPU stopped the VM, or "" when the VM was stopped. */
  | { readonly kind: "finished"; readonly reason: string };

export type VcpuEvent =
  /** Running: the slice ended with nothing to change (its budget, an interrupt to deliver, a yield). */
  | { readonly kind: "slice-done" }
  /** Running: the guest executed wfi (or an exit answered "wait"). */
  | { readonly kind: "wfi" }
  /** Running: the guest's hart_suspend was accepted. */
  | { readonly kind: "suspend" }
  /** Running: the guest's hart_stop was accepted (HSM STOP_PENDING). */
  | { readonly kind: "hart-stop" }
  /** Stopping: STOPPED is published. */
  | { readonly kind: "parked" }
  /** Stopped: a hart_start's registers are in place, and the HSM state is STARTED. */
  | { readonly kind: "started" }
  /** Waiting, Suspended: what the vCPU waited for has come. */
  | { readonly kind: "woken" }
  /** A bounded wait ended with nothing new: stay, and let the thread's event loop run. */
  | { readonly kind: "idle" }
  | { readonly kind: "pause" }
  | { readonly kind: "resume" }
  /** The hypervisor stopped the VM. */
  | { readonly kind: "vm-stop" }
  /** This vCPU must stop the VM (e.g. the guest turned on paging the hypervisor cannot shadow yet). */
  | { readonly kind: "fatal"; readonly reason: string };

// The states and events without data, built once (the loop passes through them every slice).
export const RUNNING: VcpuState = { kind: "running" };
const WAITING: VcpuState = { kind: "waiting" };
const SUSPENDED: VcpuState = { kind: "suspended" };
export const STOPPING: VcpuState = { kind: "stopping" };
export const STOPPED: VcpuState = { kind: "stopped" };

export const SLICE_DONE: VcpuEvent = { kind: "slice-done" };
export const WFI: VcpuEvent = { kind: "wfi" };
export const SUSPEND: VcpuEvent = { kind: "suspend" };
export const HART_STOP: VcpuEvent = { kind: "hart-stop" };
export const PARKED: VcpuEvent = { kind: "parked" };
export const STARTED: VcpuEvent = { kind: "started" };
export const WOKEN: VcpuEvent = { kind: "woken" };
export const IDLE: VcpuEvent = { kind: "idle" };
export const PAUSE: VcpuEvent = { kind: "pause" };
export const RESUME: VcpuEvent = { kind: "resume" };
export const VM_STOP: VcpuEvent = { kind: "vm-stop" };

/**
 * The next state after `event` in `state`. An event a state cannot receive
 * is a bug in popek (the runner reports only what its activity produces),
 * so it throws rather than guess.
 */
export function transition(state: VcpuState, event: VcpuEvent): VcpuState {
  if (state.kind === "finished") return state;
  switch (event.kind) {
    case "vm-stop":
      return { kind: "finished", reason: "" };
    case "fatal":
      return { kind: "finished", reason: event.reason };
    case "idle":
      return state;
    case "pause":
      return state.kind === "paused" ? state : { kind: "paused", then: state };
    case "resume":
      if (state.kind === "paused") return state.then;
      break;
    case "slice-done":
      if (state.kind === "running") return state;
      break;
    case "wfi":
      if (state.kind === "running") return WAITING;
      break;
    case "suspend":
      if (state.kind === "running") return SUSPENDED;
      break;
    case "hart-stop":
      if (state.kind === "running") return STOPPING;
      break;
    case "parked":
      if (state.kind === "stopping") return STOPPED;
      break;
    case "started":
      if (state.kind === "stopped") return RUNNING;
      break;
    case "woken":
      if (state.kind === "waiting" || state.kind === "suspended") return RUNNING;
      break;
  }
  throw new Error(`vcpu: event "${event.kind}" cannot happen in state "${state.kind}"`);
}
