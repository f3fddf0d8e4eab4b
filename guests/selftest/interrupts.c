/*
 * interrupts: the CLINT's machine timer and software interrupts, a
 * supervisor software interrupt delegated to S, the Sstc supervisor timer
 * (stimecmp, enabled by menvcfg.STCE), wfi waking on a pending interrupt,
 * and M interrupts being taken in S whatever mstatus.MIE says
 * (priv spec 3.1.6.1, 3.1.9, 3.2.1, 3.3.3; Sstc spec).
 */
#include "selftest.h"

#define TIMER_DELTA 1000   /* 100 us at 10 MHz */

static int take_m_interrupt(unsigned long mie_bit, void (*raise)(void))
{
	unsigned long count = last_irq.count;

	csr_write(CSR_MIE, mie_bit);
	raise();
	csr_set(CSR_MSTATUS, MSTATUS_MIE);
	int arrived = wait_until_irq_count(count + 1);
	csr_clear(CSR_MSTATUS, MSTATUS_MIE);
	csr_write(CSR_MIE, 0);
	return arrived;
}

static void raise_mtimer(void)
{
	mmio_write64(CLINT_MTIMECMP(0), mtime_now() + TIMER_DELTA);
}

static void raise_msoft(void)
{
	mmio_write32(CLINT_MSIP(0), 1);
}

static void machine_interrupts(void)
{
	mmio_write64(CLINT_MTIMECMP(0), 0);
	CHECK_EQ("mip.MTIP while mtime >= mtimecmp", MIP_MTIP, csr_read(CSR_MIP) & MIP_MTIP);
	mmio_write64(CLINT_MTIMECMP(0), ~0UL);
	CHECK_EQ("mip.MTIP clear while mtime < mtimecmp", 0, csr_read(CSR_MIP) & MIP_MTIP);

	CHECK("machine timer interrupt arrives", take_m_interrupt(MIP_MTIP, raise_mtimer));
	CHECK_EQ("machine timer: mcause", CAUSE_INTERRUPT | IRQ_M_TIMER, last_irq.cause);
	CHECK_EQ("machine timer: taken in M", PRV_M, last_irq.level);

	mmio_write32(CLINT_MSIP(0), 1);
	CHECK_EQ("mip.MSIP follows msip", MIP_MSIP, csr_read(CSR_MIP) & MIP_MSIP);
	mmio_write32(CLINT_MSIP(0), 0);
	CHECK_EQ("mip.MSIP clears with msip", 0, csr_read(CSR_MIP) & MIP_MSIP);
	CHECK("machine software interrupt arrives", take_m_interrupt(MIP_MSIP, raise_msoft));
	CHECK_EQ("machine software: mcause", CAUSE_INTERRUPT | IRQ_M_SOFT, last_irq.cause);
	CHECK_EQ("msip cleared by the handler", 0, mmio_read32(CLINT_MSIP(0)));
}

/* In S with SIE = 0: an M interrupt must still be taken (to M). */
static long s_raise_msoft(long unused)
{
	unsigned long count = last_irq.count;

	csr_clear(CSR_SSTATUS, MSTATUS_SIE);
	mmio_write32(CLINT_MSIP(0), 1);
	return wait_until_irq_count(count + 1) + unused;
}

static void m_interrupt_in_s(void)
{
	csr_write(CSR_MIE, MIP_MSIP);
	csr_clear(CSR_MSTATUS, MSTATUS_MIE);
	long arrived = run_in_mode(PRV_S, s_raise_msoft, 0);
	csr_write(CSR_MIE, 0);
	CHECK("M interrupt taken in S with mstatus.MIE = 0", arrived);
	CHECK_EQ("M interrupt from S: mcause", CAUSE_INTERRUPT | IRQ_M_SOFT, last_irq.cause);
	CHECK_EQ("M interrupt from S: handled in M", PRV_M, last_irq.level);
}

/* In S: raise SSIP ourselves, with SSIE and SIE on; it is delegated here. */
static long s_self_ssip(long unused)
{
	unsigned long count = last_irq.count;

	csr_set(CSR_SIE, MIP_SSIP);
	csr_set(CSR_SSTATUS, MSTATUS_SIE);
	csr_set(CSR_SIP, MIP_SSIP);
	long arrived = wait_until_irq_count(count + 1);
	csr_clear(CSR_SSTATUS, MSTATUS_SIE);
	csr_write(CSR_SIE, 0);
	return arrived + unused;
}

