/*
 * dtb.c: what labos learns from the device tree the firmware passes in a1
 * (DT spec v0.4; the walk itself is common/fdt.c). Nothing about the board
 * is hard-coded: RAM, the harts, the timebase, the ISA string (for Sstc),
 * the UART, the PLIC and its per-hart contexts, the virtio-mmio slots, the
 * NE2000 cards, the test finisher and the command line all come from here.
 *
 * Assumes the QEMU virt conventions the tree follows: #address-cells and
 * #size-cells are 2 at the root and on /soc, 1 and 0 on /cpus.
 */
#include "kernel.h"
#include "fdt.h"

#define IRQ_S_EXTERNAL 9	/* the cause number an S-mode PLIC context raises */
#define MAX_PHANDLES   (2 * NHART)

struct board board;

/* What the walk has seen of the node it is in. */
struct scan {
	int in_cpus, in_soc, in_memory, in_chosen;
	int cpu_hart;                        /* reg of the cpu@ node we are in */
	u32 intc_phandle[MAX_PHANDLES];      /* phandle of each hart's interrupt controller */
	int intc_hart[MAX_PHANDLES];
	int nintc;
	/* The /soc child being read. */
	const char *compat; u32 compat_len;
	u64 reg; u32 irq;
	const u8 *irqs_ext; u32 irqs_ext_len;
	/* The PLIC's interrupts-extended, resolved after the walk. */
	const u8 *plic_ext; u32 plic_ext_len;
};

static u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static u64 be64(const u8 *p)
{
	return (u64)be32(p) << 32 | be32(p + 4);
}

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Does the string list (compatible) hold s? */
static int has_string(const char *list, u32 len, const char *s)
{
	for (u32 i = 0; i < len; i += strlen(list + i) + 1)
		if (strcmp(list + i, s) == 0)
			return 1;
	return 0;
}

/* Does the ISA string name the extension (as "_sstc", after an underscore)? */
static int isa_has(const char *isa, const char *ext)
{
	for (; *isa; isa++)
		if (*isa == '_' && starts(isa + 1, ext))
			return 1;
	return 0;
}

static void soc_node_done(struct scan *s)
{
	if (s->compat == 0)
		return;
	if (has_string(s->compat, s->compat_len, "ns16550a")) {
		board.uart_base = s->reg;
		board.uart_irq = s->irq;
	} else if (has_string(s->compat, s->compat_len, "riscv,plic0") ||
		   has_string(s->compat, s->compat_len, "sifive,plic-1.0.0")) {
		board.plic_base = s->reg;
		s->plic_ext = s->irqs_ext;
		s->plic_ext_len = s->irqs_ext_len;
	} else if (has_string(s->compat, s->compat_len, "sifive,test0")) {
		board.finisher_base = s->reg;
	} else if (has_string(s->compat, s->compat_len, "virtio,mmio") &&
		   board.nvirtio < MAX_VIRTIO) {
		board.virtio_base[board.nvirtio] = s->reg;
		board.virtio_irq[board.nvirtio] = s->irq;
		board.nvirtio++;
	} else if (has_string(s->compat, s->compat_len, "popek,ne2000") &&
		   board.nne2000 < MAX_NE2000) {
		board.ne2000_base[board.nne2000] = s->reg;
		board.ne2000_irq[board.nne2000] = s->irq;
		board.nne2000++;
	} else if (has_string(s->compat, s->compat_len, "popek,assigned-nic") &&
		   board.nanic < MAX_ANIC) {
		board.anic_base[board.nanic++] = s->reg;	/* its interrupt is mip bit 16 (anic.c) */
	}
}

