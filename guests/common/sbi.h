/*
 * sbi.h: what an S-mode guest needs to call its SBI firmware (SBI spec v2.0):
 * the extension and function ids the guests use, the error codes and HSM
 * states they check, and the call itself.
 *
 * sbi_call is inline so that a call site is just the ecall and its
 * registers: exitbench times SBI calls and counts their instructions.
 * The wrappers in sbi.c are ordinary functions.
 */
#ifndef GUESTS_SBI_H
#define GUESTS_SBI_H

/* Extension ids (a7) and function ids (a6). */
#define SBI_EXT_LEGACY_PUTCHAR    0x01		/* legacy console_putchar (ch. 5) */
#define SBI_EXT_BASE              0x10		/* ch. 4 */
#define SBI_BASE_GET_SPEC_VERSION 0
#define SBI_BASE_PROBE_EXT        3
#define SBI_EXT_TIME              0x54494D45	/* "TIME", ch. 6 */
#define SBI_TIME_SET_TIMER        0
#define SBI_EXT_IPI               0x735049	/* "sPI", ch. 7 */
#define SBI_IPI_SEND_IPI          0
#define SBI_EXT_HSM               0x48534D	/* "HSM", ch. 9 */
#define SBI_HSM_HART_START        0
#define SBI_HSM_HART_STOP         1
#define SBI_HSM_HART_GET_STATUS   2
#define SBI_EXT_SRST              0x53525354	/* "SRST", ch. 10 */
#define SBI_SRST_RESET            0
#define SBI_EXT_DBCN              0x4442434E	/* "DBCN", ch. 12 */
#define SBI_DBCN_WRITE            0

/* SRST system_reset: reset type and reason (ch. 10). */
#define SBI_SRST_SHUTDOWN         0
#define SBI_SRST_NO_REASON        0
#define SBI_SRST_SYSTEM_FAILURE   1

/* Standard error codes (ch. 3) the guests check. */
#define SBI_ERR_INVALID_PARAM     (-3)
#define SBI_ERR_ALREADY_AVAILABLE (-6)

/* HSM hart states (ch. 9). */
#define SBI_HSM_STARTED           0
#define SBI_HSM_STOPPED           1

struct sbiret {
	long error;
	long value;
};

/*
 * Calling convention (ch. 3): a7 = EID, a6 = FID, a0..a5 arguments (three
 * are enough here); the firmware returns a0 = error, a1 = value.
 */
static inline struct sbiret sbi_call(long eid, long fid, long a0, long a1, long a2)
{
	register long r_a0 __asm__("a0") = a0;
	register long r_a1 __asm__("a1") = a1;
	register long r_a2 __asm__("a2") = a2;
	register long r_a6 __asm__("a6") = fid;
	register long r_a7 __asm__("a7") = eid;

	__asm__ volatile ("ecall"
			  : "+r"(r_a0), "+r"(r_a1)
			  : "r"(r_a2), "r"(r_a6), "r"(r_a7)
			  : "memory");
	return (struct sbiret){ r_a0, r_a1 };
}

/* sbi.c */
long sbi_probe(long eid);
void sbi_set_timer(unsigned long stime);
struct sbiret sbi_hart_start(unsigned long hart, unsigned long start, unsigned long opaque);
struct sbiret sbi_hart_get_status(unsigned long hart);
void sbi_hart_stop(void) __attribute__((noreturn));
void sbi_shutdown(unsigned long reason) __attribute__((noreturn));

#endif
