/*
 * The experiment file's format, as a zod schema: one source of truth for
 * validation, for the types the runner reads, and (z.toJSONSchema) for the
 * format's documentation (`popek exp --schema`).
 *
 * This is the shape of one sweep point after its parameters are substituted
 * (sweep.ts): a VM's `vcpus: ${vcpus}` has become a number by the time this
 * schema sees it, so every point is checked with the same rules as a file
 * without a sweep.
 */

import { z } from "zod";

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
/** QEMU's memory sizes: 64M, 1G, 65536K (popek's --mem parser checks the rest). */
const MEM = /^\d+[KMG]?$/i;
/** popek run's --vcpus limit (run-trap.ts MAX_VCPUS); natively, harts. */
const MAX_VCPUS = 8;

const WAIT_WORDS = ["spin", "block", "poll"] as const;
const HANDLER_WORDS = ["main", "vcpu"] as const;

const vmSchema = z
  .strictObject({
    name: z.string().regex(NAME, "a name of letters, digits, - and _"),
    virt: z
      .enum(["trap", "hw", "none"])
      .default("trap")
      .describe("trap: deprivileged under the hypervisor; hw: the guest kernel in VS-mode (the H extension); none: the native board"),
    image: z.string().min(1).optional().describe("IMAGE as popek run takes it (with no firmware: runs from 0x80000000)"),
    kernel: z.string().min(1).optional().describe("--kernel PATH"),
    firmware: z.string().min(1).optional().describe("--bios hv|none|PATH (default as popek run: by the image)"),
    initrd: z.string().min(1).optional(),
    append: z.string().optional().describe("kernel command line (--append)"),
    mem: z.string().regex(MEM, "a size like 64M or 1G").default("64M"),
    vcpus: z.number().int().min(1).max(MAX_VCPUS).default(1).describe("vCPUs under trap, harts natively"),
    wait: z.enum(WAIT_WORDS).default("poll").describe("--wait: how a vCPU waits for the hypervisor"),
    handler: z.enum(HANDLER_WORDS).default("main").describe("--exit-handler: where exits are handled"),
    mmu: z.enum(["sv39", "swtlb"]).default("sv39"),
    pin: z
      .union([z.literal(true), z.string().regex(/^\d+(,\d+)*$/, "CPU numbers like 0,1")])
      .optional()
      .describe("--pin: true (the main thread on the first core, the vCPUs on the others), or the main thread's core then each vCPU's"),
    devices: z.array(z.string()).default([]).describe("--device words, e.g. ne2000,netdev=n0"),
    netdevs: z.array(z.string()).default([]).describe("--netdev words, e.g. switch,id=n0 (ids are per VM)"),
    drives: z.array(z.string()).default([]).describe("--drive words"),
    globals: z.array(z.string()).default([]).describe("--global words"),
  })
  .refine((vm) => vm.image === undefined || vm.kernel === undefined, { message: "give image or kernel, not both" })
  .refine((vm) => vm.pin === undefined || vm.virt !== "none", { message: "pin places the hypervisor's threads: it applies to virt trap or hw" });

function isRegExp(text: string): boolean {
  try {
    new RegExp(text, "m");
    return true;
  } catch {
    return false;
  }
}
const regExp = z.string().min(1).refine(isRegExp, "a valid regular expression");

const nicRef = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/, "VM.NETDEV, e.g. vm0.n0");

const endpointSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("sink"), nic: nicRef }),
  z.strictObject({
    kind: z.literal("source"),
    nic: nicRef,
    size: z.number().int().min(14).max(1514).default(64).describe("frame size in bytes"),
    rate: z.number().positive().default(1000).describe("frames per second"),
  }),
]);

const untilSchema = z.union([
  z.literal("exit").describe("until every VM has stopped by itself"),
  z.strictObject({ duration: z.number().positive().describe("seconds; then the VMs are stopped") }),
  z.strictObject({ output: regExp.describe("until a VM prints a line matching this regular expression") }),
]);

const metricsSchema = z.strictObject({
  parse: z.enum(["exitbench", "mmubench"]).optional().describe("a guest's own report: one ns-per-op column per benchmark"),
  patterns: z
    .record(z.string().regex(/^[a-z][a-z0-9_]*$/, "a column name of lower case letters, digits and _"), regExp)
    .default({})
    .describe("column: a regular expression over the guest's output whose first group is a number"),
});

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const experimentSchema = z
  .strictObject({
    name: z.string().regex(NAME, "a name of letters, digits, - and _"),
    description: z.string().optional(),
    vms: z.array(vmSchema).min(1),
    links: z.array(z.array(nicRef).min(2)).default([]).describe("NICs on one switch LAN of their own (--netdev switch)"),
    endpoints: z.array(endpointSchema).default([]).describe("host ends of NICs: a sink counts frames, a source sends them"),
    until: untilSchema.default("exit"),
    timeout: z.number().positive().default(120).describe("seconds per run; past it the run is recorded as failed"),
    repetitions: z.number().int().min(1).max(100).default(1),
    metrics: metricsSchema.default({ patterns: {} }),
    trace: z
      .boolean()
      .default(false)
      .describe("record every exit of the --virt trap VMs into OUT/traces/point-K-rep-R.trace (read it with popek trace)"),
    sweep: z
      .record(z.string(), z.array(z.union([scalar, z.record(z.string(), scalar)])).min(1))
      .default({})
      .describe("parameters and their values; every combination is a point; ${name} in any value takes the parameter (${name.field} for a mapping value)"),
  })
  .superRefine((e, ctx) => {
    const names = new Set<string>();
    e.vms.forEach((vm, i) => {
      if (names.has(vm.name)) ctx.addIssue({ code: "custom", path: ["vms", i, "name"], message: `a second VM named ${vm.name}`, input: vm.name });
      names.add(vm.name);
    });
    const check = (ref: string, path: (string | number)[]) => {
      if (!names.has(ref.split(".")[0]!)) ctx.addIssue({ code: "custom", path, message: `a NIC of one of the VMs (${[...names].join(", ")})`, input: ref });
    };
    e.links.forEach((link, i) => link.forEach((ref, j) => check(ref, ["links", i, j])));
    e.endpoints.forEach((ep, i) => check(ep.nic, ["endpoints", i, "nic"]));
  });

export type Experiment = z.output<typeof experimentSchema>;
export type VmSpec = Experiment["vms"][number];
export type EndpointSpec = Experiment["endpoints"][number];

/** The format as JSON Schema (draft 2020-12), for the README and editors. */
export function experimentJsonSchema(): unknown {
  return z.toJSONSchema(experimentSchema, { io: "input", unrepresentable: "any" });
}
