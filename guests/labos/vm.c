/*
 * vm.c: Sv39 page tables (priv spec 4.4).
 *
 * The kernel map is three kinds of 1 GiB leaves in the root table, all
 * global (G) and without U: devices at 0x0 and RAM at 0x8000_0000 onwards,
 * each mapped to the same physical address, so the kernel runs at the
 * addresses it was linked at and reaches any page by its physical address.
 * Big leaves keep the map to a handful of entries and the kernel's TLB
 * footprint tiny.
 *
 * A process's root table starts as a copy of the kernel's root, so the
 * kernel stays mapped while the process runs (a trap needs no satp switch)
 * and U-mode still cannot touch it (no U bit). The process owns root entry
 * 1 only, the gigabyte at USER_BASE, filled with 4 KiB pages.
 */
#include "kernel.h"

#define PX(level, va)  (((va) >> (PAGE_SHIFT + 9 * (level))) & 0x1ff)
#define PTE2PA(pte)    (((pte) >> PTE_PPN_SHIFT) << PAGE_SHIFT)
#define PA2PTE(pa)     (((pa) >> PAGE_SHIFT) << PTE_PPN_SHIFT)
#define GIGA           (1UL << 30)
#define USER_ROOT_SLOT PX(2, USER_BASE)

static pte_t *kernel_root;
u64 asid_max;	/* largest ASID satp keeps (0: no ASIDs, flush on every switch) */

u64 satp_for(pte_t *root, u64 asid)
{
	return SATP_MODE_SV39 | (asid << 44) | ((u64)root >> PAGE_SHIFT);
}

/* Builds the kernel's root table: devices and RAM as global 1 GiB leaves. */
void kvm_init(void)
{
	kernel_root = kalloc();
	if (!kernel_root)
		panic("kvm_init: no page for the root table");
	u64 kflags = PTE_V | PTE_G | PTE_A | PTE_D;
	kernel_root[0] = PA2PTE(0UL) | kflags | PTE_R | PTE_W;
	for (u64 pa = board.ram_base & ~(GIGA - 1); pa < board.ram_base + board.ram_size; pa += GIGA) {
		if (PX(2, pa) == USER_ROOT_SLOT)
			panic("kvm_init: RAM overlaps the user gigabyte");
		kernel_root[PX(2, pa)] = PA2PTE(pa) | kflags | PTE_R | PTE_W | PTE_X;
	}
}

/* Turns paging on with the kernel map; learns how many ASID bits satp keeps (WARL). */
void kvm_inithart(void)
{
	csr_write(CSR_SATP, satp_for(kernel_root, 0xffff));
	asid_max = (csr_read(CSR_SATP) >> 44) & 0xffff;
	csr_write(CSR_SATP, satp_for(kernel_root, 0));
	__asm__ volatile ("sfence.vma zero, zero" ::: "memory");
}

u64 kernel_satp(void)
{
	return satp_for(kernel_root, 0);
}

pte_t *uvm_create(void)
{
	pte_t *root = kalloc();

	if (root)
		memcpy(root, kernel_root, PAGE_SIZE);
	return root;
}

/* The leaf PTE for a user va, making the tables on the way if alloc; 0 if absent or out of memory. */
pte_t *uvm_walk(pte_t *root, u64 va, int alloc)
{
	if (va < USER_BASE || va >= USER_TOP)
		return 0;
	pte_t *table = root;
	for (int level = 2; level > 0; level--) {
		pte_t *pte = &table[PX(level, va)];
		if (*pte & PTE_V) {
			table = (pte_t *)PTE2PA(*pte);
			continue;
		}
		if (!alloc || (table = kalloc()) == 0)
			return 0;
		*pte = PA2PTE((u64)table) | PTE_V;
	}
	return &table[PX(0, va)];
}

/* Maps one page; -1 if out of memory. A and D are preset: no hardware update or fault needed. */
int uvm_map(pte_t *root, u64 va, u64 pa, u64 perm)
{
	pte_t *pte = uvm_walk(root, va, 1);

	if (!pte)
		return -1;
	if (*pte & PTE_V)
		panic("uvm_map: remap");
	*pte = PA2PTE(pa) | perm | PTE_V | PTE_A | PTE_D;
	return 0;
}

