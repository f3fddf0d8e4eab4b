/*
 * The choices of --nonvirt-fix, apart from the scanner that implements one
 * (code-scanner.ts): the command line checks the flag on every `popek run`,
 * and a native run should not load the hypervisor's scanner to do it.
 */

/** --nonvirt-fix: nothing (plain trap-and-emulate), or the code scanner. */
export const NONVIRT_FIXES = ["none", "scan"] as const;
export type NonvirtFix = (typeof NONVIRT_FIXES)[number];
