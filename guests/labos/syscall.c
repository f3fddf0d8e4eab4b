/*
 * syscall.c: the system calls (numbers in syscall.h). The program's
 * registers are in its trap frame: a7 the number, a0..a3 the arguments, and
 * the result goes back in a0. Every pointer a program passes is checked
 * with uvm_check before the kernel touches it (sstatus.SUM lets the kernel
 * reach U pages at all; the check makes sure they are the caller's).
 */
#include "kernel.h"

#define WRITE_MAX  4096
#define STR_MAX    128
#define A0 10

static u64 arg(int n)
{
	return myproc()->tf->x[A0 + n];
}

/* Copies a NUL-terminated string from the program; -1 if it is not there or too long. */
static int fetchstr(u64 va, char *buf, int max)
{
	struct proc *p = myproc();

	for (int i = 0; i < max; i++) {
		if ((i == 0 || ((va + i) & (PAGE_SIZE - 1)) == 0) &&
		    !uvm_check(p->pagetable, va + i, 1, 0))
			return -1;
		buf[i] = *(const char *)(va + i);
		if (buf[i] == 0)
			return i;
	}
	return -1;
}

static long sys_write(void)
{
	u64 buf = arg(0), len = arg(1);

	if (len > WRITE_MAX || !uvm_check(myproc()->pagetable, buf, len, 0))
		return -1;
	console_write((const char *)buf, len);
	return (long)len;
}

static long sys_read(void)
{
	u64 buf = arg(0), len = arg(1);

	if (len > WRITE_MAX || !uvm_check(myproc()->pagetable, buf, len, 1))
		return -1;
	return console_read((char *)buf, (int)len);
}

static long sys_exec(void)
{
	char prog[STR_MAX], a[STR_MAX];

	if (fetchstr(arg(0), prog, STR_MAX) < 0 || fetchstr(arg(1), a, STR_MAX) < 0)
		return -1;
	if (exec(prog, a) < 0)
		return -1;
	return (long)myproc()->tf->x[A0];	/* exec set a0 for the new program */
}

static long sys_wait(void)
{
	int status = 0;
	u64 addr = arg(0);

	if (addr && !uvm_check(myproc()->pagetable, addr, sizeof(int), 1))
		return -1;
	int pid = wait(&status);
	if (pid >= 0 && addr)
		*(int *)addr = status;
	return pid;
}

/* Grows (or shrinks) the heap. Growing only moves the break: pages come on first touch (trap.c). */
static long sys_sbrk(void)
{
	struct proc *p = myproc();
	long delta = (long)arg(0);
	u64 old = p->sz, new = old + delta;

	if (delta < 0 && (u64)-delta > old - p->heap_start)
		return -1;
	if (delta > 0 && USER_BASE + new > USER_SHARED)
		return -1;
	if (delta < 0) {
		uvm_shrink(p->pagetable, old, new);
		tlb_shootdown(p, USER_BASE + PGROUNDUP(new), PGROUNDUP(old) - PGROUNDUP(new));
	}
	p->sz = new;
	return (long)(USER_BASE + old);
}

static long sys_info(void)
{
	switch (arg(0)) {
	case INFO_HARTS:
		return board.harts;
	case INFO_TIMEBASE:
		return (long)board.timebase;
	case INFO_FREEPAGES:
		return (long)kfree_pages();
	case INFO_BLKSECTORS:
		return blk_present() ? (long)blk_capacity() : 0;
	case INFO_HART:
		return hartid();
	default:
		return -1;
	}
}

static long sys_pin(void)
{
	long h = (long)arg(0);

	if (h >= board.harts || h < -1)
		return -1;
	myproc()->pin = (int)h;
	yield();	/* move there now if this is the wrong hart */
	return 0;
}

/*
 * A kernel path that touches S CSRs the way a real kernel's entry and exit
 * paths do (sscratch, sstatus, sepc, sie): nothing to compute, so its cost
 * is the CSR accesses (and, under a hypervisor, their exits).
 */
static long sys_csrpath(void)
{
	u64 s = csr_read(CSR_SSCRATCH);
	csr_write(CSR_SSCRATCH, s);
	u64 st = csr_read(CSR_SSTATUS);
	csr_write(CSR_SSTATUS, st);
	u64 ie = csr_read(CSR_SIE);
	csr_write(CSR_SIE, ie);
	u64 epc = csr_read(CSR_SEPC);
	csr_write(CSR_SEPC, epc);
	return 0;
}

/* Makes one page of the caller read-only or writable again, and flushes its translation everywhere. */
static long sys_protect(void)
{
	struct proc *p = myproc();
	u64 va = arg(0);

	if ((va & (PAGE_SIZE - 1)) || va == USER_SHARED || !uvm_check(p->pagetable, va, 1, 0))
		return -1;
	pte_t *pte = uvm_walk(p->pagetable, va, 0);
	if (arg(1))
		*pte |= PTE_W;
	else
		*pte &= ~PTE_W;
	tlb_shootdown(p, va, PAGE_SIZE);
	return 0;
}

