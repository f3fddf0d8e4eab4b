/*
 * plic.c: the platform-level interrupt controller (RISC-V PLIC spec 1.0).
 *
 * Each device line gets priority 1; the boot hart's S-mode context (its
 * number comes from the device tree, dtb.c) enables the lines of the
 * devices labos drives, with threshold 0. The other harts' contexts enable
 * nothing: one hart serving all device interrupts keeps the drivers simple,
 * and these devices are far from needing more.
 *
 * A hart takes an S external interrupt, claims the line (the PLIC answers
 * the highest pending one, or 0), runs the driver and completes it.
 */
#include "kernel.h"

#define PLIC_PRIORITY(irq)   (board.plic_base + 4 * (irq))
#define PLIC_ENABLE(ctx)     (board.plic_base + 0x2000 + 0x80 * (ctx))
#define PLIC_THRESHOLD(ctx)  (board.plic_base + 0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx)      (board.plic_base + 0x200004 + 0x1000 * (ctx))

static volatile u32 *reg(u64 addr)
{
	return (volatile u32 *)addr;
}

static int my_context(void)
{
	int ctx = board.plic_ctx[hartid()];

	if (ctx < 0)
		panic("plic: no S-mode context for this hart in the device tree");
	return ctx;
}

/* Turns a line on, at priority 1, in the boot hart's context. */
void plic_enable(u32 irq)
{
	int ctx = board.plic_ctx[boot_hart];

	*reg(PLIC_PRIORITY(irq)) = 1;
	*reg(PLIC_ENABLE(ctx) + 4 * (irq / 32)) |= 1u << (irq % 32);
}

void plic_init(void)
{
	if (board.plic_base == 0)
		panic("plic_init: no PLIC in the device tree");
	plic_enable(board.uart_irq);
}

void plic_inithart(void)
{
	*reg(PLIC_THRESHOLD(my_context())) = 0;
}

int plic_claim(void)
{
	return (int)*reg(PLIC_CLAIM(my_context()));
}

void plic_complete(int irq)
{
	*reg(PLIC_CLAIM(my_context())) = (u32)irq;
}