static void supervisor_software(void)
{
	csr_write(CSR_MIDELEG, MIP_SSIP);
	CHECK("delegated SSIP arrives in S", run_in_mode(PRV_S, s_self_ssip, 0));
	CHECK_EQ("SSIP: scause", CAUSE_INTERRUPT | IRQ_S_SOFT, last_irq.cause);
	CHECK_EQ("SSIP: handled in S", PRV_S, last_irq.level);
	CHECK_EQ("SSIP cleared by the S handler", 0, csr_read(CSR_MIP) & MIP_SSIP);
	csr_write(CSR_MIDELEG, 0);
}

/* In S: arm stimecmp = time + delta, wait for the supervisor timer. */
static long s_stimecmp(long unused)
{
	unsigned long count = last_irq.count;

	csr_set(CSR_SIE, MIP_STIP);
	csr_set(CSR_SSTATUS, MSTATUS_SIE);
	csr_write(CSR_STIMECMP, csr_read(CSR_TIME) + TIMER_DELTA);
	long arrived = wait_until_irq_count(count + 1);
	csr_clear(CSR_SSTATUS, MSTATUS_SIE);
	csr_write(CSR_SIE, 0);
	return arrived + unused;
}

static void sstc_timer(void)
{
	csr_set(CSR_MENVCFG, MENVCFG_STCE);
	CHECK_EQ("menvcfg.STCE sticks (Sstc present)", MENVCFG_STCE,
		 csr_read(CSR_MENVCFG) & MENVCFG_STCE);
	csr_write(CSR_STIMECMP, ~0UL);
	CHECK_EQ("stimecmp holds a value", ~0UL, csr_read(CSR_STIMECMP));
	csr_write(CSR_STIMECMP, 0);
	CHECK_EQ("mip.STIP while time >= stimecmp", MIP_STIP, csr_read(CSR_MIP) & MIP_STIP);
	csr_write(CSR_STIMECMP, ~0UL);
	CHECK_EQ("mip.STIP clear while time < stimecmp", 0, csr_read(CSR_MIP) & MIP_STIP);

	csr_write(CSR_MCOUNTEREN, COUNTEREN_TM);
	csr_write(CSR_MIDELEG, MIP_STIP);
	CHECK("Sstc supervisor timer arrives in S", run_in_mode(PRV_S, s_stimecmp, 0));
	CHECK_EQ("STIP: scause", CAUSE_INTERRUPT | IRQ_S_TIMER, last_irq.cause);
	CHECK_EQ("STIP: handled in S", PRV_S, last_irq.level);
	csr_write(CSR_MIDELEG, 0);
	csr_write(CSR_MCOUNTEREN, 0);
	csr_clear(CSR_MENVCFG, MENVCFG_STCE);
}

/* wfi returns once an enabled interrupt is pending, even with MIE = 0. */
static void wfi_wakeup(void)
{
	unsigned long count = last_irq.count;
	unsigned long deadline = mtime_now() + WAIT_TICKS;

	csr_clear(CSR_MSTATUS, MSTATUS_MIE);
	csr_write(CSR_MIE, MIP_MTIP);
	mmio_write64(CLINT_MTIMECMP(0), mtime_now() + TIMER_DELTA);
	while (!(csr_read(CSR_MIP) & MIP_MTIP) && mtime_now() < deadline)
		__asm__ volatile ("wfi");
	unsigned long pending = csr_read(CSR_MIP) & MIP_MTIP;
	mmio_write64(CLINT_MTIMECMP(0), ~0UL);
	csr_write(CSR_MIE, 0);
	CHECK_EQ("wfi wakes up with the timer pending", MIP_MTIP, pending);
	CHECK_EQ("no interrupt taken with MIE = 0", count, last_irq.count);
}

void test_interrupts(void)
{
	group_begin(G_INTERRUPTS);
	machine_interrupts();
	m_interrupt_in_s();
	supervisor_software();
	sstc_timer();
	wfi_wakeup();
	group_ok();
}
