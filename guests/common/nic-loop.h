/*
 * nic-loop.h: the runs the bare-metal NIC test programs (ne2000-test,
 * virtio-net-test, assigned-test) share: `peer` (lab frames with another
 * guest on the same switch), `tx N SIZE [MS]` (a timed send to a sink) and
 * `rx N [MS] [irq]` (a timed receive from a source), each with the summary
 * line the tests and benches parse (bench/io-*.ts, tests/e2e). A program
 * gives its driver as a struct nic_ops; the loops are here once.
 *
 * The NICs differ in how often a loop may look at the clock: under --virt
 * trap mtime is a CLINT register, so each look is a VM exit, and a batching
 * driver looks once per batch where the NE2000, whose every access exits
 * anyway, looks once per frame. The ops say which.
 */
#ifndef NIC_LOOP_H
#define NIC_LOOP_H

#include "riscv.h"

#define ETH_HDR        14
#define ETHERTYPE_LAB  0x88b5
/* How long to wait for the network, in mtime ticks (10 MHz). */
#define TIMEOUT_TICKS  (60UL * MTIME_HZ)
/* How often a peer run resends its count. */
#define RESEND_TICKS   (MTIME_HZ / 200)
/* What nic_command returns when args name none of its runs. */
#define NIC_NO_COMMAND (-1)

struct nic_ops {
	/* The peer frames' 4-byte tag ("NE2K", ...: only the first and last bytes are checked) and our MAC. */
	const char *peer_tag;
	const unsigned char *mac;
	/* Largest frame a tx run sends (a SIZE outside ETH_HDR..max_frame sends 64 bytes). */
	unsigned int max_frame;

	/* tx: ticks a run may take without MS; frames between two looks at the clock, and calls of
	 * tx_batch that queued nothing between two looks (0: only frames count). */
	unsigned long tx_limit;
	unsigned long tx_clock_every;
	unsigned long tx_idle_polls;
	/* Writes the run's frames (SIZE bytes each) where tx_batch will send them from. */
	void (*tx_prepare)(unsigned int size);
	/* Sends (or queues and rings for) at most `most` frames: how many, or -1 on a transmit error. */
	long (*tx_batch)(unsigned long most, unsigned int size);
	/* Waits until everything queued has left (0: tx_batch sends synchronously). */
	void (*tx_drain)(unsigned long start, unsigned long limit);
	/* Prints the summary's tail (after "us;") and returns the run's exit code. */
	int (*tx_report)(unsigned long sent);

	/* rx: whether it always sleeps on the interrupt (else only with the word irq); frames between
	 * two looks at the clock while frames flow (0: none, the clock waits for an empty poll), and
	 * empty polls between two looks when not sleeping. */
	int rx_always_irq;
	unsigned long rx_clock_every;
	unsigned long rx_idle_polls;
	/* Hands what was received (a frame, or a batch) to take: how many frames. */
	unsigned int (*rx_poll)(void (*take)(const unsigned char *frame, unsigned int len));
	/* Turns the receive interrupt on (with the timer at `deadline`) or off. */
	void (*rx_irq)(int on, unsigned long deadline);
	/* Called at the first frame with the run's deadline (0: nothing to do). */
	void (*rx_started)(unsigned long deadline);
	/* Sleeps until a frame or `deadline`: 1 if it slept, 0 if a frame came first. */
	int (*rx_wait)(unsigned long deadline);
	/* Prints the summary's tail (after "us;"). */
	void (*rx_report)(unsigned long got);

	/* peer: sends one frame (len bytes); prints the summary's tail (0: none). */
	void (*peer_send)(const unsigned char *frame, unsigned int len);
	void (*peer_report)(void);
};

/* mtime, in ticks of MTIME_HZ. */
static inline unsigned long nic_now(void)
{
	return *(volatile unsigned long *)CLINT_MTIME;
}

/* Runs what args say (peer, tx ..., rx ...) on the NIC: the run's exit code, or NIC_NO_COMMAND. */
int nic_command(const struct nic_ops *ops, const char *args);
/* A lab frame's Ethernet header in f, from src to dst. */
void nic_lab_header(unsigned char *f, const unsigned char *dst, const unsigned char *src);

/* The PLIC (QEMU virt layout), context 0 = hart 0 in M-mode: enables `source`; claims (0: none); completes. */
void nic_plic_enable(unsigned int source);
unsigned int nic_plic_claim(void);
void nic_plic_complete(unsigned int source);

#endif