/* Flushes this hart's TLB entries of the caller's ASID (all of them without one): its next loads walk the page table. */
static long sys_tlbflush(struct proc *p)
{
	if (p->asid)
		__asm__ volatile ("sfence.vma zero, %0" :: "r"(p->asid) : "memory");
	else
		__asm__ volatile ("sfence.vma zero, zero" ::: "memory");
	return 0;
}

static long sys_timerstat(void)
{
	struct timer_stats st;
	u64 addr = arg(0);

	if (!uvm_check(myproc()->pagetable, addr, sizeof(st), 1))
		return -1;
	timer_stats(&st);
	memcpy((void *)addr, &st, sizeof(st));
	return 0;
}

/* Maps the one shared page (smp.c owns it) at USER_SHARED; fork keeps it shared. */
static long sys_shared(void)
{
	struct proc *p = myproc();
	pte_t *pte = uvm_walk(p->pagetable, USER_SHARED, 1);

	if (!pte)
		return -1;
	if (!(*pte & PTE_V) && uvm_map(p->pagetable, USER_SHARED, (u64)shared_page(),
				       PTE_R | PTE_W | PTE_U) < 0)
		return -1;
	return (long)USER_SHARED;
}

static long sys_blkrw(void)
{
	u64 sector = arg(0), buf = arg(1), n = arg(2), write = arg(3);

	if (!blk_present() || n == 0 || n > 128 ||
	    !uvm_check(myproc()->pagetable, buf, n * 512, !write))
		return -1;
	return blk_rw(sector, (void *)buf, (u32)n, write != 0);
}

static long sys_netsend(void)
{
	u64 buf = arg(1), len = arg(2);

	if (len < 14 || len > ETH_FRAME_MAX || !uvm_check(myproc()->pagetable, buf, len, 0))
		return -1;
	return net_send((int)arg(0), (const void *)buf, (u32)len);
}

static long sys_netrecv(void)
{
	u64 buf = arg(1), len = arg(2);

	if (len < 14 || len > ETH_FRAME_MAX || !uvm_check(myproc()->pagetable, buf, len, 1))
		return -1;	/* at least a header: 0 means "nothing came in time" */
	return net_recv((int)arg(0), (void *)buf, (u32)len, arg(3));
}

static long sys_netinfo(void)
{
	u64 mac = arg(1), st = arg(2);
	pte_t *pt = myproc()->pagetable;

	if (!uvm_check(pt, mac, 6, 1) || !uvm_check(pt, st, sizeof(struct net_stats), 1))
		return -1;
	return net_info((int)arg(0), (u8 *)mac, (struct net_stats *)st);
}

static long sys_netfind(void)
{
	char kind[STR_MAX];

	if (fetchstr(arg(0), kind, STR_MAX) < 0)
		return -1;
	return net_find(kind);
}

void syscall(struct proc *p)
{
	u64 n = p->tf->x[17];
	long r;

	switch (n) {
	case SYS_exit:      exit((int)arg(0));
	case SYS_fork:      r = fork(); break;
	case SYS_exec:      r = sys_exec(); break;
	case SYS_wait:      r = sys_wait(); break;
	case SYS_getpid:    r = p->pid; break;
	case SYS_yield:     yield(); r = 0; break;
	case SYS_sleep:     timer_sleep(arg(0)); r = 0; break;
	case SYS_write:     r = sys_write(); break;
	case SYS_read:      r = sys_read(); break;
	case SYS_sbrk:      r = sys_sbrk(); break;
	case SYS_uptime:    r = (long)ticks; break;
	case SYS_info:      r = sys_info(); break;
	case SYS_pin:       r = sys_pin(); break;
	case SYS_csrpath:   r = sys_csrpath(); break;
	case SYS_protect:   r = sys_protect(); break;
	case SYS_timerstat: r = sys_timerstat(); break;
	case SYS_shared:    r = sys_shared(); break;
	case SYS_ipi:       r = ipi_roundtrip((int)arg(0)); break;
	case SYS_blkrw:     r = sys_blkrw(); break;
	case SYS_netsend:   r = sys_netsend(); break;
	case SYS_netinfo:   r = sys_netinfo(); break;
	case SYS_kill:      r = kill((int)arg(0)); break;
	case SYS_netfind:   r = sys_netfind(); break;
	case SYS_netrecv:   r = sys_netrecv(); break;
	case SYS_tlbflush:  r = sys_tlbflush(p); break;
	default:
		kprintf("labos: pid %d: unknown system call %lu\n", p->pid, n);
		r = -1;
	}
	p->tf->x[A0] = (u64)r;
}
