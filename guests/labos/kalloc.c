/*
 * kalloc.c: the physical page allocator. Every free 4 KiB page of RAM
 * between the end of the kernel image and the end of RAM (dtb.c) is on one
 * list, linked through its own first word. kalloc hands out zeroed pages:
 * a program must never see what a page held before (another program's data),
 * and page tables must start empty.
 */
#include "kernel.h"

extern char _end[];	/* s.ld: the first byte after the kernel image and .bss */

struct run {
	struct run *next;
};

static struct {
	struct spinlock lock;
	struct run *free;
	u64 nfree;
} kmem;

static u64 ram_end;

void kinit(void)
{
	initlock(&kmem.lock, "kmem");
	ram_end = board.ram_base + board.ram_size;
	for (u64 pa = PGROUNDUP((u64)_end); pa + PAGE_SIZE <= ram_end; pa += PAGE_SIZE)
		kfree((void *)pa);
	kprintf("labos: memory %lu MiB, %lu pages free\n", board.ram_size >> 20, kmem.nfree);
}

void kfree(void *pa)
{
	u64 a = (u64)pa;

	if ((a & (PAGE_SIZE - 1)) || a < (u64)_end || a >= ram_end)
		panic("kfree: not a page of free RAM");
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
	}
	release(&kmem.lock);
	if (r)
		memset(r, 0, PAGE_SIZE);
	return r;
}

u64 kfree_pages(void)
{
	return kmem.nfree;
}
