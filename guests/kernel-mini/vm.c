/*
 * vm.c: step 6 — processes in separate Sv39 address spaces, created by a
 * fork that copies the parent's private pages (xv6's uvmcopy in miniature).
 *
 * Every address space has the same kernel half and its own user half:
 *
 *   0x8000_0000 .. 1 GiB   RAM, identity, RWX, S only (a gigapage): the
 *                          kernel, its trap stack, the page pool
 *   USER_TEXT + off        this image's text, rodata and data, U|R|X: the
 *                          user programs (position-independent, medany)
 *   USER_DATA              one private data page, U|R|W
 *   USER_STACK             one private stack page, U|R|W
 *
 * A fork copies USER_DATA and USER_STACK into fresh pages and shares the
 * text. The processes take turns at SYS_YIELD and SYS_EXIT (round robin);
 * a switch saves the trap frame, loads the next process's, and writes satp
 * followed by sfence.vma. When the last one exits, paging goes off and
 * run_user returns to the step.
 */
#include "kernel.h"

#define POOL_PAGES   40
#define NPROC        4
#define VPN(va, l)   (((va) >> (12 + 9 * (l))) & 0x1ff)
#define PTE_PA(pte)  (((pte) >> 10) << PAGE_SHIFT)
#define PTE_OF(pa, flags) ((((unsigned long)(pa)) >> PAGE_SHIFT) << 10 | (flags))
#define KERNEL_GIGA  (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
#define USER_RX      (PTE_V | PTE_R | PTE_X | PTE_U | PTE_A)
#define USER_RW      (PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D)

enum pstate { UNUSED, RUNNABLE, DONE };

struct proc {
	enum pstate state;
	unsigned long *root;
	long status;
	struct trapframe tf;
};

static unsigned long pool[POOL_PAGES][512] __attribute__((aligned(4096)));
static int pool_used;
static struct proc procs[NPROC];
static int current;
int vm_active;

extern char _start[], __bss_start[];

static unsigned long *page_alloc(void)
{
	if (pool_used >= POOL_PAGES)
		fail("vm: out of pages");
	unsigned long *p = pool[pool_used++];
	for (int i = 0; i < 512; i++)
		p[i] = 0;
	return p;
}

/* The leaf PTE slot for va, creating tables on the way (bounded by the three levels). */
static unsigned long *walk(unsigned long *root, unsigned long va)
{
	unsigned long *table = root;

	for (int level = 2; level > 0; level--) {
		unsigned long *pte = &table[VPN(va, level)];
		if (!(*pte & PTE_V))
			*pte = PTE_OF(page_alloc(), PTE_V);
		table = (unsigned long *)PTE_PA(*pte);
	}
	return &table[VPN(va, 0)];
}

static unsigned long *new_space(void)
{
	unsigned long *root = page_alloc();

	root[VPN(DRAM_BASE, 2)] = PTE_OF(DRAM_BASE, KERNEL_GIGA);
	for (unsigned long pa = (unsigned long)_start; pa < (unsigned long)__bss_start; pa += PAGE_SIZE)
		*walk(root, USER_TEXT + (pa - (unsigned long)_start)) = PTE_OF(pa, USER_RX);
	return root;
}

/* A trap frame copy, word by word (no libc here: a struct copy may become memcpy). */
static void copy_tf(struct trapframe *to, const struct trapframe *from)
{
	unsigned long *t = (unsigned long *)to;
	const unsigned long *f = (const unsigned long *)from;

	for (unsigned i = 0; i < sizeof(*to) / sizeof(unsigned long); i++)
		t[i] = f[i];
}

static void switch_to(int p, struct trapframe *tf)
{
	current = p;
	copy_tf(tf, &procs[p].tf);
	csr_write(CSR_SATP, SATP_MODE_SV39 | ((unsigned long)procs[p].root >> PAGE_SHIFT));
	__asm__ volatile ("sfence.vma" ::: "memory");
}

/* The next runnable process after the current one, or -1. */
static int next_runnable(void)
{
	for (int i = 1; i <= NPROC; i++) {
		int p = (current + i) % NPROC;
		if (procs[p].state == RUNNABLE)
			return p;
	}
	return -1;
}

/* SYS_FORK: a copy of the caller with its own data and stack pages; 0 in the child, its pid in the parent. */
long vm_fork(struct trapframe *tf)
{
	int c = 0;

	while (c < NPROC && procs[c].state != UNUSED)
		c++;
	if (c == NPROC)
		return -1;
	unsigned long *root = new_space();
	static const unsigned long private_pages[] = { USER_DATA, USER_STACK };
	for (unsigned i = 0; i < sizeof(private_pages) / sizeof(private_pages[0]); i++) {
		const unsigned long *from = (const unsigned long *)PTE_PA(*walk(procs[current].root, private_pages[i]));
		unsigned long *to = page_alloc();
		for (int w = 0; w < 512; w++)
			to[w] = from[w];
		*walk(root, private_pages[i]) = PTE_OF(to, USER_RW);
	}
	procs[c].root = root;
	copy_tf(&procs[c].tf, tf);
	procs[c].tf.x[REG_A0] = 0;
	procs[c].state = RUNNABLE;
	return c + 1;
}

/* SYS_YIELD: the next process runs; returns the a0 the resumed process will see (0 for a yield). */
long vm_yield(struct trapframe *tf)
{
	tf->x[REG_A0] = 0;
	copy_tf(&procs[current].tf, tf);
	int next = next_runnable();
	if (next >= 0)
		switch_to(next, tf);
	return (long)tf->x[REG_A0];
}

/* SYS_EXIT of a paged process: the next one runs, or (the last) paging goes off and the step resumes. */
long vm_exit(struct trapframe *tf, long status)
{
	procs[current].status = status;
	procs[current].state = DONE;
	int next = next_runnable();
	if (next >= 0) {
		switch_to(next, tf);
		return (long)tf->x[REG_A0];
	}
	csr_write(CSR_SATP, 0);
	__asm__ volatile ("sfence.vma" ::: "memory");
	vm_active = 0;
	user_return(EXIT_OK);
}

void vm_step(void)
{
	unsigned long *root = new_space();

	*walk(root, USER_DATA) = PTE_OF(page_alloc(), USER_RW);
	*walk(root, USER_STACK) = PTE_OF(page_alloc(), USER_RW);
	procs[0].state = RUNNABLE;
	procs[0].root = root;
	current = 0;
	vm_active = 1;
	csr_write(CSR_SATP, SATP_MODE_SV39 | ((unsigned long)root >> PAGE_SHIFT));
	__asm__ volatile ("sfence.vma" ::: "memory");
	unsigned long entry = USER_TEXT + ((unsigned long)user_forker - (unsigned long)_start);
	if (run_user_sp((void (*)(unsigned long))entry, 0, USER_STACK + PAGE_SIZE) != EXIT_OK)
		fail("vm: the processes did not end");
	for (int p = 0; p < VM_PROCS; p++) {
		if (procs[p].state != DONE || procs[p].status != VM_BASE + 1 + p)
			fail("vm: a process saw another's memory, or lost its own");
	}
	kputs("kernel-mini: 3 processes in separate address spaces, fork copied their pages\n");
}
