/* user.h: what the programs can call: the system calls (usys.c) and a small library (ulib.c). */
#ifndef LABOS_USER_H
#define LABOS_USER_H

#include "../syscall.h"

typedef unsigned long u64;

/* usys.c: one function per system call. */
void exit(int status) __attribute__((noreturn));
int fork(void);
int exec(const char *prog, const char *arg);
int wait(int *status);
int getpid(void);
int yield(void);
int sleep(long ticks);
long write(const void *buf, long n);
long read(void *buf, long n);
void *sbrk(long delta);
long uptime(void);
long info(int what);
int pin(int hart);
int csrpath(void);
int protect(void *page, int writable);
int timerstat(u64 stats[3]);
volatile u64 *shared(void);
long ipi(int hart);
int blkrw(u64 sector, void *buf, u64 nsect, int write);
int netsend(int nic, const void *frame, long len);
/* stats: frames received, received but dropped (the queue was full), sent. */
int netinfo(int nic, unsigned char mac[6], u64 stats[3]);
int netfind(const char *kind);
long netrecv(int nic, void *buf, long len, long ticks);
int tlbflush(void);

/* ulib.c */
void printf(const char *fmt, ...);
unsigned long strlen(const char *s);
int strcmp(const char *a, const char *b);
long atol(const char *s);
static inline u64 rdtime(void) { u64 v; __asm__ volatile ("rdtime %0" : "=r"(v)); return v; }
static inline u64 rdinstret(void) { u64 v; __asm__ volatile ("rdinstret %0" : "=r"(v)); return v; }

/*
 * A measurement: start one, then result() prints one line
 *   result PROG.TEST n=OPS ns=TOTAL ns_per_op=X instret_per_op=Y
 * (the format README.md documents).
 */
struct timing { u64 t0, i0; };
void timing_start(struct timing *t);
void result(const char *prog, const char *test, u64 ops, struct timing *t);
u64 ticks_to_ns(u64 ticks);
long arg_or(const char *arg, long dflt);
/* Stays on the hart it runs on: rdinstret counts per hart, so a measurement must not migrate. */
void pin_here(void);

/* The programs (one file each); main.c dispatches on the name. */
int init_main(const char *arg);
int nanobench_main(const char *arg);
int cpubench_main(const char *arg);
int forkbench_main(const char *arg);
int smpbench_main(const char *arg);
int diskperf_main(const char *arg);
int netperf_main(const char *arg);
int ping_main(const char *arg);
int echo_main(const char *arg);
#endif
