/*
 * htif.h: the riscv-tests tohost/fromhost convention (riscv-test-env).
 * tohost = (code << 1) | 1 ends the test: code 0 = pass, else fail(code).
 * Both words are 8-byte aligned in their own .tohost section.
 */
#ifndef GUESTS_HTIF_H
#define GUESTS_HTIF_H
#include "riscv.h"

#define HTIF_TOHOST_VALUE(code) (((code) << 1) | 1)

/* Write tohost, then spin until the host stops the hart. */
#define HTIF_REPORT(code)                       \
	li	t0, HTIF_TOHOST_VALUE(code);    \
	la	t1, tohost;                     \
	sd	t0, 0(t1);                      \
1:	j	1b

#define HTIF_SYMBOLS                            \
	.section .tohost, "aw", @progbits;      \
	.balign 8;                              \
	.globl tohost;                          \
	.type tohost, @object;                  \
	.size tohost, 8;                        \
tohost:	.dword 0;                               \
	.balign 8;                              \
	.globl fromhost;                        \
	.type fromhost, @object;                \
	.size fromhost, 8;                      \
fromhost: .dword 0
#endif
