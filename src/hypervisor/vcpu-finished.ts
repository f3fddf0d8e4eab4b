/*
 * The one message a vCPU thread (workers/vcpu.ts) posts when its loop ends,
 * as plain data: the hypervisor reads it in vm.ts. Defined here, beside its
 * reader, so the hypervisor never imports the worker's entry module.
 */

export interface VcpuFinished {
  readonly popek: "vcpu-finished";
  readonly hartId: number;
  /** Why the vCPU stopped the VM, if it did (e.g. unsupported guest paging); empty otherwise. */
  readonly stopReason: string;
  readonly error?: { readonly name: string; readonly message: string; readonly stack?: string };
}
