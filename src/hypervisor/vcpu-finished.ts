/*
 * The one message a vCPU thread posts (workers/vcpu.ts) when its loop
 * ends, read by the VM on the main thread. It lives here, beside both of
 * its users' layer, so that the hypervisor never imports from workers/.
 * Errors cross the thread as plain data (name, message, stack).
 */

export interface VcpuFinished {
  readonly popek: "vcpu-finished";
  readonly hartId: number;
  /** Why the vCPU stopped the VM, if it did (e.g. unsupported guest paging); empty otherwise. */
  readonly stopReason: string;
  readonly error?: { readonly name: string; readonly message: string; readonly stack?: string };
}
