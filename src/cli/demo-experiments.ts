/*
 * The demo's two built-in experiments, as experiment-file values (the same
 * format as bench/experiments/*.yaml, validated by the same schema):
 * exit costs by handler place and wait policy, and I/O through each NIC.
 *
 * The I/O part is a table: one row per NIC kind, each with the guest that
 * drives it. Adding a NIC to the demo is adding a row here.
 */

const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";

/** A NIC the demo sends frames through: its --device word, and the guest that drives it (sending more frames than it can in the time given). */
interface DemoNic {
  readonly name: string;
  readonly device: string;
  readonly kernel: string;
  /** --bios for that guest: none (bare metal), hv (the hypervisor's SBI). */
  readonly firmware: string;
  /** Its command line; `${size}` is the frame size. */
  readonly append: string;
}

const DEMO_NICS: readonly DemoNic[] = [
  { name: "ne2000", device: "ne2000", kernel: "guests/bin/ne2000-test.elf", firmware: "none", append: "tx 100000000 ${size} 600000" },
  { name: "virtio-net", device: "virtio-net-device", kernel: "guests/bin/virtio-net-test.elf", firmware: "none", append: "tx 100000000 ${size} 600000" },
  { name: "assigned", device: "assigned-nic", kernel: "guests/bin/assigned-test.elf", firmware: "none", append: "tx 10000000 ${size}" },
];

/** Frame size of the I/O rows, bytes. */
const DEMO_FRAME = 64;
/** Seconds each NIC sends for. */
const DEMO_IO_SECONDS = 4;

/**
 * exitbench's iters= per wait policy, so each run takes about as long: an exit that sleeps and
 * wakes a thread costs tens of spinning ones. Each still times thousands of exits, after warm-ups.
 */
const DEMO_SCALE: Readonly<Record<string, number>> = { spin: 20, poll: 100, block: 400 };
/** --quick: this much less work in the exit runs (tests, slow machines); the I/O rows keep their time. */
const QUICK_FACTOR = 10;

/**
 * exitbench under the hypervisor for each --exit-handler and --wait, and natively on OpenSBI
 * when it is installed. The guest warms every operation up before timing it; iters= keeps each
 * run to a second or two.
 */
export function demoExitsExperiment(withNative: boolean, quick: boolean): unknown {
  const f = quick ? QUICK_FACTOR : 1;
  const modes = [
    ...(withNative ? [{ name: "native", virt: "none", firmware: OPENSBI, handler: "main", wait: "poll", iters: `1/${10 * f}` }] : []),
    ...["main", "vcpu"].flatMap((handler) =>
      ["spin", "poll", "block"].map((wait) => ({ name: `${handler}/${wait}`, virt: "trap", firmware: "hv", handler, wait, iters: `1/${DEMO_SCALE[wait]! * f}` })),
    ),
  ];
  return {
    name: "demo-exits",
    vms: [{ name: "vm0", virt: "${mode.virt}", kernel: "guests/bin/exitbench.elf", firmware: "${mode.firmware}", append: "iters=${mode.iters}", wait: "${mode.wait}", handler: "${mode.handler}" }],
    metrics: { parse: "exitbench" },
    timeout: 60,
    sweep: { mode: modes },
  };
}

/** Each NIC of DEMO_NICS sending to a host sink for a few seconds. */
export function demoIoExperiment(): unknown {
  return {
    name: "demo-io",
    vms: [{ name: "vm0", kernel: "${nic.kernel}", firmware: "${nic.firmware}", append: "${nic.append}", mem: "64M", devices: ["${nic.device},netdev=n0"] }],
    endpoints: [{ kind: "sink", nic: "vm0.n0" }],
    until: { duration: DEMO_IO_SECONDS },
    timeout: 60,
    sweep: { nic: DEMO_NICS.map((n) => ({ ...n })), size: [DEMO_FRAME] },
  };
}
