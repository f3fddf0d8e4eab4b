/*
 * hsm-pingpong: SBI HSM hart_stop / hart_start, many rounds in a row
 * (SBI spec 9). The boot hart starts its partner (hart id ^ 1) with a new
 * opaque value each round; the partner records a0 and a1, counts its
 * arrival and calls hart_stop (start.S). The boot hart checks that a0 is
 * the partner's id, a1 the round's opaque value, and that no instruction
 * after the partner's hart_stop ecall ever ran.
 *
 * Odd rounds wait until hart_get_status reads STOPPED before starting the
 * partner again; even rounds call hart_start at once, as soon as the
 * partner has arrived, and retry while the firmware answers
 * ALREADY_AVAILABLE (still STARTED) or INVALID_PARAM (STOP_PENDING, the
 * answer OpenSBI gives). That second way is what a firmware whose
 * hart_stop marks a hart STOPPED before the hart has really stopped gets
 * wrong.
 *
 * Prints one line and shuts down through SBI on success; on failure prints
 * `hsm-pingpong: FAIL ...` and exits 1 through the sifive_test finisher
 * (OpenSBI's SRST shutdown would end with status 0 whatever the reason).
 */
#include "console.h"
#include "riscv.h"
#include "sbi.h"

#define ROUNDS      200
/* A full 64-bit value, so the upper half of a1 is checked too. */
#define OPAQUE_BASE 0x0badc0de00000000UL
/* The longest the boot hart waits for one step, in ticks of the 10 MHz timebase (10 s). */
#define WAIT_TICKS  (10UL * MTIME_HZ)

void secondary_entry(void);

/* Written by the partner in start.S. */
volatile unsigned long seen_hart;
volatile unsigned long seen_opaque;
volatile unsigned long arrivals;
volatile unsigned long ran_after_stop;

static unsigned long rdtime(void)
{
	unsigned long t;

	__asm__ volatile ("rdtime %0" : "=r"(t));
	return t;
}

static void __attribute__((noreturn)) fail(const char *what, unsigned long round, long detail)
{
	console_puts("hsm-pingpong: FAIL round ");
	console_put_dec(round);
	console_puts(": ");
	console_puts(what);
	console_puts(" (");
	console_put_sdec(detail);
	console_puts(")\n");
	finisher_exit(1);
}

/* Polls hart_get_status until the partner reads STOPPED. */
static void wait_stopped(unsigned long partner, unsigned long round)
{
	unsigned long until = rdtime() + WAIT_TICKS;

	for (;;) {
		struct sbiret r = sbi_hart_get_status(partner);

		if (r.error != 0)
			fail("hart_get_status failed", round, r.error);
		if (r.value == SBI_HSM_STOPPED)
			return;
		if (rdtime() > until)
			fail("the partner never read STOPPED; last state", round, r.value);
	}
}

/* hart_start, retried while the partner is still STARTED or in transition. */
static void start_partner(unsigned long partner, unsigned long opaque, unsigned long round)
{
	unsigned long until = rdtime() + WAIT_TICKS;

	for (;;) {
		struct sbiret r = sbi_hart_start(partner, (unsigned long)secondary_entry, opaque);

		if (r.error == 0)
			return;
		if (r.error != SBI_ERR_ALREADY_AVAILABLE && r.error != SBI_ERR_INVALID_PARAM)
			fail("hart_start failed", round, r.error);
		if (rdtime() > until)
			fail("hart_start kept refusing", round, r.error);
	}
}

/* Waits until the partner has arrived `round` times in all. */
static void wait_arrival(unsigned long round)
{
	unsigned long until = rdtime() + WAIT_TICKS;

	while (arrivals != round) {
		if (ran_after_stop != 0)
			fail("code after hart_stop ran", round, (long)ran_after_stop);
		if (rdtime() > until)
			fail("the partner did not arrive; arrivals", round, (long)arrivals);
	}
	__asm__ volatile ("fence r, rw" ::: "memory");	/* acquire: its records after the count */
}

int main(unsigned long hartid)
{
	unsigned long partner = hartid ^ 1;

	console_puts("hsm-pingpong: start\n");
	if (sbi_hart_get_status(partner).error != 0)
		fail("needs two harts (--vcpus 2 / --harts 2)", 0, (long)partner);
	wait_stopped(partner, 0);
	for (unsigned long round = 1; round <= ROUNDS; round++) {
		unsigned long opaque = OPAQUE_BASE + round;

		if (round & 1)
			wait_stopped(partner, round);
		start_partner(partner, opaque, round);
		wait_arrival(round);
		if (seen_hart != partner)
			fail("a0 is not the partner's hart id", round, (long)seen_hart);
		if (seen_opaque != opaque)
			fail("a1 is not the opaque value; low bits", round, (long)(seen_opaque & 0xffffffffUL));
		if (ran_after_stop != 0)
			fail("code after hart_stop ran", round, (long)ran_after_stop);
	}
	wait_stopped(partner, ROUNDS);
	if (ran_after_stop != 0)
		fail("code after hart_stop ran", ROUNDS, (long)ran_after_stop);
	console_puts("hsm-pingpong: ");
	console_put_dec(ROUNDS);
	console_puts(" rounds, a0 = hartid and a1 = opaque each time, nothing ran after hart_stop\n");
	sbi_shutdown(SBI_SRST_NO_REASON);
}