static void prop(struct scan *s, const struct fdt_event *ev)
{
	const char *n = ev->name;

	if (n == 0)
		return;
	if (s->in_memory && ev->depth == 2 && fdt_name_is(n, "reg") && ev->len >= 16) {
		board.ram_base = be64(ev->value);
		board.ram_size = be64(ev->value + 8);
	} else if (s->in_chosen && fdt_name_is(n, "bootargs")) {
		if (ev->len <= sizeof(board.bootargs))
			memcpy(board.bootargs, ev->value, ev->len);
		else
			board.bootargs_too_long = 1;
	} else if (s->in_cpus && ev->depth == 2 && fdt_name_is(n, "timebase-frequency")) {
		board.timebase = be32(ev->value);
	} else if (s->in_cpus && ev->depth == 3 && fdt_name_is(n, "reg")) {
		s->cpu_hart = (int)be32(ev->value);
	} else if (s->in_cpus && ev->depth == 3 && fdt_name_is(n, "riscv,isa")) {
		board.sstc = isa_has((const char *)ev->value, "sstc");
	} else if (s->in_cpus && ev->depth == 4 && fdt_name_is(n, "phandle") && s->nintc < MAX_PHANDLES) {
		s->intc_phandle[s->nintc] = be32(ev->value);
		s->intc_hart[s->nintc++] = s->cpu_hart;
	} else if (s->in_soc && ev->depth == 3) {
		if (fdt_name_is(n, "compatible"))
			s->compat = (const char *)ev->value, s->compat_len = ev->len;
		else if (fdt_name_is(n, "reg") && ev->len >= 8)
			s->reg = be64(ev->value);
		else if (fdt_name_is(n, "interrupts") && ev->len >= 4)
			s->irq = be32(ev->value);
		else if (fdt_name_is(n, "interrupts-extended"))
			s->irqs_ext = ev->value, s->irqs_ext_len = ev->len;
	}
}

static int visit(const struct fdt_event *ev, void *ctx)
{
	struct scan *s = ctx;

	if (ev->kind == FDT_EVENT_BEGIN_NODE && ev->depth == 2) {
		s->in_cpus = fdt_name_is(ev->name, "cpus");
		s->in_soc = fdt_name_is(ev->name, "soc");
		s->in_chosen = fdt_name_is(ev->name, "chosen");
		s->in_memory = starts(ev->name, "memory@");
	} else if (ev->kind == FDT_EVENT_BEGIN_NODE && ev->depth == 3 && s->in_cpus) {
		s->cpu_hart = -1;
		if (starts(ev->name, "cpu@"))
			board.harts++;
	} else if (ev->kind == FDT_EVENT_BEGIN_NODE && ev->depth == 3 && s->in_soc) {
		s->compat = 0, s->reg = 0, s->irq = 0, s->irqs_ext = 0, s->irqs_ext_len = 0;
	} else if (ev->kind == FDT_EVENT_END_NODE && ev->depth == 3 && s->in_soc) {
		soc_node_done(s);
	} else if (ev->kind == FDT_EVENT_END_NODE && ev->depth == 2) {
		s->in_cpus = s->in_soc = s->in_chosen = s->in_memory = 0;
	} else if (ev->kind == FDT_EVENT_PROP) {
		prop(s, ev);
	}
	return 0;
}

/*
 * The PLIC's interrupts-extended lists <phandle irq> per context, in
 * context order; the context whose pair names a hart's controller with
 * irq 9 (S external) is that hart's S-mode context.
 */
static void plic_contexts(struct scan *s)
{
	for (int h = 0; h < NHART; h++)
		board.plic_ctx[h] = -1;
	for (u32 ctx = 0; (ctx + 1) * 8 <= s->plic_ext_len; ctx++) {
		u32 ph = be32(s->plic_ext + ctx * 8), irq = be32(s->plic_ext + ctx * 8 + 4);
		for (int i = 0; i < s->nintc; i++)
			if (s->intc_phandle[i] == ph && irq == IRQ_S_EXTERNAL &&
			    s->intc_hart[i] >= 0 && s->intc_hart[i] < NHART)
				board.plic_ctx[s->intc_hart[i]] = (int)ctx;
	}
}

void dtb_parse(const void *fdt)
{
	static struct scan s;

	if (fdt_walk(fdt, visit, &s) < 0)
		panic("dtb_parse: the device tree is not a sane FDT");
	plic_contexts(&s);
	if (board.ram_size == 0 || board.harts == 0 || board.timebase == 0)
		panic("dtb_parse: no memory, cpus or timebase in the device tree");
	if (board.harts > NHART)
		board.harts = NHART;	/* the rest stay stopped */
}
