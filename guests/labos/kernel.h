/*
 * kernel.h: what the files of labos share. labos is popek's teaching kernel:
 * it boots on SBI, runs built-in programs as U-mode processes in their own
 * Sv39 address spaces, schedules them round-robin on every hart, and drives
 * the board's UART, PLIC, virtio-blk, virtio-net and NE2000. Each file is one idea:
 *
 *   start.S      entry of the boot hart and of the secondaries
 *   main.c       the boot sequence, in order
 *   dtb.c        what the device tree says about the board
 *   console.c    the 16550 UART: output, interrupt-driven input; kprintf
 *   spinlock.c   locks on AMOs
 *   kalloc.c     the physical page allocator
 *   vm.c         Sv39 page tables: the kernel map and process maps
 *   proc.c       processes: fork, exec, exit, wait, sleep, wakeup
 *   sched.c      the per-hart scheduler and context switch (swtch.S)
 *   trap.c       traps and interrupts (trapvec.S saves the registers)
 *   timer.c      the tick: SBI TIME or Sstc's stimecmp
 *   syscall.c    the system calls
 *   smp.c        secondaries through HSM, IPIs, TLB shootdowns (RFENCE)
 *   plic.c       the platform interrupt controller, the drivers' handlers
 *   virtio.c     virtio-mmio probing and the split virtqueue
 *   virtio_blk.c, virtio_net.c   the two virtio drivers
 *   ne2000.c     the NE2000 (DP8390) driver
 *   anic.c       the directly assigned NIC's driver (posted interrupt, or polled)
 *   net.c        the network interface the NIC drivers plug into
 *   user/        the programs (linked at USER_BASE, copied in by exec)
 */
#ifndef LABOS_KERNEL_H
#define LABOS_KERNEL_H

#include "riscv.h"
#include "sbi.h"
#include "syscall.h"

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef u64 pte_t;

#define NHART        8          /* harts this kernel has stacks for */
#define NPROC        64
#define KSTACK_PAGES 2          /* each process's kernel stack */
#define HZ           100        /* scheduler ticks per second */

/*
 * The virtual address map (Sv39, priv spec 4.4). The kernel is mapped the
 * same in every page table, so a trap never has to switch satp:
 *
 *   0x0000_0000 .. 0x3fff_ffff  devices, identity (one 1 GiB leaf, no U)
 *   0x4000_0000 .. 0x7fff_ffff  the process (U pages; root entry 1 only)
 *   0x8000_0000 .. RAM end      RAM, identity (1 GiB leaves, no U)
 *
 * Inside the process's gigabyte:
 *
 *   USER_BASE      the program image (user/, copied in by exec), then
 *                  its heap, grown by sbrk and filled on page fault
 *   USER_SHARED    one page all processes can map (smpbench's counter)
 *   USTACK_TOP     the stack grows down from here (USTACK_PAGES mapped)
 */
#define USER_BASE     0x40000000UL
#define USER_SHARED   0x7ff00000UL
#define USTACK_TOP    0x7fff0000UL
#define USTACK_PAGES  4
#define USER_TOP      0x80000000UL

#define PGROUNDUP(a)   (((a) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define PGROUNDDOWN(a) ((a) & ~(PAGE_SIZE - 1))

/* dtb.c: the board, as the device tree describes it. */
#define MAX_VIRTIO 8
#define MAX_NE2000 4
#define MAX_ANIC 4
#define IRQ_POSTED 16             /* mip/sie bit of the assigned NIC's posted interrupt (anic.c) */
struct board {
	u64 ram_base, ram_size;
	int harts;
	u64 timebase;             /* Hz of rdtime */
	int sstc;                 /* riscv,isa names Sstc: stimecmp exists */
	u64 uart_base;
	u32 uart_irq;
	u64 plic_base;
	int plic_ctx[NHART];      /* the S-mode PLIC context of each hart, or -1 */
	int nvirtio;
	u64 virtio_base[MAX_VIRTIO];
	u32 virtio_irq[MAX_VIRTIO];
	int nne2000;              /* popek's lab NE2000 cards ("popek,ne2000") */
	u64 ne2000_base[MAX_NE2000];
	u32 ne2000_irq[MAX_NE2000];
	int nanic;                /* popek's directly assigned NICs ("popek,assigned-nic") */
	u64 anic_base[MAX_ANIC];
	u64 finisher_base;        /* sifive,test0, or 0 */
	char bootargs[128];
	int bootargs_too_long;    /* /chosen/bootargs did not fit: ignored */
};
extern struct board board;
void dtb_parse(const void *fdt);
void poweroff(int failed) __attribute__((noreturn));

/* spinlock.c */
struct spinlock {
	u32 locked;
	int hart;                 /* holder, for the "already held" check */
	const char *name;
};
void initlock(struct spinlock *lk, const char *name);
void acquire(struct spinlock *lk);
void release(struct spinlock *lk);
int holding(struct spinlock *lk);
void push_off(void);
void pop_off(void);

/* console.c */
void console_init(void);
void console_putc(int c);
void console_write(const char *s, u64 n);
void console_intr(void *unused);
int console_read(char *dst, int n);
void kprintf(const char *fmt, ...);
void panic(const char *s) __attribute__((noreturn));
void panic_regs(const char *s, u64 a, u64 b, u64 c) __attribute__((noreturn));

/* kalloc.c */
void kinit(void);
void *kalloc(void);
void kfree(void *pa);
u64 kfree_pages(void);

/* string.c */
void *memset(void *dst, int c, unsigned long n);
void *memcpy(void *dst, const void *src, unsigned long n);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, unsigned long n);
unsigned long strlen(const char *s);

