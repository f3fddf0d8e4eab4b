/*
 * proc.c: processes, in xv6's shape: a fixed table, one lock per process,
 * and wait_lock for the parent links. A process is born by fork (a copy of
 * its parent) or by spawn (the kernel's way to start init), changes its
 * program with exec, and ends with exit; its parent collects it with wait.
 *
 * Each process has its own kernel stack (kstacks below). Its trap frame sits
 * at the top of that stack (trapvec.S), its saved kernel registers in
 * p->context when it is not running (sched.c).
 */
#include "kernel.h"
#include "asm.h"

#define KSTACK_BYTES 8192
#define EXEC_NAME_MAX 16
#define EXEC_ARG_MAX  128	/* = sizeof(board.bootargs): init gets the whole command line */

struct proc proc[NPROC];
static struct proc *initproc;
static struct spinlock pid_lock, wait_lock;
static int nextpid = 1;
static u64 nextasid = 1;
static char kstacks[NPROC][KSTACK_BYTES] __attribute__((aligned(16)));

void procinit(void)
{
	initlock(&pid_lock, "pid");
	initlock(&wait_lock, "wait");
	for (int i = 0; i < NPROC; i++) {
		initlock(&proc[i].lock, "proc");
		proc[i].kstack = (u64)kstacks[i + 1];	/* top: stacks grow down */
		proc[i].tf = (struct trapframe *)(proc[i].kstack - 16 - TF_BYTES);
	}
}

/*
 * The process this kernel code runs for, found from the stack it runs on:
 * each process has a kernel stack of its own, so the answer stays right
 * even if the process moves to another hart meanwhile, and costs no CSR
 * access (xv6 reads mycpu()->proc with interrupts off instead: three CSR
 * accesses, each a VM exit under a hypervisor, on every system call). The
 * schedulers run on the harts' boot stacks: 0 there.
 */
struct proc *myproc(void)
{
	u64 sp, base = (u64)kstacks;

	__asm__ volatile ("mv %0, sp" : "=r"(sp));
	if (sp <= base || sp > base + sizeof(kstacks))
		return 0;
	return &proc[(sp - base - 1) / KSTACK_BYTES];
}

/*
 * A fresh ASID for a new address space, so that switching to it needs no
 * TLB flush; once they run out, 0, which means "flush on every switch".
 */
static u64 alloc_asid(void)
{
	acquire(&pid_lock);
	u64 a = nextasid <= asid_max ? nextasid++ : 0;
	release(&pid_lock);
	return a;
}

static void forkret(void);

/* An UNUSED slot, returned USED with p->lock held; 0 if the table is full. */
static struct proc *allocproc(void)
{
	for (struct proc *p = proc; p < &proc[NPROC]; p++) {
		acquire(&p->lock);
		if (p->state != UNUSED) {
			release(&p->lock);
			continue;
		}
		acquire(&pid_lock);
		p->pid = nextpid++;
		release(&pid_lock);
		p->state = USED;
		p->killed = 0;
		p->pin = -1;
		p->ran_on = 0;
		p->pagetable = 0;
		memset(&p->context, 0, sizeof(p->context));
		p->context.ra = (u64)forkret;
		p->context.sp = (u64)p->tf;	/* the kernel stack is below the frame */
		return p;
	}
	return 0;
}

/* Returns a slot to UNUSED; p->lock held. */
static void freeproc(struct proc *p)
{
	if (p->pagetable)
		uvm_free(p->pagetable);
	p->pagetable = 0;
	p->sz = 0;
	p->pid = 0;
	p->parent = 0;
	p->name[0] = 0;
	p->chan = 0;
	p->state = UNUSED;
}

/* A new process's first return to U: the scheduler left p->lock held for it. */
static void forkret(void)
{
	release(&myproc()->lock);
	usertrapret();
}

/*
 * Builds a fresh address space running `prog` (user/ dispatches on the
 * name): the whole program image at USER_BASE, the stack at USTACK_TOP with
 * the two strings on it, a0 = name and a1 = arg. Then swaps it in.
 */
