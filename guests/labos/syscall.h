/*
 * syscall.h: the system call numbers, shared by the kernel (syscall.c) and
 * the programs (user/usys.c). A program puts the number in a7, the arguments
 * in a0..a3 and executes ecall; the result comes back in a0 (-1 on error).
 */
#ifndef LABOS_SYSCALL_H
#define LABOS_SYSCALL_H

#define SYS_exit      1   /* (status) */
#define SYS_fork      2   /* () -> child pid in the parent, 0 in the child */
#define SYS_exec      3   /* (prog, arg): replace this program with prog */
#define SYS_wait      4   /* (&status) -> pid of a child that exited */
#define SYS_getpid    5
#define SYS_yield     6
#define SYS_sleep     7   /* (ticks) */
#define SYS_write     8   /* (buf, len): to the console */
#define SYS_read      9   /* (buf, len): console input, blocks for one line or more */
#define SYS_sbrk      10  /* (delta) -> old break; new pages arrive on first touch */
#define SYS_uptime    11  /* -> ticks since boot */
#define SYS_info      12  /* (what): INFO_* below */
#define SYS_pin       13  /* (hart): run only on that hart (-1: anywhere) */
#define SYS_csrpath   14  /* (): a kernel path that reads and writes S CSRs */
#define SYS_protect   15  /* (va, writable): change one PTE and flush it */
#define SYS_timerstat 16  /* (&stats[3]): timer interrupts taken, latency sum, max */
#define SYS_shared    17  /* () -> address of the page every process shares */
#define SYS_ipi       18  /* (hart) -> rdtime ticks for an IPI round trip, or -1 */
#define SYS_blkrw     19  /* (sector, buf, nsect, write) */
#define SYS_netsend   20  /* (nic, frame, len): a raw Ethernet frame, destination MAC first */
#define SYS_netinfo   21  /* (nic, mac[6], stats[3]): frames received, dropped, sent; -1 without that NIC */
#define SYS_kill      22  /* (pid) */
#define SYS_netfind   23  /* (kind) -> the first NIC of that kind ("" any), or -1 */
#define SYS_tlbflush  25  /* (): drop this hart's cached translations of the caller (nanobench's tlb_walk) */
#define SYS_netrecv   24  /* (nic, buf, len, ticks) -> frame length, 0 if none came in time (ticks 0: no limit) */

#define INFO_HARTS    0   /* harts running the scheduler */
#define INFO_TIMEBASE 1   /* rdtime ticks per second */
#define INFO_FREEPAGES 2  /* free physical pages */
#define INFO_BLKSECTORS 3 /* virtio-blk capacity in 512-byte sectors, 0 if absent */
#define INFO_HART     4   /* the hart running the caller (for the moment) */
#define INFO_BOOTARG  5   /* (what, buf, len): copy /chosen/bootargs' program argument */

#endif