/* Maps fresh zeroed pages for [USER_BASE+oldsz, USER_BASE+newsz); returns newsz, or 0 if out of memory. */
u64 uvm_grow(pte_t *root, u64 oldsz, u64 newsz)
{
	for (u64 a = PGROUNDUP(oldsz); a < newsz; a += PAGE_SIZE) {
		void *page = kalloc();
		if (!page)
			return 0;
		if (uvm_map(root, USER_BASE + a, (u64)page, PTE_R | PTE_W | PTE_X | PTE_U) < 0) {
			kfree(page);
			return 0;
		}
	}
	return newsz;
}

static int is_shared(u64 va)
{
	return va == USER_SHARED;
}

/* Unmaps and frees the pages of [newsz, oldsz) that were touched; the caller flushes the TLB. */
u64 uvm_shrink(pte_t *root, u64 oldsz, u64 newsz)
{
	for (u64 a = PGROUNDUP(newsz); a < PGROUNDUP(oldsz); a += PAGE_SIZE) {
		pte_t *pte = uvm_walk(root, USER_BASE + a, 0);
		if (pte && (*pte & PTE_V)) {
			kfree((void *)PTE2PA(*pte));
			*pte = 0;
		}
	}
	return newsz;
}

/*
 * Calls fn(va, pte, arg) for every valid leaf of the user gigabyte; stops
 * at the first negative return. Two table levels below the root, each
 * bounded by 512 entries.
 */
static int for_each_user_leaf(pte_t *root, int (*fn)(u64, pte_t *, void *), void *arg)
{
	pte_t l1e = root[USER_ROOT_SLOT];

	if (!(l1e & PTE_V))
		return 0;
	pte_t *l1 = (pte_t *)PTE2PA(l1e);
	for (u64 i = 0; i < 512; i++) {
		if (!(l1[i] & PTE_V))
			continue;
		pte_t *l0 = (pte_t *)PTE2PA(l1[i]);
		for (u64 j = 0; j < 512; j++) {
			u64 va = USER_BASE + (i << 21) + (j << 12);
			if ((l0[j] & PTE_V) && fn(va, &l0[j], arg) < 0)
				return -1;
		}
	}
	return 0;
}

/* fork: the child gets a copy of every page, and the same shared page. */
static int copy_leaf(u64 va, pte_t *pte, void *arg)
{
	pte_t *to = arg;
	u64 pa = PTE2PA(*pte), perm = *pte & (PTE_R | PTE_W | PTE_X | PTE_U);

	if (is_shared(va))
		return uvm_map(to, va, pa, perm);
	void *page = kalloc();
	if (!page)
		return -1;
	memcpy(page, (void *)pa, PAGE_SIZE);
	if (uvm_map(to, va, (u64)page, perm) < 0) {
		kfree(page);
		return -1;
	}
	return 0;
}

int uvm_copy(pte_t *from, pte_t *to)
{
	return for_each_user_leaf(from, copy_leaf, to);
}

static int free_leaf(u64 va, pte_t *pte, void *arg)
{
	(void)arg;
	if (!is_shared(va))
		kfree((void *)PTE2PA(*pte));
	*pte = 0;
	return 0;
}

/* Frees every user page (not the shared one), the user tables and the root. */
void uvm_free(pte_t *root)
{
	for_each_user_leaf(root, free_leaf, 0);
	pte_t l1e = root[USER_ROOT_SLOT];
	if (l1e & PTE_V) {
		pte_t *l1 = (pte_t *)PTE2PA(l1e);
		for (int i = 0; i < 512; i++)
			if (l1[i] & PTE_V)
				kfree((void *)PTE2PA(l1[i]));
		kfree(l1);
	}
	kfree(root);
}

/*
 * Is [va, va+len) user memory the caller may read (write: and write)? A heap
 * page not yet touched is filled in first (trap.c's page fault path), so a
 * system call may be handed a buffer the program never touched itself.
 */
int uvm_check(pte_t *root, u64 va, u64 len, int write)
{
	if (va < USER_BASE || va >= USER_TOP || len > USER_TOP - va)
		return 0;
	for (u64 a = PGROUNDDOWN(va); a < va + len; a += PAGE_SIZE) {
		pte_t *pte = uvm_walk(root, a, 0);
		if ((!pte || !(*pte & PTE_V)) && fault_in(myproc(), a) < 0)
			return 0;
		pte = uvm_walk(root, a, 0);
		if (!(*pte & PTE_U) || (write && !(*pte & PTE_W)))
			return 0;
	}
	return 1;
}