/* vm.c */
void kvm_init(void);
void kvm_inithart(void);
pte_t *uvm_create(void);
int uvm_map(pte_t *root, u64 va, u64 pa, u64 perm);
pte_t *uvm_walk(pte_t *root, u64 va, int alloc);
u64 uvm_grow(pte_t *root, u64 oldsz, u64 newsz);
u64 uvm_shrink(pte_t *root, u64 oldsz, u64 newsz);
int uvm_copy(pte_t *from, pte_t *to);
void uvm_free(pte_t *root);
int uvm_check(pte_t *root, u64 va, u64 len, int write);
u64 satp_for(pte_t *root, u64 asid);
u64 kernel_satp(void);
extern u64 asid_max;

/* proc.c, sched.c */
enum procstate { UNUSED, USED, SLEEPING, RUNNABLE, RUNNING, ZOMBIE };

struct context {                  /* callee-saved registers, for swtch.S */
	u64 ra, sp, s[12];
};

struct trapframe {                /* trapvec.S's layout: x1..x31 at their number */
	u64 x[32];                /* x[0] unused */
	u64 sepc;
	u64 sstatus;
};

struct proc {
	struct spinlock lock;
	enum procstate state;     /* p->lock */
	void *chan;               /* sleeping on this (p->lock) */
	int killed;
	int xstate;               /* exit status for wait */
	int pid;
	int pin;                  /* -1, or the only hart it may run on */
	struct proc *parent;      /* wait_lock */
	u64 asid;                 /* 0: flush the whole TLB when it runs */
	u64 ran_on;               /* bit per hart whose TLB may hold its translations */
	u64 kstack;               /* top of its kernel stack */
	struct trapframe *tf;     /* on its kernel stack */
	pte_t *pagetable;
	u64 sz;                   /* bytes from USER_BASE: image + heap */
	u64 heap_start;           /* sbrk may not go below */
	struct context context;
	char name[16];
};

struct cpu {
	struct proc *proc;        /* running here, or 0 */
	struct context context;   /* the scheduler's */
	int noff;                 /* depth of push_off */
	int intena;               /* were interrupts on before push_off? */
	volatile int started;
};

extern struct cpu cpus[NHART];
extern struct proc proc[NPROC];

static inline int hartid(void)
{
	u64 tp;
	__asm__ volatile ("mv %0, tp" : "=r"(tp));
	return (int)tp;
}
static inline struct cpu *mycpu(void) { return &cpus[hartid()]; }
struct proc *myproc(void);

void procinit(void);
int spawn(const char *prog, const char *arg, int pin);
int fork(void);
int exec(const char *prog, const char *arg);
void exit(int status) __attribute__((noreturn));
int wait(int *status);
int kill(int pid);
void sleep(void *chan, struct spinlock *lk);
void wakeup(void *chan);
void yield(void);
void kick_idle(void);
void scheduler(void) __attribute__((noreturn));
void sched(void);
void usertrapret(void) __attribute__((noreturn));
u64 user_sstatus(void);
int procs_alive(void);
void swtch(struct context *old, struct context *new);
void userret(struct trapframe *tf) __attribute__((noreturn));

/* trap.c, timer.c */
void trapinit_hart(void);
int fault_in(struct proc *p, u64 va);
extern volatile u64 ticks;
void timer_init(void);
void timer_init_hart(void);
void timer_sleep(u64 n);
extern int boot_hart;
void timer_intr(void);
u64 rdtime(void);
u64 rdinstret(void);
struct timer_stats { u64 n, sum, max; };
void timer_stats(struct timer_stats *out);

/* syscall.c */
void syscall(struct proc *p);

/* smp.c */
void smp_start(u64 boot_hart);
void secondary_main(u64 hart);
void ipi_intr(void);
void tlb_shootdown(struct proc *p, u64 va, u64 len);
long ipi_roundtrip(int target);
void *shared_page(void);

/* plic.c */
void plic_init(void);
void plic_inithart(void);
void plic_register(u32 irq, void (*fn)(void *arg), void *arg);
void plic_intr(void);

/* virtio.c, virtio_blk.c, virtio_net.c */
void virtio_probe(void);
int blk_present(void);
u64 blk_capacity(void);
int blk_rw(u64 sector, void *buf, u32 nsect, int write);

/* ne2000.c */
void ne2000_probe(void);

/* anic.c */
void anic_probe(void);
void anic_intr(void);
void anic_tick(void);
void anic_flush(void);

/* net.c: the network interface the NIC drivers plug into */
#define ETH_FRAME_MAX 1514        /* destination MAC to payload, no FCS */
struct nic;
struct net_stats { u64 rx_frames, rx_dropped, tx_frames; };
struct nic *net_attach(const char *kind, const u8 mac[6],
		       int (*send)(void *dev, const void *frame, u32 len),
		       void (*rx_room)(void *dev), void *dev);
void net_set_poll(struct nic *n, void (*poll)(void *dev));
int net_full(struct nic *n);
void net_input(struct nic *n, const void *frame, u32 len);
int net_find(const char *kind);
int net_send(int nic, const void *frame, u32 len);
int net_recv(int nic, void *dst, u32 cap, u64 timeout);
int net_info(int nic, u8 mac[6], struct net_stats *st);
void net_tick(void);

/* sbi_ext.c: the SBI calls only labos makes */
void sbi_ipi(u64 hart_mask);
void sbi_rfence_vma_asid(u64 hart_mask, u64 va, u64 size, u64 asid);
void sbi_rfence_vma(u64 hart_mask, u64 va, u64 size);

/* usercode.S: the programs' image, linked at USER_BASE (user/user.ld). */
extern const char user_image[], user_image_end[];

#endif
