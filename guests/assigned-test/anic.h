/*
 * anic.h: a driver for popek's directly assigned NIC (src/devices/assigned-nic/
 * regs.ts is the datasheet), for bare-metal M-mode guests, on assigned slot 0.
 *
 * The register page is memory: under `--virt trap` it is mapped straight into
 * the guest, so nothing here exits. The driver and the device share
 * descriptor rings in guest RAM; the doorbells (TX_TAIL, RX_TAIL) are plain
 * stores the device's thread notices by polling, so the driver batches: many
 * descriptors per doorbell.
 */
#ifndef ASSIGNED_TEST_ANIC_H
#define ASSIGNED_TEST_ANIC_H

#define ANIC_BASE        0x1000a000UL
#define ANIC_MAX_FRAME   1518
/* Descriptors per ring (a power of two, at most RING_MAX). */
#define ANIC_RING        1024
/* Descriptors anic_tx_queue_many queues between two doorbells. */
#define ANIC_TX_KICK_EVERY 128
/* The posted interrupt: mip/mie bit 16. */
#define IRQ_ANIC         16

extern unsigned char anic_mac[6];

/* Resets and starts the device, every receive buffer posted. 0; -1 without a device, -2 if it refused the rings. */
int anic_init(void);
/* Descriptors free in the TX ring. */
unsigned int anic_tx_free(void);
/* Queues a frame (copied into the slot's buffer) without ringing; anic_tx_kick() rings once for all. */
void anic_tx_queue(const unsigned char *frame, unsigned int len);
/* Queues the slot's buffer as it is (zero copy: the caller filled anic_tx_buffer(slot) before). */
void anic_tx_queue_again(unsigned int len);
/*
 * Queues the next n slots' buffers as they are (as anic_tx_queue_again) in
 * one tight loop, ringing the doorbell every ANIC_TX_KICK_EVERY descriptors
 * (a plain store, no exit: the device sends while the rest are queued) and
 * once at the end.
 */
void anic_tx_queue_many(unsigned int n, unsigned int len);
/* The buffer the next queued frame goes from. */
unsigned char *anic_tx_buffer(unsigned int slot);
/* The doorbell: the device may send everything queued so far. */
void anic_tx_kick(void);
/* Reclaims descriptors the device has sent; how many ended in ERROR so far. */
unsigned long anic_tx_reap(void);
/* The next received frame: its length and *data (valid until anic_rx_done), or 0 when none waits; -1 for a frame the device flagged ERROR. */
int anic_rx_peek(const unsigned char **data);
/* Gives the frame's buffer back to the device (and acknowledges it for the interrupt). */
void anic_rx_done(void);
/* Raises the posted interrupt while a received frame waits unacknowledged (0: never). */
void anic_rx_irq(int on);
/* Device status word (RUNNING 1, FAILED 2) and error code. */
unsigned int anic_status(void);
unsigned int anic_error(void);

/* For the hostile test: rewrites the address of the descriptor `back` places before the tail, */
void anic_test_retarget(unsigned int back, unsigned long addr);
/* and restarts the device with its TX ring at `addr`. */
void anic_test_tx_ring(unsigned long addr);

#endif
