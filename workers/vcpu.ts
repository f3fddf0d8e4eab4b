/*
 * One guest vCPU: a worker thread running the machine's hart over the shared
 * machine memory (src/hypervisor/vcpu-runner.ts). The exit path is the run
 * page; the control plane (registers, latency) is comlink; how the run ended
 * travels as plain data in one last message.
 */

import * as Comlink from "comlink";
import { parentPort, workerData } from "node:worker_threads";
import { nodeEndpoint } from "../src/hypervisor/comlink-node.ts";
import type { VcpuFinished } from "../src/hypervisor/vcpu-finished.ts";
import { VcpuRunner, type VcpuConfig, type VcpuControl } from "../src/hypervisor/vcpu-runner.ts";
import { traceVcpu } from "../src/trace/vcpu-tracer.ts";
import { pinThisThread, unpinInherited } from "../src/host/affinity.ts";

const port = parentPort;
if (port === null) throw new Error("workers/vcpu.ts must run in a worker thread");
const config = workerData as VcpuConfig;
// First, before the thread runs guest code: a pinned vCPU's core, or (started by a pinned main thread) the process's cores back.
if (config.pinCpu !== undefined) pinThisThread(config.pinCpu);
else unpinInherited();
const runner = new VcpuRunner(config);
// A traced run puts the tracer in front of the runner's trap handlers; an untraced one has no trace code on its exit path.
if (config.trace !== undefined) traceVcpu(runner, config.trace, config.vmStartMs);
const control: VcpuControl = {
  pause: () => runner.pause(),
  resume: () => runner.resume(),
  registers: () => runner.registers(),
  setRegister: (reg, value) => runner.setRegister(reg, value),
  latency: () => runner.latency(),
};
Comlink.expose(control, nodeEndpoint(port));

try {
  await runner.run();
  const done: VcpuFinished = { popek: "vcpu-finished", hartId: config.hartId, stopReason: runner.stopReason };
  port.postMessage(done);
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  const done: VcpuFinished = {
    popek: "vcpu-finished",
    hartId: config.hartId,
    stopReason: "",
    error: { name: err.name, message: err.message, stack: err.stack },
  };
  port.postMessage(done);
}
