/*
 * usys.c: the system calls as C functions. Each puts its number in a7 and
 * executes ecall; the kernel's answer is in a0 (syscall.h has the list).
 */
#include "user.h"

static long sc(long n, long a0, long a1, long a2, long a3)
{
	register long r0 __asm__("a0") = a0;
	register long r1 __asm__("a1") = a1;
	register long r2 __asm__("a2") = a2;
	register long r3 __asm__("a3") = a3;
	register long r7 __asm__("a7") = n;

	__asm__ volatile ("ecall" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r3), "r"(r7) : "memory");
	return r0;
}

void exit(int status)
{
	sc(SYS_exit, status, 0, 0, 0);
	for (;;)
		;
}

int fork(void) { return (int)sc(SYS_fork, 0, 0, 0, 0); }
int exec(const char *prog, const char *arg) { return (int)sc(SYS_exec, (long)prog, (long)arg, 0, 0); }
int wait(int *status) { return (int)sc(SYS_wait, (long)status, 0, 0, 0); }
int getpid(void) { return (int)sc(SYS_getpid, 0, 0, 0, 0); }
int yield(void) { return (int)sc(SYS_yield, 0, 0, 0, 0); }
int sleep(long ticks) { return (int)sc(SYS_sleep, ticks, 0, 0, 0); }
long write(const void *buf, long n) { return sc(SYS_write, (long)buf, n, 0, 0); }
long read(void *buf, long n) { return sc(SYS_read, (long)buf, n, 0, 0); }
void *sbrk(long delta) { return (void *)sc(SYS_sbrk, delta, 0, 0, 0); }
long uptime(void) { return sc(SYS_uptime, 0, 0, 0, 0); }
long info(int what) { return sc(SYS_info, what, 0, 0, 0); }
int pin(int hart) { return (int)sc(SYS_pin, hart, 0, 0, 0); }
int csrpath(void) { return (int)sc(SYS_csrpath, 0, 0, 0, 0); }
int protect(void *page, int writable) { return (int)sc(SYS_protect, (long)page, writable, 0, 0); }
int timerstat(u64 stats[3]) { return (int)sc(SYS_timerstat, (long)stats, 0, 0, 0); }
volatile u64 *shared(void) { return (volatile u64 *)sc(SYS_shared, 0, 0, 0, 0); }
long ipi(int hart) { return sc(SYS_ipi, hart, 0, 0, 0); }
int blkrw(u64 sector, void *buf, u64 nsect, int write)
{
	return (int)sc(SYS_blkrw, (long)sector, (long)buf, (long)nsect, write);
}
int netsend(int nic, const void *frame, long len) { return (int)sc(SYS_netsend, nic, (long)frame, len, 0); }
int netinfo(int nic, unsigned char mac[6], u64 stats[3]) { return (int)sc(SYS_netinfo, nic, (long)mac, (long)stats, 0); }
int netfind(const char *kind) { return (int)sc(SYS_netfind, (long)kind, 0, 0, 0); }
long netrecv(int nic, void *buf, long len, long ticks) { return sc(SYS_netrecv, nic, (long)buf, len, ticks); }
int tlbflush(void) { return (int)sc(SYS_tlbflush, 0, 0, 0, 0); }
