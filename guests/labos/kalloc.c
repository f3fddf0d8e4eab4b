/*
 * kalloc.c: the physical page allocator, for every 4 KiB page of RAM between
 * the end of the kernel image and the end of RAM (dtb.c).
 *
 * Freed pages go on a list linked through their own first word (xv6). Pages
 * never used yet are not on it: they are handed out in address order from
 * `fresh` once the list is empty. So booting touches no page it does not
 * use, which matters under a hypervisor: touching all of RAM up front would
 * make the host back every guest page (and take an exit for each) before the
 * first program runs.
 *
 * kalloc hands out zeroed pages: a program must never see what a page held
 * before (another program's data), and page tables must start empty.
 */
#include "kernel.h"

extern char _end[];	/* s.ld: the first byte after the kernel image and .bss */

struct run {
	struct run *next;
};

static struct {
	struct spinlock lock;
	struct run *free;	/* pages freed since boot */
	u64 nfree;		/* on the list */
	u64 fresh;		/* the first page never handed out */
	u64 end;		/* the end of RAM */
} kmem;

void kinit(void)
{
	initlock(&kmem.lock, "kmem");
	kmem.fresh = PGROUNDUP((u64)_end);
	kmem.end = board.ram_base + board.ram_size;
	kprintf("labos: memory %lu MiB, %lu pages free\n", board.ram_size >> 20, kfree_pages());
}

void kfree(void *pa)
{
	u64 a = (u64)pa;

	if ((a & (PAGE_SIZE - 1)) || a < (u64)_end || a >= kmem.fresh)
		panic("kfree: not a page kalloc handed out");
	struct run *r = pa;
	acquire(&kmem.lock);
	r->next = kmem.free;
	kmem.free = r;
	kmem.nfree++;
	release(&kmem.lock);
}

/* A zeroed page, or 0 when memory is exhausted (callers must check). */
void *kalloc(void)
{
	acquire(&kmem.lock);
	struct run *r = kmem.free;
	if (r) {
		kmem.free = r->next;
		kmem.nfree--;
	} else if (kmem.fresh + PAGE_SIZE <= kmem.end) {
		r = (struct run *)kmem.fresh;
		kmem.fresh += PAGE_SIZE;
	}
	release(&kmem.lock);
	if (r)
		memset(r, 0, PAGE_SIZE);
	return r;
}

u64 kfree_pages(void)
{
	return kmem.nfree + (kmem.end - kmem.fresh) / PAGE_SIZE;
}
