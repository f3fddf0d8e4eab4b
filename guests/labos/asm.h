/* asm.h: the trap frame's layout for trapvec.S (struct trapframe in kernel.h). */
#ifndef LABOS_ASM_H
#define LABOS_ASM_H
#define TF_SEPC     (32 * 8)
#define TF_SSTATUS  (33 * 8)
#define TF_BYTES    (34 * 8)
#define BOOT_STACK  16384        /* each hart's stack while it boots, then its scheduler's */
#define NHART_ASM   8            /* = NHART */
#endif
