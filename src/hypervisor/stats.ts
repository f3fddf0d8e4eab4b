/*
 * Exit statistics: one counter per exit reason, with KVM's names where they
 * fit, kept in the vCPU's run page (Float64Arrays, one per writing thread, so
 * neither thread's counting moves a cache line the other is using) so the
 * vCPU thread counts without messages and anyone can read them. The names appear verbatim in
 * --stats, JSON results and the README. Round trips to the main thread
 * also have a latency: the worker times one in LATENCY_SAMPLE_EVERY of them
 * into an HDR histogram (vcpu-runner.ts).
 */

export const EXIT_STATS = [
  { name: "exits", doc: "every trap from the guest (handled anywhere)" },
  { name: "csr_exit", doc: "CSR instruction emulated against the virtual CSR file" },
  { name: "ecall_exit", doc: "ecall from the guest (SBI call or reflected system call)" },
  { name: "sbi_exit", doc: "SBI call served by the hypervisor (--bios hv)" },
  { name: "xret_exit", doc: "mret/sret emulated (the guest's return from trap)" },
  { name: "wfi_exit", doc: "wfi: the vCPU waited for a virtual interrupt" },
  { name: "sfence_exit", doc: "sfence.vma emulated" },
  { name: "mmio_exit_user", doc: "MMIO access from virtual U-mode, emulated by a device model" },
  { name: "mmio_exit_kernel", doc: "MMIO access from virtual S- or M-mode, emulated by a device model" },
  { name: "page_fault_exit", doc: "first touch of a guest RAM page: frame allocated and mapped" },
  { name: "instr_illegal_exits", doc: "illegal instruction reflected into the guest" },
  { name: "reflected_exceptions", doc: "exceptions reflected into the guest's trap vector (incl. illegal, ecall, faults)" },
  { name: "injected_interrupts", doc: "virtual interrupts delivered into the guest" },
  { name: "main_exits", doc: "exits that crossed to the hypervisor's main thread" },
  { name: "instructions", doc: "guest instructions retired" },
  { name: "swtlb_miss_exit", doc: "--mmu swtlb: a real TLB miss the guest's TLB cannot serve, reflected into its refill handler" },
  { name: "swtlb_write_exit", doc: "--mmu swtlb: the guest wrote its TLB (stlbindex, stlbrandom), emulated into its virtual TLB" },
  { name: "swtlb_flush_exit", doc: "--mmu swtlb: the guest flushed its TLB (stlbflush)" },
  { name: "swtlb_install", doc: "--mmu swtlb: a guest entry installed in the real TLB as VPN -> machine frame" },
  { name: "swtlb_hidden_refill", doc: "--mmu swtlb: a real miss served from the guest's virtual TLB, unseen by the guest" },
  { name: "swtlb_hv_fill", doc: "--mmu swtlb: a real miss while the guest runs untranslated, filled from the VM's guest-physical map" },
  { name: "swtlb_refused", doc: "--mmu swtlb: a guest entry naming a frame outside the VM's RAM map (or not yet backed): nothing installed" },
  { name: "swtlb_true_fault", doc: "--mmu swtlb: a page fault the guest's own entry causes, reflected into the guest" },
  { name: "pf_fixed", doc: "hidden fault: a guest page fault fixed by filling a shadow entry from the guest's own table" },
  { name: "pf_guest", doc: "true fault: the guest's table refuses the access; reflected into the guest" },
  { name: "mmu_shadow_zapped", doc: "shadow leaf entries dropped (guest sfence.vma, remote fences, recycling)" },
  { name: "mmu_table_built", doc: "shadow address spaces built (a new guest root, ASID and privilege view)" },
  { name: "mmu_table_kept", doc: "switches to a kept shadow address space: nothing rebuilt" },
  { name: "mmu_recycled", doc: "shadow address spaces recycled to stay within --shadow-pages" },
  { name: "mmu_pt_protected", doc: "--shadow-coherence wp: guest page-table pages newly write-protected (a walk went through them)" },
  { name: "mmu_pte_write", doc: "--shadow-coherence wp: guest stores to a write-protected page-table page, emulated; the shadow entries they changed zapped" },
  { name: "mmu_flooded", doc: "--shadow-coherence wp: page-table pages unshadowed (written 3 times with no walk between, or by an AMO/LR-SC/misaligned store)" },
  { name: "remote_tlb_flush", doc: "shootdowns sent: another vCPU asked to drop its shadow entries, acknowledged" },
  { name: "remote_tlb_flush_ns", doc: "time spent waiting for shootdown acknowledgements, ns" },
  { name: "hypercall_exit", doc: "--isa-variant nonvirt, paravirtual guest: a POPK hypercall (sstatus/mstatus access by ecall) served" },
  { name: "scan_pages", doc: "--nonvirt-fix scan: guest code pages scanned before they ran (first scans and rescans)" },
  { name: "scan_rescans", doc: "--nonvirt-fix scan: scans of a page scanned before and written since (self-modifying code)" },
  { name: "scan_patched_sites", doc: "--nonvirt-fix scan: sensitive instructions patched into trapping ones (over all scans)" },
  { name: "scan_patch_exit", doc: "--nonvirt-fix scan: a patched instruction trapped and its original was emulated" },
  { name: "scan_code_writes", doc: "--nonvirt-fix scan: guest stores to a scanned page: originals restored, page writable until it runs again" },
  { name: "scan_code_reads", doc: "--nonvirt-fix scan: guest loads from a patched page, served from the original bytes" },
  { name: "remote_tlb_flush_halted", doc: "shootdowns to a halted vCPU (wfi, stopped): not waited for, it flushes before it runs guest code" },
  { name: "ioeventfd_exit", doc: "a store to a registered notify register (virtio QueueNotify with a worker serving the queue), taken on the vCPU's thread: the worker kicked, no exit to the main thread" },
  { name: "poll_core_lost", doc: "--wait poll: exit waits whose spin lost its core to another thread, or spun its whole window in vain (a main thread that lost its own, or was busy); each such wait then blocks until its answer, and the next spins again" },
  { name: "wfi_spin_sleep", doc: "wfis in a spin loop (ending at once, the same wfi again and again): the vCPU slept up to 1 ms before each completed" },
  { name: "code_fence", doc: "fence.i on the vCPU (the guest's own, or a remote one): drops the decoded code other threads wrote since it was decoded" },
  { name: "code_sweeps", doc: "fence.i that looked for such code: some thread had written a page this VM has code on since the last look" },
  { name: "code_pages_dropped", doc: "decoded code pages dropped at a fence.i because another thread wrote them (device DMA, the hypervisor, another vCPU)" },
  { name: "code_flush", doc: "all of the vCPU's decoded code dropped at once (only without the VM's code-write log)" },
  { name: "host_cpu_samples", doc: "looks (every 100 ms or so) at the host cores this vCPU's thread and the main thread last ran on" },
  { name: "host_cpu_shared", doc: "looks that found both on one host core: every exit handed over by a context switch (--pin keeps them apart)" },
] as const;

export type ExitStatName = (typeof EXIT_STATS)[number]["name"];

/** Index of each counter in the run page's stats array. */
export const STAT: Readonly<Record<ExitStatName, number>> = Object.fromEntries(
  EXIT_STATS.map((s, i) => [s.name, i]),
) as Record<ExitStatName, number>;

/** The counters of one vCPU as a plain record: what its thread counted plus what the main thread did. */
export function readStats(page: { readonly stats: Float64Array; readonly mainStats: Float64Array }): Record<ExitStatName, number> {
  return Object.fromEntries(EXIT_STATS.map((s, i) => [s.name, page.stats[i] + page.mainStats[i]])) as Record<ExitStatName, number>;
}
