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
 * the highest pending one, or 0), runs the handler the driver registered
 * for it and completes it. The table keeps trap.c ignorant of the drivers.
 */
#include "kernel.h"

#define PLIC_PRIORITY(irq)   (board.plic_base + 4 * (irq))
#define PLIC_ENABLE(ctx)     (board.plic_base + 0x2000 + 0x80 * (ctx))
#define PLIC_THRESHOLD(ctx)  (board.plic_base + 0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx)      (board.plic_base + 0x200004 + 0x1000 * (ctx))
#define NIRQ                 64	/* sources labos can serve (the lab board uses 1..14) */

static struct {
	void (*fn)(void *arg);
	void *arg;
} handlers[NIRQ];

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
static void plic_enable(u32 irq)
{
	int ctx = board.plic_ctx[boot_hart];

	*reg(PLIC_PRIORITY(irq)) = 1;
	*reg(PLIC_ENABLE(ctx) + 4 * (irq / 32)) |= 1u << (irq % 32);
}

void plic_init(void)
{
	if (board.plic_base == 0)
		panic("plic_init: no PLIC in the device tree");
	plic_register(board.uart_irq, console_intr, 0);
}

/* A driver's handler for its line (at boot, before interrupts are on); the line is enabled. */
void plic_register(u32 irq, void (*fn)(void *arg), void *arg)
{
	if (irq == 0 || irq >= NIRQ)
		panic("plic_register: interrupt number out of range");
	handlers[irq].fn = fn;
	handlers[irq].arg = arg;
	plic_enable(irq);
}

void plic_inithart(void)
{
	*reg(PLIC_THRESHOLD(my_context())) = 0;
}

/* An S external interrupt: claim the line, run its handler, complete it. */
void plic_intr(void)
{
	u32 irq = *reg(PLIC_CLAIM(my_context()));

	if (irq == 0)
		return;	/* another context claimed it first */
	if (irq < NIRQ && handlers[irq].fn)
		handlers[irq].fn(handlers[irq].arg);
	*reg(PLIC_CLAIM(my_context())) = irq;
}