static int exec_in(struct proc *p, const char *prog, const char *arg)
{
	char name[EXEC_NAME_MAX], argbuf[EXEC_ARG_MAX];
	u64 imgsz = (u64)(user_image_end - user_image);

	if (strlen(prog) >= EXEC_NAME_MAX || strlen(arg) >= EXEC_ARG_MAX)
		return -1;
	memcpy(name, prog, strlen(prog) + 1);	/* they may live in the old address space */
	memcpy(argbuf, arg, strlen(arg) + 1);
	pte_t *pt = uvm_create();
	if (!pt || uvm_grow(pt, 0, PGROUNDUP(imgsz)) == 0)
		goto bad;
	for (u64 off = 0; off < imgsz; off += PAGE_SIZE) {
		pte_t *pte = uvm_walk(pt, USER_BASE + off, 0);
		u64 n = imgsz - off < PAGE_SIZE ? imgsz - off : PAGE_SIZE;
		memcpy((void *)((*pte >> PTE_PPN_SHIFT) << PAGE_SHIFT), user_image + off, n);
	}
	for (u64 a = USTACK_TOP - USTACK_PAGES * PAGE_SIZE; a < USTACK_TOP; a += PAGE_SIZE) {
		void *page = kalloc();
		if (!page || uvm_map(pt, a, (u64)page, PTE_R | PTE_W | PTE_U) < 0)
			goto bad;
	}
	/* The strings go on the new stack: write them through the kernel map. */
	pte_t *top = uvm_walk(pt, USTACK_TOP - PAGE_SIZE, 0);
	char *kpage = (char *)((*top >> PTE_PPN_SHIFT) << PAGE_SHIFT);
	memcpy(kpage + PAGE_SIZE - EXEC_NAME_MAX, name, EXEC_NAME_MAX);
	memcpy(kpage + PAGE_SIZE - EXEC_NAME_MAX - EXEC_ARG_MAX, argbuf, EXEC_ARG_MAX);

	pte_t *old = p->pagetable;
	p->pagetable = pt;
	p->asid = alloc_asid();
	p->ran_on = 0;
	p->sz = p->heap_start = PGROUNDUP(imgsz);
	memset(p->tf, 0, sizeof(*p->tf));
	p->tf->sstatus = user_sstatus();
	p->tf->sepc = USER_BASE;
	p->tf->x[10] = USTACK_TOP - EXEC_NAME_MAX;
	p->tf->x[11] = USTACK_TOP - EXEC_NAME_MAX - EXEC_ARG_MAX;
	p->tf->x[2] = USTACK_TOP - EXEC_NAME_MAX - EXEC_ARG_MAX - 16;
	memcpy(p->name, name, EXEC_NAME_MAX);
	/* Running on the new map from here: the old one may be freed. */
	csr_write(CSR_SATP, satp_for(pt, p->asid));
	if (p->asid == 0)
		__asm__ volatile ("sfence.vma zero, zero" ::: "memory");
	p->ran_on |= 1UL << hartid();
	if (old)
		uvm_free(old);
	return 0;
bad:
	if (pt)
		uvm_free(pt);
	return -1;
}

int exec(const char *prog, const char *arg)
{
	return exec_in(myproc(), prog, arg);
}

/* The kernel starts init this way: a process with no parent, already exec'd. */
int spawn(const char *prog, const char *arg, int pin)
{
	struct proc *p = allocproc();

	if (!p)
		panic("spawn: no free process slot");
	p->pin = pin;
	int r = exec_in(p, prog, arg);
	csr_write(CSR_SATP, kernel_satp());
	if (r < 0)
		panic("spawn: exec failed");
	initproc = p;
	p->state = RUNNABLE;
	kick_idle();
	release(&p->lock);
	return p->pid;
}

int fork(void)
{
	struct proc *p = myproc(), *np = allocproc();

	if (!np)
		return -1;
	np->pagetable = uvm_create();
	if (!np->pagetable || uvm_copy(p->pagetable, np->pagetable) < 0) {
		freeproc(np);
		release(&np->lock);
		return -1;
	}
	np->asid = alloc_asid();
	np->sz = p->sz;
	np->heap_start = p->heap_start;
	*np->tf = *p->tf;
	np->tf->x[10] = 0;	/* fork returns 0 in the child */
	np->pin = p->pin;
	memcpy(np->name, p->name, sizeof(p->name));
	int pid = np->pid;
	release(&np->lock);

	acquire(&wait_lock);
	np->parent = p;
	release(&wait_lock);
	acquire(&np->lock);
	np->state = RUNNABLE;
	kick_idle();
	release(&np->lock);
	return pid;
}

/* Gives p's children to init; wait_lock held. */
static void reparent(struct proc *p)
{
	for (struct proc *pp = proc; pp < &proc[NPROC]; pp++) {
		if (pp->parent == p) {
			pp->parent = initproc;
			wakeup(initproc);
		}
	}
}

/* Ends the calling process; it stays a ZOMBIE until its parent waits. init's end powers off. */
void exit(int status)
{
	struct proc *p = myproc();

	if (p == initproc) {
		kprintf("labos: init exited with status %d, powering off\n", status);
		poweroff(status != 0);
	}
	acquire(&wait_lock);
	reparent(p);
	wakeup(p->parent);
	acquire(&p->lock);
	p->xstate = status;
	p->state = ZOMBIE;
	release(&wait_lock);
	sched();
	panic("exit: a zombie ran");
}

/* Waits for a child to exit; returns its pid and stores its status, or -1 without children. */
int wait(int *status)
{
	struct proc *p = myproc();

	acquire(&wait_lock);
	for (;;) {
		int have_kids = 0;
		for (struct proc *pp = proc; pp < &proc[NPROC]; pp++) {
			if (pp->parent != p)
				continue;
			acquire(&pp->lock);
			have_kids = 1;
			if (pp->state == ZOMBIE) {
				int pid = pp->pid;
				*status = pp->xstate;
				freeproc(pp);
				release(&pp->lock);
				release(&wait_lock);
				return pid;
			}
			release(&pp->lock);
		}
		if (!have_kids || p->killed) {
			release(&wait_lock);
			return -1;
		}
		sleep(p, &wait_lock);
	}
}

int kill(int pid)
{
	for (struct proc *p = proc; p < &proc[NPROC]; p++) {
		acquire(&p->lock);
		if (p->pid == pid && p->state != UNUSED) {
			p->killed = 1;
			if (p->state == SLEEPING) {
				p->state = RUNNABLE;
				kick_idle();
			}
			release(&p->lock);
			return 0;
		}
		release(&p->lock);
	}
	return -1;
}
